"""Local features and geometric verification for copy detection (OpenCV, optional extra ``copies``).

ORB keypoints (Rublee et al., ICCV 2011: oriented FAST + rotated BRIEF, 32-byte binary descriptors) are
invariant to rotation, scale, brightness and contrast; matched with Hamming distance and Lowe's ratio
test, then a RANSAC fit of a 4-parameter similarity transform (rotation, uniform scale, translation:
``cv2.estimateAffinePartial2D``) keeps only matches that agree on one geometry. A copy of a work has
dozens of such inliers; a different photograph of a similar scene has a handful of chance matches
that agree on no transform. Mirrored queries are verified by describing the flipped query (ORB is not
mirror invariant).

Keypoint coordinates are stored as uint16 pixels of the work's ``FEATURE_SIDE`` thumbnail and
descriptors as uint8[32]: ``MAX_WORK_FEATURES`` x 36 bytes per work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

try:  # optional: pip install 'artlineage[copies]'
    import cv2
except ImportError:  # pragma: no cover - exercised where OpenCV is missing
    cv2 = None

FEATURE_SIDE = 480          # longest side of the image ORB sees
MAX_WORK_FEATURES = 256     # kept per registered work (strongest first)
MAX_QUERY_FEATURES = 400
RATIO = 0.8                 # Lowe's ratio test
RANSAC_PX = 8.0             # reprojection threshold, pixels of the FEATURE_SIDE thumbnail
MIN_INLIERS = 12            # see benchmarks/bench_copies.py: look-alikes stay under 10
# Share of ratio-tested matches that agree with the transform. A copy's matches almost all agree
# (0.87-0.99 measured); a neighbouring frame of the same scene (a stereo pair, a burst) fits the
# background plane but parallax moves the rest: 0.65-0.71 measured on scikit-image's motorcycle pair.
MIN_INLIER_RATIO = 0.8


def available() -> bool:
    return cv2 is not None


_FAISS: list = []


def faiss_or_none():
    """faiss (extra ``faiss``) for Hamming k-NN, or None: numpy / OpenCV are the fallbacks. Its
    thread count is left to the application (``faiss.omp_set_num_threads``); the benchmarks hold it
    to one."""
    if not _FAISS:
        try:
            import faiss
        except ImportError:  # pragma: no cover - exercised where faiss is missing
            faiss = None
        _FAISS.append(faiss)
    return _FAISS[0]


@dataclass(frozen=True)
class Features:
    xy: np.ndarray      # (n, 2) uint16 pixel coordinates in the thumbnail
    desc: np.ndarray    # (n, 32) uint8 ORB descriptors
    size: tuple[int, int]  # thumbnail (width, height)

    def __len__(self) -> int:
        return len(self.xy)


@dataclass(frozen=True)
class Verification:
    inliers: int
    matches: int
    scale: float          # query pixels per work pixel (thumbnails' scale folded in)
    rotation_deg: float
    coverage: float       # fraction of the work's area the query shows (after the fitted transform)


def _orb(n: int):
    # fastThreshold 10: lower than the default 20 so flat, low-contrast photos still get keypoints.
    return cv2.ORB_create(nfeatures=n, scaleFactor=1.2, nlevels=8, edgeThreshold=15, patchSize=31,
                          fastThreshold=10)


def extract(gray: np.ndarray, max_features: int) -> Features:
    """ORB features of a uint8 greyscale array already at most FEATURE_SIDE on its longest side."""
    return extract_keypoints(gray, max_features)[0]


def extract_keypoints(gray: np.ndarray, max_features: int) -> tuple[Features, list]:
    """``extract`` plus the OpenCV keypoints kept (strongest first), for ``mirrored``."""
    h, w = gray.shape
    kps, desc = _orb(max_features).detectAndCompute(np.ascontiguousarray(gray), None)
    if desc is None or not kps:
        return Features(np.zeros((0, 2), np.uint16), np.zeros((0, 32), np.uint8), (w, h)), []
    order = np.argsort([-k.response for k in kps], kind="stable")[:max_features]
    kept = [kps[i] for i in order]
    return _features([k.pt for k in kept], desc[order], (w, h)), kept


def _features(points, desc: np.ndarray, size: tuple[int, int]) -> Features:
    xy = np.array(points, dtype=np.float32).reshape(-1, 2)
    return Features(np.clip(np.rint(xy), 0, 65535).astype(np.uint16), desc, size)


def mirrored(gray: np.ndarray, keypoints: list, max_features: int) -> Features:
    """Features of the horizontally flipped image (ORB descriptors are not mirror invariant).

    FAST corners and their Harris scores are mirror-symmetric, so detecting again would find the
    mirrored keypoints; describing those (x -> w - 1 - x, angle -> 180 - angle, same octave) at the
    flipped image costs a third of an extraction (0.9 against 3.0 ms, 480 px photo, one core), and
    the descriptors are identical to a fresh extraction's at the same keypoint."""
    h, w = gray.shape
    if not keypoints:
        return Features(np.zeros((0, 2), np.uint16), np.zeros((0, 32), np.uint8), (w, h))
    flipped = [cv2.KeyPoint(w - 1 - k.pt[0], k.pt[1], k.size, (180.0 - k.angle) % 360.0, k.response, k.octave,
                            k.class_id) for k in keypoints]
    kept, desc = _orb(max_features).compute(np.ascontiguousarray(gray[:, ::-1]), flipped)
    if desc is None or not kept:
        return Features(np.zeros((0, 2), np.uint16), np.zeros((0, 32), np.uint8), (w, h))
    return _features([k.pt for k in kept], desc, (w, h))


_matcher = None


def _signed_area(poly: np.ndarray) -> float:
    return 0.5 * float(np.dot(poly[:, 0], np.roll(poly[:, 1], -1)) - np.dot(poly[:, 1], np.roll(poly[:, 0], -1)))


def two_nearest(query: np.ndarray, work: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(nearest distance, second distance, nearest index) of each query descriptor among the work's.
    faiss's Hamming k-NN (extra ``faiss``) when installed: 0.14 ms for 400 x 256 descriptors on one
    core against 0.55 ms for OpenCV's ``BFMatcher.knnMatch`` and its DMatch objects (measured in
    benchmarks/bench_copies_scale.py's set-up); OpenCV's brute-force matcher otherwise."""
    faiss = faiss_or_none()
    if faiss is not None:
        d, i = faiss.knn_hamming(np.ascontiguousarray(query), np.ascontiguousarray(work), 2)
        return d[:, 0], d[:, 1], i[:, 0]
    global _matcher
    if _matcher is None:
        _matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = [p for p in _matcher.knnMatch(query, work, k=2) if len(p) == 2]
    return (np.array([p[0].distance for p in pairs], np.float32), np.array([p[1].distance for p in pairs], np.float32),
            np.array([p[0].trainIdx for p in pairs], np.int64)) if pairs else (np.zeros(0),) * 3  # type: ignore[return-value]


def verify(query: Features, work: Features, min_matches: int = 3) -> Verification | None:
    """Similarity-transform RANSAC over ratio-tested matches from ``query`` to ``work``; None when
    either side has fewer than 3 features. With fewer than ``min_matches`` ratio-tested matches no
    transform is fitted (a fit has at most that many inliers: the caller's minimum decides already),
    which is what most look-alike candidates cost: one descriptor match, no RANSAC."""
    if len(query) < 3 or len(work) < 3:
        return None
    d1, d2, nearest = two_nearest(query.desc, work.desc)
    good = np.flatnonzero(d1 < RATIO * d2)
    if len(good) < max(3, min_matches):
        return Verification(0, len(good), 0.0, 0.0, 0.0)
    src = query.xy[good].astype(np.float32)
    dst = work.xy[nearest[good]].astype(np.float32)
    model, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PX,
                                              maxIters=500, confidence=0.99)
    if model is None or mask is None:
        return Verification(0, len(good), 0.0, 0.0, 0.0)
    inliers = int(mask.sum())
    a, b = float(model[0, 0]), float(model[1, 0])
    s = float(np.hypot(a, b))             # work px per query px
    rot = float(np.degrees(np.arctan2(b, a)))
    qw, qh = query.size
    corners = np.array([[0, 0], [qw, 0], [qw, qh], [0, qh]], np.float32)
    mapped = corners @ model[:, :2].T + model[:, 2]
    ww, wh = work.size
    # the query's frame mapped into the work, intersected with the work's frame (clipping the corners'
    # coordinates instead under-counts a rotated frame: 0.83 instead of 0.93 for a 10-degree turn)
    frame = np.array([[0, 0], [ww, 0], [ww, wh], [0, wh]], np.float32)
    quad = mapped.astype(np.float32)
    if _signed_area(quad) < 0:            # intersectConvexConvex wants both polygons wound the same way
        quad = quad[::-1].copy()
    area, _ = cv2.intersectConvexConvex(quad, frame)
    coverage = float(min(1.0, area / max(1.0, ww * wh)))
    return Verification(inliers, len(good), 1.0 / s if s > 0 else 0.0, rot, coverage)
