"""Visual words (the copy detector's inverted file over quantised ORB descriptors): words, posting
lists built in chunks, vote counting, persistence, and what they add to the detector."""

import numpy as np
import pytest
from PIL import ImageOps

from artlineage.matching import _local_features as lf
from artlineage.matching import _visual_words as vw
from artlineage.matching import copies as cp
from artlineage.matching import copy_index

data = pytest.importorskip("skimage.data", reason="scikit-image ships the real test photographs")
needs_cv2 = pytest.mark.skipif(not lf.available(), reason="OpenCV (extra 'copies') not installed")


def _photo(name):
    from PIL import Image
    return Image.fromarray(getattr(data, name)()).convert("RGB")


def _crop(im, fx, fy, px, py):
    w, h = im.size
    cw, ch = int(w * fx), int(h * fy)
    x0, y0 = int((w - cw) * px), int((h - ch) * py)
    return im.crop((x0, y0, x0 + cw, y0 + ch))


def test_a_word_is_the_sampled_bits_of_the_descriptor():
    desc = np.random.default_rng(1).integers(0, 256, (500, 32), dtype=np.uint8)
    bits = np.unpackbits(desc, axis=1)[:, vw._BITS].astype(np.int64)
    expected = (bits * (1 << np.arange(vw.WORD_BITS))).sum(axis=1)
    assert vw.words_of(desc).dtype == np.uint32
    assert vw.words_of(desc).tolist() == expected.tolist()
    one = desc[:1].copy()
    b = int(vw._BITS[3])
    one[0, b >> 3] ^= np.uint8(1 << (7 - (b & 7)))     # flip a sampled bit: exactly that word bit flips
    assert int(vw.words_of(one)[0]) ^ int(vw.words_of(desc[:1])[0]) == 1 << 3
    unsampled = next(i for i in range(256) if i not in set(vw._BITS.tolist()))
    two = desc[:1].copy()
    two[0, unsampled >> 3] ^= np.uint8(1 << (7 - (unsampled & 7)))
    assert vw.words_of(two)[0] == vw.words_of(desc[:1])[0]


def _random_postings(rng, n_rows, per_row, vocab):
    words = rng.integers(0, vocab, (n_rows, per_row)).astype(np.uint32)
    words[:, 1] = words[:, 0]                       # a work holding a word twice lists it once
    return words


def test_posting_lists_built_in_chunks_are_the_brute_force_lists():
    rng = np.random.default_rng(2)
    words = _random_postings(rng, 300, 20, 500)
    chunk_starts = [0, 1, 64, 65, 200, 300]

    def chunks():
        for a, b in zip(chunk_starts, chunk_starts[1:]):
            yield words[a:b].reshape(-1), np.repeat(np.arange(a, b), 20)
    idx = vw.build(chunks, 300)
    expected: dict[int, list[int]] = {}
    for row in range(300):
        for w in sorted(set(words[row].tolist())):
            expected.setdefault(w, []).append(row)
    assert idx.vocab.tolist() == sorted(expected)
    got = {int(w): idx.rows[idx.offsets[i]:idx.offsets[i + 1]].tolist() for i, w in enumerate(idx.vocab)}
    assert got == expected
    assert idx.rows.dtype == np.int32 and idx.offsets[-1] == len(idx.rows) == sum(map(len, expected.values()))


def test_votes_count_shared_words_over_parts_and_orientations():
    rng = np.random.default_rng(3)
    words = _random_postings(rng, 120, 30, 4000)

    def part(a, b):
        def chunks():
            yield words[a:b].reshape(-1), np.repeat(np.arange(b - a), 30)
        return vw.build(chunks, b - a)
    parts = [(part(0, 70), 0), (part(70, 120), 70)]     # a base and an appended segment
    plain = np.unique(np.concatenate([words[5, :25], words[90, :12], rng.integers(0, 4000, 40).astype(np.uint32)]))
    mirror = np.unique(words[101, :28])
    top = vw.top_rows(parts, plain, mirror, 4)

    def shared(row, q):
        """Brute force: the query's words this row holds, less the stop words of the row's part
        (words more rows of that part hold than its stop_df)."""
        p, first = parts[0] if row < 70 else parts[1]
        rows_of_part = [set(words[r].tolist()) for r in range(first, first + p.n_rows)]
        held = set(words[row].tolist())
        return sum(1 for w in set(q.tolist())
                   if w in held and sum(w in r for r in rows_of_part) <= p.stop_df())
    counts = {(r, m): shared(r, mirror if m else plain) for r in range(120) for m in (False, True)}
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0]))
    expected, seen = [], set()
    for (r, m), c in best:
        if c and r not in seen:
            seen.add(r)
            expected.append((r, c, m))
        if len(expected) == 4:
            break
    assert top == expected
    assert [t[0] for t in top[:3]] == [101, 5, 90] and top[0][2] is True


@needs_cv2
def test_an_index_keeps_its_words_through_add_concat_save_and_load(tmp_path):
    idx = cp.CopyIndex()
    idx.add([(10, cp.fingerprint(_photo("astronaut"))), (11, cp.fingerprint(_photo("coffee")))])
    fresh = vw.from_features(idx.desc, idx.feat_offsets, len(idx))
    (w, first), = idx.words()
    assert first == 0 and w.vocab.tolist() == fresh.vocab.tolist() and w.rows.tolist() == fresh.rows.tolist()
    idx.add([(12, cp.fingerprint(_photo("chelsea")))])      # appended as a part, nothing rebuilt
    assert [f for _, f in idx.word_parts] == [0, 2] and idx.word_parts[0][0] is w
    q = cp._query(_crop(_photo("chelsea"), 0.7, 0.85, 1.0, 0.0))
    assert idx.nearest_by_words(q.features(False).desc, q.features(True).desc, 1)[0][0] == 2
    idx.save(tmp_path / "c")
    loaded = cp.CopyIndex.load(tmp_path / "c")
    (lw, _), = loaded.word_parts                         # one list per word on disk, memory-mapped
    whole = vw.from_features(idx.desc, idx.feat_offsets, 3)
    assert lw.rows.tolist() == whole.rows.tolist() and isinstance(lw.rows, np.memmap)
    seg = cp.CopyIndex()
    seg.add([(13, cp.fingerprint(_photo("rocket")))])
    seg.words()
    both = copy_index.concat([loaded, seg])
    assert [f for _, f in both.word_parts] == [0, 3]
    rq = cp._query(ImageOps.mirror(_crop(_photo("rocket"), 0.8, 0.8, 0.0, 1.0)))
    assert both.nearest_by_words(rq.features(False).desc, rq.features(True).desc, 1)[0][::2] == (3, True)
    # a folder from before visual words (or another word sampling): rebuilt on first use, same lists
    for f in (tmp_path / "c").glob("words.*.npy"):
        f.unlink()
    old = cp.CopyIndex.load(tmp_path / "c")
    assert old.word_parts is None and old.words()[0][0].rows.tolist() == whole.rows.tolist()
    (tmp_path / "c" / "words.rows.npy").write_bytes(b"torn")
    assert cp.CopyIndex.load(tmp_path / "c").word_parts is None


@needs_cv2
def test_a_crop_the_window_ranking_misses_is_found_through_visual_words(monkeypatch):
    works = {i: _photo(n) for i, n in enumerate(("astronaut", "coffee", "chelsea", "rocket", "camera"))}
    det = cp.CopyDetector.from_images(works.items())
    query = ImageOps.mirror(_crop(works[2], 0.75, 0.8, 0.2, 0.9))
    assert [m.work_id for m in det.find_copies(query)] == [2]
    # at 10 M works a hard crop's source can fall out of the window ranking: simulate it
    monkeypatch.setattr(cp.CopyIndex, "nearest", lambda self, q, k=cp.CANDIDATES, coarse=False: [])
    hit, = det.find_copies(query)
    ev = hit.evidence
    assert hit.work_id == 2 and ev.ranked_by == "visual-words" and ev.method == "orb+ransac" and ev.mirrored
    assert ev.shared_words >= 20 and ev.inliers >= lf.MIN_INLIERS and 0 <= ev.hash_distance <= 64
    assert cp.CopyDetector(det.index, word_candidates=0).find_copies(query) == []
    # unrelated photographs share a few words at most and nothing verifies
    for other in ("coins", "moon", "page"):
        assert det.find_copies(_photo(other)) == []


@needs_cv2
def test_an_inverted_file_of_coarse_windows_is_kept_and_extended(tmp_path):
    if lf.faiss_or_none() is None:
        pytest.skip("faiss (extra 'faiss') not installed: no inverted file")
    rng = np.random.default_rng(5)
    idx = cp.CopyIndex()
    idx.add((i, cp.WorkFingerprint(rng.integers(0, 2**63, len(cp.WINDOWS), dtype=np.int64).astype(np.uint64), None))
            for i in range(400))
    idx.build_ivf(lists=4, probes=4, windows=cp.COARSE_WINDOWS)
    assert idx.ivf.ntotal == 400 * len(cp.COARSE_WINDOWS) and idx.ivf_current()
    h = np.asarray(idx.hashes)
    assert idx.nearest(h[123][[0, 5]], 1)[0][:3] == (123, 0, 0)     # a coarse window: found exactly
    new = rng.integers(0, 2**63, len(cp.WINDOWS), dtype=np.int64).astype(np.uint64)
    idx.add([(999, cp.WorkFingerprint(new, None))])
    assert idx.ivf.ntotal == 401 * len(cp.COARSE_WINDOWS)
    assert idx.nearest(new[[2, 7]], 1)[0][:3] == (400, 0, 2)
    idx.save(tmp_path / "c")
    loaded = cp.CopyIndex.load(tmp_path / "c")
    assert loaded.ivf_windows == cp.COARSE_WINDOWS and loaded.ivf_current()
    assert loaded.nearest(new[[2, 7]], 1)[0][:3] == (400, 0, 2)


def test_dropping_rows_keeps_every_other_rows_lists():
    rng = np.random.default_rng(6)
    words = _random_postings(rng, 90, 16, 300)
    idx = cp.CopyIndex()
    desc = rng.integers(0, 256, (90 * 16, 32), dtype=np.uint8)
    idx.desc, idx.feat_offsets = desc, np.arange(0, 90 * 16 + 1, 16, dtype=np.int64)
    idx.work_ids, idx.hashes = np.arange(90, dtype=np.int64), np.zeros((90, len(cp.WINDOWS)), np.uint64)
    idx.xy, idx.sizes = np.zeros((90 * 16, 2), np.uint16), np.zeros((90, 2), np.uint16)

    def part(a, b):
        return vw.build(lambda: iter([(words[a:b].reshape(-1), np.repeat(np.arange(b - a), 16))]), b - a)
    idx.word_parts = [(part(0, 50), 0), (part(50, 90), 50)]
    drop = np.zeros(90, bool)
    drop[[0, 7, 49, 50, 88]] = True
    out = copy_index.without_rows(idx, drop)
    kept = np.flatnonzero(~drop)
    assert [f for _, f in out.word_parts] == [0, 47]
    for (w, first), (a, b) in zip(out.word_parts, [(0, 50), (50, 90)]):
        survivors = [r for r in kept if a <= r < b]
        chunk = (words[survivors].reshape(-1), np.repeat(np.arange(len(survivors)), 16))
        expected = vw.build(lambda chunk=chunk: iter([chunk]), len(survivors))
        assert w.n_rows == len(survivors)
        assert w.vocab.tolist() == expected.vocab.tolist() and w.rows.tolist() == expected.rows.tolist()
        assert w.offsets.tolist() == expected.offsets.tolist()


@needs_cv2
def test_damaged_word_files_are_rebuilt_or_ignored_never_a_crash(tmp_path):
    idx = cp.CopyIndex()
    idx.add([(1, cp.fingerprint(_photo("astronaut"))), (2, cp.fingerprint(_photo("chelsea")))])
    idx.save(tmp_path / "c")
    q = cp._query(_crop(_photo("chelsea"), 0.8, 0.8, 0.5, 0.5))
    expected = idx.nearest_by_words(q.features(False).desc, q.features(True).desc, 2)
    offsets = np.load(tmp_path / "c" / "words.offsets.npy")
    np.save(tmp_path / "c" / "words.offsets.npy", offsets[::-1].copy())       # not increasing: rebuilt
    rebuilt = cp.CopyIndex.load(tmp_path / "c")
    assert rebuilt.word_parts is None
    assert rebuilt.nearest_by_words(q.features(False).desc, q.features(True).desc, 2) == expected
    np.save(tmp_path / "c" / "words.offsets.npy", offsets)
    rows = np.load(tmp_path / "c" / "words.rows.npy")
    np.save(tmp_path / "c" / "words.rows.npy", np.full_like(rows, 7))       # rows that do not exist
    bad = cp.CopyIndex.load(tmp_path / "c")
    assert bad.word_parts is not None
    assert bad.nearest_by_words(q.features(False).desc, q.features(True).desc, 2) == []
    assert [m.work_id for m in cp.CopyDetector(bad).find_copies(_crop(_photo("chelsea"), 0.8, 0.8, 0.5, 0.5))] == [2]


def test_dropping_rows_from_a_damaged_list_drops_its_impossible_rows():
    idx = vw.WordIndex(np.array([3, 9], np.uint32), np.array([0, 2, 4], np.int64),
                       np.array([0, 5, 1, 99], np.int32), 6)
    keep = np.array([True, True, False, True, True, True])
    out, first = idx.without(keep, 0)
    assert first == 0 and out.vocab.tolist() == [3, 9] and out.rows.tolist() == [0, 4, 1] and out.offsets.tolist() == [0, 2, 3]
    assert out.n_rows == 5


@needs_cv2
def test_an_index_pickled_for_worker_processes_carries_its_words():
    import pickle
    idx = cp.CopyIndex()
    idx.add([(1, cp.fingerprint(_photo("astronaut"))), (2, cp.fingerprint(_photo("chelsea")))])
    assert idx.word_parts is None                       # not built yet: pickling builds them once
    again = pickle.loads(pickle.dumps(idx))
    assert idx.word_parts is not None and again.word_parts is not None
    assert again.word_parts[0][0].rows.tolist() == idx.word_parts[0][0].rows.tolist()
    q = cp._query(_crop(_photo("chelsea"), 0.7, 0.7, 0.1, 0.2))
    assert (again.nearest_by_words(q.features(False).desc, q.features(True).desc, 2)
            == idx.nearest_by_words(q.features(False).desc, q.features(True).desc, 2))
    assert again.nearest_by_words(q.features(False).desc, q.features(True).desc, 1)[0][0] == 1


@needs_cv2
def test_a_work_registered_several_times_still_gets_its_words_votes():
    # In a small index the average list holds about one work: were the stop length a few times that,
    # the words of a work registered 8 times would all be stop words and a crop of it get no vote.
    idx = cp.CopyIndex()
    chelsea = cp.fingerprint(_photo("chelsea"))
    others = ("astronaut", "coffee", "rocket", "camera", "coins", "moon", "page", "immunohistochemistry",
              "hubble_deep_field", "retina")
    idx.add([(i, chelsea) for i in range(8)] + [(8 + i, cp.fingerprint(_photo(n))) for i, n in enumerate(others)])
    (w, _), = idx.words()
    assert len(w.rows) / len(w.vocab) < 2 and w.stop_df() >= 16
    q = cp._query(_crop(_photo("chelsea"), 0.7, 0.8, 0.9, 0.1))
    top = idx.nearest_by_words(q.features(False).desc, q.features(True).desc, 8)
    assert sorted(r for r, _, _ in top) == list(range(8)) and len({n for _, n, _ in top}) == 1


@needs_cv2
def test_the_coarse_scan_is_used_from_coarse_min_works_and_crops_are_still_found(monkeypatch):
    works = {i: _photo(n) for i, n in enumerate(("astronaut", "coffee", "chelsea", "rocket"))}
    det = cp.CopyDetector.from_images(works.items())
    seen = []
    real_nearest = cp.CopyIndex.nearest

    def spy(self, q, k=cp.CANDIDATES, coarse=False):
        seen.append(coarse)
        return real_nearest(self, q, k, coarse=coarse)
    monkeypatch.setattr(cp.CopyIndex, "nearest", spy)
    crop = ImageOps.mirror(_crop(works[0], 0.75, 0.8, 0.9, 0.1))
    assert [m.work_id for m in det.find_copies(crop)] == [0] and seen == [False]   # small: every window
    monkeypatch.setattr(cp, "COARSE_MIN_WORKS", 1)
    hit, = det.find_copies(crop)
    assert hit.work_id == 0 and hit.evidence.mirrored and seen == [False, True]
    assert hit.evidence.window in {cp.WINDOWS[w] for w in cp.COARSE_WINDOWS}
