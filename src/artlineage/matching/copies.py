"""Copy detection that survives crops, mirrors, rotations and overlays: a two-stage cascade.

Why this method (the literature, then what we measured on real photographs in
``benchmarks/bench_copies.py``; docs/copy-detection.md has the tables):

- A global perceptual hash (pHash, PDQ) summarises the whole frame, so it cannot match a crop: on
  real photos a 60 %-area crop lands 12-24 bits from the original's pHash, where unrelated photos
  already sit (10-14 bits for the nearest of a few thousand). Rotation by 10 degrees does the same.
- Hashing *many windows* of each registered work (the full frame, the centre and edge squares that
  training pipelines cut, sub-windows at 72-100 % of each side on a 3x3 grid of positions) turns
  "is the query a crop" into "is the query near one of the windows": the approach of multi-window /
  multi-crop hashing used in near-duplicate detection (e.g. Ke, Sukthankar & Huston 2004 use local
  features; Douze et al. 2009 "Evaluation of GIST descriptors for web-scale image search" use
  multiple crops of the database image). The query side adds its mirror (cheaper than storing
  mirrored windows) and trims uniform borders (letterboxing, frames).
- Visual words rank candidates too (``_visual_words``): each stored ORB descriptor quantised to a
  24-bit word, an inverted file from words to works, a query voting with its strongest features'
  words. At 10 M works, where millions of unrelated windows sit as close as a hard crop's source,
  a crop still shares dozens of words with its source and a handful with anything else; the two
  rankings' candidates are verified together.
- Hashes only *rank* candidates: among 100 k works many unrelated windows come as close as a hard
  crop. So the nearest ``CANDIDATES`` works are *verified* with local features and a geometric
  check: ORB keypoints (Rublee et al. 2011), Lowe's ratio test, and a RANSAC fit of a similarity
  transform (Fischler & Bolles 1981) — the classic copy-detection verification (Douze, Jégou &
  Schmid 2010; the DISC21 / SSCD baselines re-rank with the same idea). A copy keeps dozens of
  inliers under any of the listed edits; a look-alike photograph of a similar scene keeps a few
  chance matches that agree on no transform. The fitted transform is reported as evidence (scale,
  rotation, mirror, share of the work shown).
- A learned copy descriptor (Meta's SSCD) would rank better, but needs model weights that cannot be
  shipped or downloaded here; the ONNX adapter can add it later as a third stage.

Without OpenCV (the ``copies`` extra) stage 2 is unavailable and a candidate is accepted on its hash
distance alone at ``HASH_ONLY_MAX_DISTANCE``, which keeps precision but loses most hard crops and
rotations (the benchmark prints both columns).

Per registered work: ``len(WINDOWS)`` 64-bit window hashes (8 B each), up to ``MAX_WORK_FEATURES``
ORB features (36 B each) and their visual words' postings (4 B each): about 10.6 KiB, of which the
~1.2 KiB a query touches in bulk (posting lists, and from 500 k works the inverted file over the
coarse windows) is what must stay in memory at 10 M works (docs/copy-detection.md).
"""

from __future__ import annotations

import io
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
from PIL import Image, ImageOps

from ..errors import HashError
from . import _local_features as lf
from . import _visual_words as vw
from .hashing import MAX_PIXELS, content_box, phash_from_gray

HASH_SIDE = 256                 # windows are cut from a greyscale thumbnail this big
FRACTIONS = (1.0, 0.85, 0.72)   # window side fractions (a >= 60 % crop is >= 0.6 on each side)
POSITIONS = (0.0, 0.5, 1.0)     # where a smaller window sits along its axis
# Works verified per query at most, nearest by window hash first. 24 with faiss (a verification is
# one 0.14 ms descriptor match; 12 more candidates find 4 more hard crops in 360 at 100 k works),
# 12 with OpenCV's matcher (0.55 ms each: 24 would cost 31 ms per query at 100 k works, 12 about 25).
CANDIDATES = 24
WORD_CANDIDATES = 8             # works ranked by shared visual words, verified too (see _visual_words)
# From this many works the detector scans only the coarse windows (with visual words): below it the
# full scan costs under ~4 ms and still ranks a few hard crops the words miss (100 k works from real
# pixels: all windows 358/360 copies at 18.7 / 26.5 ms, coarse 355/360 at 12.1 / 19.9 ms).
COARSE_MIN_WORKS = 50_000
CANDIDATES_WITHOUT_FAISS = 12
SCAN_BLOCK = 2048               # works per block of the hash scan
HASH_ONLY_MAX_DISTANCE = 6      # accepted without verification (no OpenCV), or when features fail
MAX_DECODE_SIDE = 2 * lf.FEATURE_SIDE
# The fitted transform must be one of the edits copies go through: >= 60 % of the work shown (0.45
# leaves room for the estimate's error and overlays), rotated at most MAX_ROTATION degrees. Chance
# matches between look-alikes fit wild transforms (a quarter of the work, rotated 40-90 degrees).
MIN_COVERAGE = 0.45
MAX_ROTATION = 20.0
MIN_SCALE, MAX_SCALE = 0.05, 20.0
MIN_FEATURE_SIDE = 256
ORIENTATION_TIE = 2             # plain and mirrored query this close: verify both orientations
FEW_FEATURES = 40               # below this on either side, verification cannot speak: hashes decide
# A query whose window hash is (nearly) the work's own needs less of the inlier-ratio test: shrunken
# copies (thumbnails, 50 % resizes) enlarged for ORB are blurred, and keep 73-80 % of their matches on
# the fit instead of 87-99 %. Measured on 158 real works + 152 look-alikes: every true copy rejected
# only by the ratio at <= 2 bits kept >= 0.73; every look-alike that fit a sane transform sat >= 4
# bits away (the motorcycle stereo frame: 4 bits, 0.61-0.73). A neighbouring frame stays refused.
NEAR_DISTANCE = 2
NEAR_INLIER_RATIO = 0.7


ROTATIONS = (-8.0, 8.0)          # the full frame and the centre square are also hashed rotated


def window_names() -> list[str]:
    names = ["full", "square-start", "square-centre", "square-end"]
    names += [f"{k}@rot{r:+.0f}" for r in ROTATIONS for k in ("full", "square-centre")]
    for fx in FRACTIONS:
        for fy in FRACTIONS:
            if (fx, fy) == (1.0, 1.0) or fx * fy < 0.5:
                continue
            for px in (POSITIONS if fx < 1 else (0.5,)):
                for py in (POSITIONS if fy < 1 else (0.5,)):
                    names.append(f"{fx:.2f}x{fy:.2f}@{px:.1f},{py:.1f}")
    return names


WINDOWS = tuple(window_names())
# The windows a whole frame, a centre square or a rotation lands on: what an inverted file needs to
# hold at 10 M works, where the visual words rank crops (build_ivf(windows=COARSE_WINDOWS)).
COARSE_WINDOWS = tuple(range(4 + 2 * len(ROTATIONS)))


def window_boxes(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Pixel boxes of ``WINDOWS`` for an image of this size (same order as the names)."""
    w, h = width, height
    s = min(w, h)
    boxes = [(0, 0, w, h)]
    for p in (0.0, 0.5, 1.0):
        x0, y0 = int((w - s) * p), int((h - s) * p)
        boxes.append((x0, y0, x0 + s, y0 + s))
    boxes += [boxes[0], boxes[2]] * len(ROTATIONS)     # rotated windows: same boxes, see _window_hashes
    for name in WINDOWS[4 + 2 * len(ROTATIONS):]:
        size, pos = name.split("@")
        fx, fy = (float(v) for v in size.split("x"))
        px, py = (float(v) for v in pos.split(","))
        cw, ch = max(1, round(w * fx)), max(1, round(h * fy))
        x0, y0 = int((w - cw) * px), int((h - ch) * py)
        boxes.append((x0, y0, x0 + cw, y0 + ch))
    return boxes


def _phash(gray: Image.Image) -> int:
    return phash_from_gray(np.asarray(gray.resize((32, 32), Image.BILINEAR), dtype=np.float64))


def _window_hashes(small: Image.Image) -> np.ndarray:
    """pHash of every window of ``WINDOWS``. A rotated window is the box rotated about its centre
    in its own frame, black corners included, as image editors rotate without expanding."""
    out = []
    for name, box in zip(WINDOWS, window_boxes(*small.size)):
        win = small.crop(box)
        if "@rot" in name:
            angle = float(name.rsplit("rot", 1)[1])
            win = win.rotate(angle, Image.BILINEAR)
        out.append(_phash(win))
    return np.array(out, dtype=np.uint64)


# ---- images in ------------------------------------------------------------------------------

def load_image(source: Image.Image | str | os.PathLike[str] | bytes) -> Image.Image:
    """Decode bounded: refuses more than ``MAX_PIXELS``, decodes JPEGs at reduced size; raises
    ``HashError`` for anything unreadable (callers report it per image)."""
    if isinstance(source, Image.Image):
        im = source
        if im.width * im.height > MAX_PIXELS:
            raise HashError(f"{im.width}x{im.height} exceeds {MAX_PIXELS} pixels")
        return im
    name = "<bytes>" if isinstance(source, (bytes, bytearray)) else str(source)
    try:
        im = Image.open(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
        if im.width * im.height > MAX_PIXELS:
            raise HashError(f"{name}: {im.width}x{im.height} exceeds {MAX_PIXELS} pixels")
        if im.format == "JPEG":
            im.draft("L", (MAX_DECODE_SIDE, MAX_DECODE_SIDE))
        im.load()
        return im
    except HashError:
        raise
    except Exception as exc:  # Pillow raises many types for broken files
        raise HashError(f"{name}: {type(exc).__name__}: {exc}") from exc


def _gray_trimmed(image: Image.Image) -> Image.Image:
    """Greyscale, at most ``MAX_DECODE_SIDE``, uniform borders (frames, letterboxing) trimmed."""
    im = image
    if im.mode not in ("L", "RGB"):
        im = im.convert("RGBA").convert("RGB") if ("A" in im.mode or im.mode == "P") else im.convert("RGB")
    gray = im.convert("L")
    if max(gray.size) > MAX_DECODE_SIDE:
        gray = gray.copy()
        gray.thumbnail((MAX_DECODE_SIDE, MAX_DECODE_SIDE), Image.BILINEAR, reducing_gap=2.0)
    box = content_box(np.asarray(gray))
    return gray.crop(box) if box != (0, 0, gray.width, gray.height) else gray


def _thumb(gray: Image.Image, side: int) -> Image.Image:
    if max(gray.size) <= side:
        return gray
    t = gray.copy()
    t.thumbnail((side, side), Image.BILINEAR, reducing_gap=2.0)
    return t


def _feature_view(gray: Image.Image) -> np.ndarray:
    """What ORB sees: at most FEATURE_SIDE, and small images enlarged to MIN_FEATURE_SIDE (ORB's
    31 px patches and 8-level pyramid find almost nothing in a 64 px thumbnail)."""
    if max(gray.size) < MIN_FEATURE_SIDE:
        f = MIN_FEATURE_SIDE / max(gray.size)
        gray = gray.resize((max(1, round(gray.width * f)), max(1, round(gray.height * f))), Image.BICUBIC)
    return np.asarray(_thumb(gray, lf.FEATURE_SIDE))


# ---- fingerprints -----------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkFingerprint:
    """What the copy index stores per registered work."""

    hashes: np.ndarray                 # uint64[len(WINDOWS)]
    features: lf.Features | None       # None without OpenCV

    @property
    def nbytes(self) -> int:
        f = self.features
        return self.hashes.nbytes + (0 if f is None else f.xy.nbytes + f.desc.nbytes + 4)


def fingerprint(image: Image.Image | str | os.PathLike[str] | bytes) -> WorkFingerprint:
    """Window hashes and ORB features of a registered work (raises ``HashError`` when unreadable)."""
    gray = _gray_trimmed(load_image(image))
    small = _thumb(gray, HASH_SIDE)
    hashes = _window_hashes(small)
    feats = None
    if lf.available():
        feats = lf.extract(_feature_view(gray), lf.MAX_WORK_FEATURES)
    return WorkFingerprint(hashes, feats)


@dataclass
class _Query:
    hashes: np.ndarray                  # [plain, mirrored]
    gray: np.ndarray                    # FEATURE_SIDE thumbnail
    _features: dict[bool, lf.Features] = field(default_factory=dict)
    _keypoints: list = field(default_factory=list)

    def plain_mirror_gap(self, row: int, index: "CopyIndex") -> int:
        """Nearest window distance of the plain query minus the mirrored query's, for this row."""
        h = np.asarray(index.hashes[row])
        return int(np.bitwise_count(h ^ self.hashes[0]).min()) - int(np.bitwise_count(h ^ self.hashes[1]).min())

    def features(self, mirrored: bool) -> lf.Features:
        if not self._features:
            self._features[False], self._keypoints = lf.extract_keypoints(self.gray, lf.MAX_QUERY_FEATURES)
        if mirrored not in self._features:
            self._features[True] = lf.mirrored(self.gray, self._keypoints, lf.MAX_QUERY_FEATURES)
        return self._features[mirrored]


def _query(image: Image.Image) -> _Query:
    gray = _gray_trimmed(image)
    small = _thumb(gray, HASH_SIDE)
    hashes = np.array([_phash(small), _phash(ImageOps.mirror(small))], dtype=np.uint64)
    return _Query(hashes, _feature_view(gray))


# ---- results --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CopyEvidence:
    """How a copy was found: the nearest window hash, then (when verified) the fitted transform."""

    method: str                     # "orb+ransac" or "window-hash"
    window: str                     # which registered window the query's hash was nearest
    hash_distance: int              # its pHash Hamming distance (of 64)
    mirrored: bool
    inliers: int | None = None      # matches agreeing on one similarity transform
    matches: int | None = None      # ratio-tested descriptor matches
    scale: float | None = None      # query pixels per work pixel, in the compared thumbnails
    rotation_deg: float | None = None
    coverage: float | None = None   # approximate share of the work's area the query shows
    ranked_by: str = "window-hash"  # which first stage put it among the candidates: or "visual-words"
    shared_words: int | None = None  # visual words the query shares with the work (when that ranked it)


@dataclass(frozen=True)
class CopyMatch:
    work_id: int
    artist_id: int | None
    artist: str
    title: str | None
    score: float                    # 0..1: inliers / (inliers + MIN_INLIERS), or 1 - distance / 64
    distance: int                   # window pHash distance (kept for WorkMatch-style callers)
    evidence: CopyEvidence

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- the index --------------------------------------------------------------------------------

_K = len(WINDOWS)
# Below this many window hashes numpy's scan is as fast and needs no faiss call overhead.
FAISS_MIN_WINDOWS = 50_000
IVF_PROBES = 64          # inverted-file lists visited per query hash (build_ivf)
IVF_MIN_WORKS = 500_000  # copy_index builds an inverted file from this many works on (exact scan below)
MAX_TIED = 4096          # works tied at the k-th distance whose second window is compared


def _codes(hashes: np.ndarray) -> np.ndarray:
    """uint64 hashes as the (n, 8) uint8 rows faiss's binary indexes take (a view, no copy)."""
    return np.ascontiguousarray(hashes).reshape(-1).view(np.uint8).reshape(-1, 8)


class CopyIndex:
    """Per-work window hashes and features, searchable by hash; appended to incrementally."""

    def __init__(self) -> None:
        self.work_ids = np.zeros(0, np.int64)
        self.hashes = np.zeros((0, _K), np.uint64)
        self.feat_offsets = np.zeros(1, np.int64)
        self.xy = np.zeros((0, 2), np.uint16)
        self.desc = np.zeros((0, 32), np.uint8)
        self.sizes = np.zeros((0, 2), np.uint16)
        self._row_of: dict[int, int] | None = None
        self.ivf: Any = None          # faiss IndexBinaryIVF over the window hashes (build_ivf)
        self.ivf_windows: tuple[int, ...] = tuple(range(_K))   # which windows it holds
        # visual-word posting lists (a base and appended parts, each with its first row), built from
        # the stored descriptors on first use or loaded with the index; None: not built yet
        self.word_parts: list[tuple[vw.WordIndex, int]] | None = None
        self._coarse: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.work_ids)

    def __contains__(self, work_id: int) -> bool:
        return int(work_id) in self._rows()

    def _rows(self) -> dict[int, int]:
        if self._row_of is None:
            self._row_of = {int(w): i for i, w in enumerate(self.work_ids.tolist())}
        return self._row_of

    def add(self, items: Iterable[tuple[int, WorkFingerprint]]) -> int:
        """Append fingerprints (a work already present is replaced by appending; the newest wins)."""
        ids, hashes, xys, descs, sizes, counts = [], [], [], [], [], []
        for work_id, fp in items:
            ids.append(int(work_id))
            hashes.append(fp.hashes)
            f = fp.features
            if f is None:
                xys.append(np.zeros((0, 2), np.uint16)); descs.append(np.zeros((0, 32), np.uint8))
                sizes.append((0, 0)); counts.append(0)
            else:
                xys.append(f.xy); descs.append(f.desc); sizes.append(f.size); counts.append(len(f))
        if not ids:
            return 0
        first = len(self.work_ids)
        self.work_ids = np.concatenate([self.work_ids, np.array(ids, np.int64)])
        self.hashes = np.concatenate([self.hashes, np.array(hashes, np.uint64).reshape(-1, _K)])
        self.feat_offsets = np.concatenate([self.feat_offsets, self.feat_offsets[-1] + np.cumsum(counts)])
        self.xy = np.concatenate([self.xy, *xys])
        self.desc = np.concatenate([self.desc, *descs])
        self.sizes = np.concatenate([self.sizes, np.array(sizes, np.uint16).reshape(-1, 2)])
        self._row_of = None
        if self.ivf is not None:
            self.ivf_add(np.array(hashes, np.uint64).reshape(-1, _K), first)
        if self.word_parts is not None:   # the new rows' words as one more part (no rebuild)
            offs = np.asarray(self.feat_offsets[first:]) - int(self.feat_offsets[first])
            part = vw.from_features(np.asarray(self.desc[int(self.feat_offsets[first]):]), offs, len(ids))
            self.word_parts = self.word_parts + [(part, first)]
        return len(ids)

    def words(self) -> list[tuple[vw.WordIndex, int]]:
        """The visual-word posting lists of every row (built from the stored descriptors the first
        time: ~1 s per 100 k works)."""
        if self.word_parts is None:
            self.word_parts = [(vw.from_features(self.desc, self.feat_offsets, len(self)), 0)]
        return self.word_parts

    def nearest_by_words(self, plain: np.ndarray, mirrored: np.ndarray | None,
                         k: int = WORD_CANDIDATES) -> list[tuple[int, int, bool]]:
        """(row, shared words, mirrored) of the ``k`` works sharing most visual words with the query's
        descriptors (``plain`` and those of its mirror image), most first."""
        if not len(self) or not len(self.desc):
            return []
        top = vw.top_rows(self.words(), vw.query_words(plain),
                          None if mirrored is None else vw.query_words(mirrored), k)
        return [t for t in top if 0 <= t[0] < len(self)]    # a damaged list names no row that is not there

    def ivf_add(self, hashes: np.ndarray, first: int) -> None:
        """Put rows ``first...`` (their ``hashes``) into the inverted file: window ids are
        ``row * len(WINDOWS) + window``, only the windows it holds."""
        sel = np.asarray(self.ivf_windows)
        h = np.asarray(hashes)[:, sel]
        ids = ((np.arange(len(h), dtype=np.int64) + first)[:, None] * _K + sel[None, :]).reshape(-1)
        self.ivf.add_with_ids(_codes(h), ids)

    def ivf_current(self) -> bool:
        """The inverted file holds every row (else stale: the exact scan answers)."""
        return self.ivf is not None and self.ivf.ntotal == len(self) * len(self.ivf_windows)

    def build_ivf(self, lists: int | None = None, probes: int = IVF_PROBES, seed: int = 0,
                  windows: Iterable[int] | None = None) -> None:
        """Search an inverted file over the window hashes instead of scanning them all (faiss's
        ``IndexBinaryIVF``, extra ``faiss``): binary k-means into ``lists`` lists (default ~ one per
        14 000 windows, at most 65 536), ``probes`` nearest lists visited per query hash. Measured at
        1 M works (benchmarks/bench_copies_scale.py --ivf): the candidates are the exact scan's for all
        but a few hard crops, in 1-2 ms instead of 56 ms; the scan stays the default below
        ``IVF_MIN_WORKS``, where it is fast enough and exact. Training takes minutes at 1 M works.
        Works added later go into the lists already trained.

        ``windows``: indexes into ``WINDOWS`` to hold (default all). ``COARSE_WINDOWS`` (whole frame,
        squares, rotations: 8 of 56) is what 10 M works need: the visual words rank the crops, and
        the file is 7x smaller (16 B per window held) and filled 7x faster."""
        faiss = lf.faiss_or_none()
        if faiss is None:
            raise ImportError("an inverted file needs faiss: pip install 'artlineage[faiss]'")
        self.ivf_windows = tuple(sorted(set(range(_K) if windows is None else windows)))
        n_codes = len(self) * len(self.ivf_windows)
        lists = lists or int(min(65536, max(1, n_codes // 14_000)))
        ivf = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(64), 64, lists)
        rng = np.random.default_rng(seed)
        sample = np.sort(rng.choice(n_codes, min(n_codes, 40 * lists), replace=False))
        sel = np.asarray(self.ivf_windows)
        ivf.train(_codes(np.asarray(self.hashes[sample // len(sel)])[np.arange(len(sample)), sel[sample % len(sel)]]))
        ivf.nprobe = probes
        self.ivf = ivf
        for a in range(0, len(self), 1_000_000):      # in blocks: a 10 M-work index's codes at once would double it
            self.ivf_add(np.asarray(self.hashes[a:a + 1_000_000]), a)

    def features(self, row: int) -> lf.Features | None:
        a, b = int(self.feat_offsets[row]), int(self.feat_offsets[row + 1])
        if b == a:
            return None
        w, h = (int(v) for v in self.sizes[row])
        return lf.Features(np.asarray(self.xy[a:b]), np.asarray(self.desc[a:b]), (w, h))

    def coarse_hashes(self) -> np.ndarray:
        """The ``COARSE_WINDOWS`` columns of ``hashes``, contiguous (what a coarse scan reads; 64 B a
        work, kept until rows are added)."""
        if self._coarse is None or len(self._coarse) != len(self):
            self._coarse = np.ascontiguousarray(np.asarray(self.hashes)[:, list(COARSE_WINDOWS)])
        return self._coarse

    def nearest(self, query_hashes: np.ndarray, k: int = CANDIDATES,
                coarse: bool = False) -> list[tuple[int, int, int, bool]]:
        """(row, distance, window, mirrored) of the ``k`` works whose nearest window is nearest to any
        query hash: an exact scan of every window hash (see docs/copy-detection.md for its cost).
        With faiss (extra ``faiss``) the scan is faiss's SIMD popcount k-NN (~2x numpy's).
        ``coarse``: only the ``COARSE_WINDOWS`` (whole frame, squares, rotations; 7x less to scan),
        what the detector scans when visual words rank the crops.

        Works at the same distance are ordered by their *second* nearest window: a crop overlaps
        several neighbouring windows of its source, an unrelated work's other windows do not follow
        the query. Among 858 real photographs this puts the source of a hard crop (>= 60 % area,
        rotated crops, mirrored crops) in the top 12 for 97.6 % of queries instead of 95.9 %, first
        for 92 % instead of 86 % (ties counted against it in both)."""
        n = len(self.work_ids)
        if not n:
            return []
        k = min(k, n)
        q = np.asarray(query_hashes, np.uint64)
        ivf = self.ivf if self.ivf_current() else None
        if ivf is not None:             # the inverted file's windows, whichever were asked for
            coarse = self.ivf_windows == COARSE_WINDOWS
        hashes = self.coarse_hashes() if coarse else self.hashes
        if ivf is not None:
            rows, best = self._nearest_windows(q, k, hashes, ivf)
        elif lf.faiss_or_none() is not None and n * hashes.shape[1] >= FAISS_MIN_WINDOWS:
            rows, best = self._nearest_windows(q, k, hashes)
        else:
            rows, best = self._scan_numpy(q, k, hashes)
        k = min(k, len(best))           # an inverted file's visited lists may hold fewer works
        if not k:
            return []
        # every work nearer than the k-th distance, and (up to MAX_TIED) those tied with it
        kth = np.partition(best, k - 1)[k - 1]
        keep = np.flatnonzero(best < kth)
        tied = np.flatnonzero(best == kth)
        keep = np.concatenate([keep, tied[np.argsort(rows[tied], kind="stable")[:MAX_TIED]]])
        rows, best = rows[keep], best[keep]
        h = np.asarray(hashes[rows])    # the scanned windows (a coarse window's index is its WINDOWS index)
        plain, mirror = np.bitwise_count(h ^ q[0]), np.bitwise_count(h ^ q[1])
        second = np.partition(np.minimum(plain, mirror), 1, axis=1)[:, 1] if h.shape[1] > 1 else best
        order = np.lexsort((rows, second, best))[:k]
        out = []
        for i in order.tolist():
            pmin, mmin = int(plain[i].min()), int(mirror[i].min())
            m = mmin < pmin
            out.append((int(rows[i]), int(best[i]), int((mirror[i] if m else plain[i]).argmin()), m))
        return out

    def _scan_numpy(self, q: np.ndarray, k: int, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, best distance) of the works at or within the k-th best distance."""
        n = len(self.work_ids)
        best = np.empty(n, np.uint8)
        mirror = np.empty(min(n, SCAN_BLOCK), np.uint8)
        # Blocks of SCAN_BLOCK works: the XOR and popcount temporaries stay in cache, and uint8
        # distances (what bitwise_count returns) keep every pass narrow.
        for a in range(0, n, SCAN_BLOCK):
            block = np.asarray(hashes[a:a + SCAN_BLOCK])
            out = best[a:a + SCAN_BLOCK]
            np.bitwise_count(block ^ q[0]).min(axis=1, out=out)
            np.bitwise_count(block ^ q[1]).min(axis=1, out=mirror[:len(out)])
            np.minimum(out, mirror[:len(out)], out=out)
        kth = np.partition(best, k - 1)[k - 1]
        rows = np.flatnonzero(best <= kth)
        return rows, best[rows]

    def _nearest_windows(self, q: np.ndarray, k: int, hashes: np.ndarray, ivf: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest *windows* per query hash would name fewer than k works (a work's windows
        sit together); the ``k * len(WINDOWS)`` nearest always name at least k, and any work whose
        best window is not among them has k works strictly nearer, so the k nearest are exact
        (only works tied with the k-th may be missing). With an inverted file, the same over the
        windows of the lists it visits."""
        per_work = len(self.ivf_windows) if ivf is not None else hashes.shape[1]
        kw = min(len(self.work_ids) * per_work, k * per_work)
        if ivf is not None:          # window ids: row * len(WINDOWS) + window
            dist, ids = ivf.search(_codes(q), kw)
            width = _K
        else:
            dist, ids = lf.faiss_or_none().knn_hamming(_codes(q), _codes(hashes), kw)
            width = hashes.shape[1]
        found = ids.reshape(-1) >= 0                 # an inverted file may return fewer than asked
        rows = ids.reshape(-1)[found] // width
        d = dist.reshape(-1)[found]
        order = np.lexsort((d, rows))                # per row, its nearest window first
        rows, d = rows[order], d[order]
        first = np.ones(len(rows), bool)
        first[1:] = rows[1:] != rows[:-1]
        return rows[first], d[first].astype(np.uint8)

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (``match --workers`` ships the index to its processes): faiss objects are not,
        so the inverted file travels serialised."""
        if len(self.desc):
            self.words()               # built once here, not in every worker process
        state = dict(self.__dict__)
        state["_coarse"] = None        # a copy of hashes' columns: rebuilt on first use
        if self.ivf is not None:
            state["ivf"] = ("faiss-binary", lf.faiss_or_none().serialize_index_binary(self.ivf))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        ivf = state.get("ivf")
        state.setdefault("word_parts", None)                # pickled before visual words
        state.setdefault("_coarse", None)
        state.setdefault("ivf_windows", tuple(range(_K)))
        if isinstance(ivf, tuple) and ivf[0] == "faiss-binary":
            state["ivf"] = lf.faiss_or_none().deserialize_index_binary(ivf[1])
        self.__dict__.update(state)

    # ---- persistence ----------------------------------------------------------------------
    _ARRAYS = ("work_ids", "hashes", "feat_offsets", "xy", "desc", "sizes")

    def save(self, directory: str | os.PathLike[str]) -> Path:
        from .._files import write_atomic, write_text_atomic
        import json
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        def save_array(path: Path, arr: np.ndarray) -> None:
            def write(tmp: str) -> None:
                with open(tmp, "wb") as fh:
                    np.save(fh, arr)
            write_atomic(path, write)

        for name in self._ARRAYS:
            save_array(d / f"{name}.npy", np.asarray(getattr(self, name)))
        words = self.words() if len(self.desc) else []
        if len(words) > 1:             # appended parts: one list per word on disk
            words = [(vw.from_features(self.desc, self.feat_offsets, len(self)), 0)]
        for name in ("vocab", "offsets", "rows"):
            if words:
                save_array(d / f"words.{name}.npy", np.asarray(getattr(words[0][0], name)))
            elif (d / f"words.{name}.npy").exists():
                (d / f"words.{name}.npy").unlink()
        ivf_file = d / "windows.ivf"
        if self.ivf is not None:
            faiss = lf.faiss_or_none()
            write_atomic(ivf_file, lambda tmp: faiss.write_index_binary(self.ivf, tmp))
        elif ivf_file.exists():
            ivf_file.unlink()
        write_text_atomic(json.dumps({"format": 1, "windows": list(WINDOWS), "rows": len(self),
                                      "features": lf.available(), "word_bits": vw.WORD_BITS,
                                      "word_sample": vw.BIT_SAMPLE_ID}), d / "meta.json")
        return d

    @classmethod
    def load(cls, directory: str | os.PathLike[str], mmap: bool = True) -> "CopyIndex":
        import json
        d = Path(directory)
        meta = json.loads((d / "meta.json").read_text())
        if meta.get("format") != 1 or tuple(meta.get("windows", ())) != WINDOWS:
            raise ValueError(f"{d}: unsupported copy index format")
        idx = cls()
        for name in cls._ARRAYS:
            setattr(idx, name, np.load(d / f"{name}.npy", mmap_mode="r" if mmap else None))
        if len(idx.work_ids) != meta["rows"] or idx.hashes.shape != (meta["rows"], _K):
            raise ValueError(f"{d}: copy index files disagree with meta.json")
        idx.word_parts = _load_words(d, meta, len(idx), mmap)
        if (d / "windows.ivf").exists() and lf.faiss_or_none() is not None:
            try:
                ivf = lf.faiss_or_none().read_index_binary(str(d / "windows.ivf"))
            except RuntimeError:                  # unreadable: the exact scan answers
                ivf = None
            for held in (tuple(range(_K)), COARSE_WINDOWS):   # all windows, or the coarse ones
                if ivf is not None and ivf.ntotal == len(idx) * len(held):   # else stale: the exact scan
                    idx.ivf, idx.ivf_windows = ivf, held
                    break
        return idx


def _load_words(d: Path, meta: dict[str, Any], n_rows: int, mmap: bool) -> list[tuple[vw.WordIndex, int]] | None:
    """The saved posting lists, or None (rebuilt from the descriptors on first use) when absent,
    from another word sampling, or inconsistent (a folder written before visual words, a torn copy)."""
    if meta.get("word_bits") != vw.WORD_BITS or meta.get("word_sample") != vw.BIT_SAMPLE_ID:
        return None
    try:
        vocab, offsets, rows = (np.load(d / f"words.{n}.npy", mmap_mode="r" if mmap else None)
                                for n in ("vocab", "offsets", "rows"))
    except (OSError, ValueError):
        return None
    if (len(offsets) != len(vocab) + 1 or (len(offsets) and int(offsets[-1]) != len(rows))
            or vocab.dtype != np.uint32 or rows.dtype != np.int32 or offsets.dtype != np.int64
            or (len(offsets) and int(offsets[0]) != 0)):
        return None
    # O(words), not O(postings): sorted words and non-decreasing offsets (a row out of range is
    # dropped at query time, see nearest_by_words)
    if len(vocab) > 1 and not (np.all(np.diff(vocab.astype(np.int64)) > 0) and np.all(np.diff(offsets) >= 0)):
        return None
    return [(vw.WordIndex(vocab, offsets, rows, n_rows), 0)]


# ---- the detector -------------------------------------------------------------------------------

Describe = Callable[[int], Any]   # work id -> RegisteredWork-like (work_id, artist_id, artist, title)


class CopyDetector:
    """Finds registered works in an image: ``find_copies(image) -> list[CopyMatch]``.

    ``CopyDetector(index, describe)`` or ``CopyDetector.from_images({work_id: image}, describe)``;
    registry-backed detectors come from ``artlineage.matching.copy_index.detector_from_registry``.
    """

    def __init__(self, index: CopyIndex | None = None, describe: Describe | None = None, *,
                 candidates: int | None = None, min_inliers: int = lf.MIN_INLIERS,
                 hash_only_max_distance: int = HASH_ONLY_MAX_DISTANCE, verify: bool | None = None,
                 fallback: Any = None, every_copy: bool = False, word_candidates: int = WORD_CANDIDATES,
                 coarse_scan: bool = True):
        self.index = index if index is not None else CopyIndex()
        # every_copy: verify all candidates even after one is a copy (the platform lists each registered
        # copy: the original artist's work behind a closer re-upload of it must still be named)
        self.every_copy = every_copy
        self._describe = describe
        self.fallback = fallback      # a WorkMatcher: pHash/PDQ for works the copy index lacks
        self.how = "built"
        self.candidates = candidates if candidates is not None else (
            CANDIDATES if lf.faiss_or_none() is not None else CANDIDATES_WITHOUT_FAISS)
        self.min_inliers = min_inliers
        self.word_candidates = word_candidates   # 0: rank by window hashes only (as before visual words)
        self.coarse_scan = coarse_scan            # with words: scan the coarse windows only
        self.hash_only_max_distance = hash_only_max_distance
        self.verify = lf.available() if verify is None else (verify and lf.available())

    @classmethod
    def from_images(cls, images: Iterable[tuple[int, Any]], describe: Describe | None = None,
                    **kw: Any) -> "CopyDetector":
        """Index (work id, image or path) pairs; unreadable images raise ``HashError``."""
        index = CopyIndex()
        index.add((wid, fingerprint(im)) for wid, im in images)
        return cls(index, describe, **kw)

    @classmethod
    def from_registry(cls, registry, directory: str | os.PathLike[str] | None = None,
                      hash_index: str | os.PathLike[str] | None = None, **kw: Any) -> "CopyDetector":
        """Over an ``artlineage.registry.Registry``: its persisted copy index (``<registry>.copies``,
        brought up to date first, ``.how`` says how) plus its pHash/PDQ index as the fallback for
        works without a readable image."""
        from .copy_index import detector_from_registry
        return detector_from_registry(registry, directory, hash_index, **kw)

    def __len__(self) -> int:
        """Registered works this detector can find (fingerprinted, or pHash-only through the fallback)."""
        if self.fallback is None or not len(self.fallback):
            return len(self.index)
        ids = np.asarray(self.fallback.index.rows().work_ids)
        return len(self.index) + int((~np.isin(ids, np.asarray(self.index.work_ids))).sum())

    def describe(self, work_id: int) -> Any:
        if self._describe is None:
            return None
        return self._describe(work_id)

    def find_copies(self, image: Image.Image | str | os.PathLike[str] | bytes) -> list[CopyMatch]:
        """Registered works this image is a copy of, best first. Raises ``HashError`` if unreadable."""
        im = load_image(image)
        q = _query(im)
        out: list[CopyMatch] = self._fallback_matches(im) if self.fallback is not None else []
        accepted_at: int | None = None
        for rank, (row, dist, window, mirrored, shared, by_words, both) in enumerate(self._candidates(q)):
            # Candidates come nearest first. Once one is a copy, farther ones are not verified: a
            # second registration of the same image sits at the same distance and still is; the
            # rest are the look-alikes and clutter a verification would reject (benchmarks: no
            # recall lost, ~40 % fewer verifications on copies). Candidates only the visual words
            # ranked come last and count as farther.
            if accepted_at is not None and (dist > accepted_at or by_words) and not self.every_copy:
                break
            work_id = int(self.index.work_ids[row])
            ev = self._judge(q, row, dist, WINDOWS[window], mirrored, rank, both)
            if ev is None:
                continue
            if shared is not None:
                ev = replace(ev, ranked_by="visual-words" if by_words else "window-hash", shared_words=shared)
            accepted_at = dist if accepted_at is None else accepted_at
            score = (ev.inliers / (ev.inliers + self.min_inliers)) if ev.inliers is not None else 1 - dist / 64
            w = self.describe(work_id)
            if w is None and self._describe is not None:
                continue   # the work is gone from the registry
            out.append(CopyMatch(work_id, getattr(w, "artist_id", None), getattr(w, "artist", ""),
                                 getattr(w, "title", None), round(float(score), 4), dist, ev))
        out.sort(key=lambda m: (-m.score, m.distance, m.work_id))
        return out

    def _candidates(self, q: _Query) -> list[tuple[int, int, int, bool, int | None, bool, bool]]:
        """(row, window distance, window, mirrored, shared words or None, ranked by words, verify
        both orientations): the window-hash ranking's ``candidates`` nearest works, then up to
        ``word_candidates`` more that share the most visual words with the query (verification needs
        the query's features anyway; their mirror's cost a third of an extraction). A word-ranked
        candidate is verified in the orientation that shared more words and reports its nearest
        window all the same; where the windows and the words disagree on the orientation (a crop's
        nearest whole-frame window says little about it), both are verified, the words' first."""
        words = bool(self.verify and self.word_candidates and len(self.index.desc))
        # With words ranking the crops, the windows only need to catch whole frames, squares and
        # rotations: the coarse windows, 7x less to scan, from COARSE_MIN_WORKS works on. A query too
        # flat for words scans them all.
        coarse = (words and self.coarse_scan and len(self.index) >= COARSE_MIN_WORKS
                  and len(q.features(False)) >= FEW_FEATURES)
        nearest = self.index.nearest(q.hashes, self.candidates, coarse=coarse)
        if not words:
            return [(r, d, w, m, None, False, False) for r, d, w, m in nearest]
        by_words = {r: (n, m) for r, n, m in self.index.nearest_by_words(
            q.features(False).desc, q.features(True).desc, self.word_candidates + len(nearest))}
        cands = []
        for r, d, w, m in nearest:
            shared, wm = by_words.get(r, (None, m))
            cands.append((r, d, w, wm, shared, False, wm != m))
        seen = {c[0] for c in cands}
        extra = [(r, n, m) for r, (n, m) in by_words.items() if r not in seen]
        for row, shared, mirrored in extra[: self.word_candidates]:
            h = np.asarray(self.index.hashes[row])
            dist = np.bitwise_count(h ^ q.hashes[1 if mirrored else 0])
            w = int(dist.argmin())
            cands.append((row, int(dist[w]), w, mirrored, shared, True, False))
        return cands

    def _fallback_matches(self, image: Image.Image) -> list[CopyMatch]:
        """Global pHash+PDQ matches (``WorkMatcher``) for registered works with no copy fingerprint."""
        from .hashing import hash_image, pdq_to_words
        if not len(self.fallback):
            return []
        ph, pq = hash_image(image)
        out = []
        for w, d, pd in self.fallback.lookup(ph, pdq_to_words(pq)):
            if w.work_id in self.index:
                continue
            ev = CopyEvidence("phash+pdq", "full", d, False)
            out.append(CopyMatch(w.work_id, w.artist_id, w.artist, w.title, round(1 - d / 64, 4), d, ev))
        return out

    def _judge(self, q: _Query, row: int, dist: int, window: str, mirrored: bool, rank: int,
               both: bool = False) -> CopyEvidence | None:
        work_feats = self.index.features(row) if self.verify else None
        if work_feats is None:
            if dist <= self.hash_only_max_distance:
                return CopyEvidence("window-hash", window, dist, mirrored)
            return None
        qf = q.features(mirrored)
        if min(len(qf), len(work_feats)) < FEW_FEATURES:    # flat or tiny image: nothing to verify with
            if dist <= self.hash_only_max_distance:
                return CopyEvidence("window-hash", window, dist, mirrored)
            return None
        # The orientation the ranking suggested; the other one too for the nearest candidate when the
        # hash cannot tell them apart (a symmetric image), or when the window hashes and the visual
        # words disagree. Each orientation is one ORB extraction of the query; always trying both for
        # the nearest (as before) cost a mirrored extraction on most queries and found no copy more.
        # The first orientation whose fit passes every check wins: in the wrong orientation an image
        # symmetric about its horizontal axis (a Mandelbrot set) fits as well, turned 180 degrees,
        # and must not hide the right one.
        both = both or (rank == 0 and abs(int(q.plain_mirror_gap(row, self.index))) <= ORIENTATION_TIE)
        for m in ((mirrored, not mirrored) if both else (mirrored,)):
            v = lf.verify(q.features(m), work_feats, self.min_inliers)
            if v is not None and self._is_copy(v, dist):
                return CopyEvidence("orb+ransac", window, dist, m, v.inliers, v.matches, round(v.scale, 4),
                                    round(v.rotation_deg, 2), round(v.coverage, 4))
        return None

    def _is_copy(self, v: lf.Verification, dist: int) -> bool:
        """Enough inliers, most matches on the fit, and a fit that shows >= 45 % of the work at a sane
        scale and turn: a fit collapsing many query points onto a corner of the work (chance matches
        on texture) shows almost none of it."""
        return (v.inliers >= self.min_inliers and v.coverage >= MIN_COVERAGE and MIN_SCALE <= v.scale <= MAX_SCALE
                and abs(v.rotation_deg) <= MAX_ROTATION
                and v.inliers >= (NEAR_INLIER_RATIO if dist <= NEAR_DISTANCE else lf.MIN_INLIER_RATIO) * v.matches)
