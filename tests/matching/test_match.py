import numpy as np
import pytest
from PIL import Image

from artlineage.matching.hashing import hash_image
from artlineage.matching.match import (DEFAULT_MAX_DISTANCE, DEFAULT_MAX_COMBINED, RegisteredWork, WorkMatcher,
                                       match_paths)

from ._images import synthetic_image, variants

SIZE = (128, 96)


def _registered(n, offset=0):
    images = [synthetic_image(offset + i, SIZE) for i in range(n)]
    works = []
    for i, im in enumerate(images):
        ph, pq = hash_image(im)
        works.append(RegisteredWork(work_id=1000 + i, artist_id=i % 7, artist=f"artist {i % 7}", phash64=ph,
                                    pdq256=pq, title=f"work {i}"))
    return images, WorkMatcher(works)


def _found(matcher, im):
    ph, pq = hash_image(im)
    from artlineage.matching.hashing import pdq_to_words
    return [w.work_id for w, _, _ in matcher.lookup(ph, pdq_to_words(pq))]


@pytest.fixture(scope="module")
def small_registry():
    return _registered(50)


@pytest.mark.parametrize("edit", ["resize50", "resize200", "jpeg60", "webp", "crop5", "border10", "brighter",
                                  "colour"])
def test_registered_work_found_after_edit(small_registry, edit):
    images, matcher = small_registry
    for i in (0, 7, 21):
        assert _found(matcher, variants(images[i])[edit]) == [1000 + i], (edit, i)


def test_unrelated_images_are_not_matched(small_registry):
    _, matcher = small_registry
    for seed in range(10_000, 10_100):
        assert _found(matcher, synthetic_image(seed, SIZE)) == []
    assert _found(matcher, Image.new("RGB", SIZE, (128, 128, 128))) == []


def test_precision_and_recall_over_2000_images():
    """1000 registered works + 1000 unrelated images; every registered work queried under 8 edits."""
    images, matcher = _registered(1000)
    from artlineage.matching.hashing import pdq_to_words
    rng = np.random.default_rng(0)
    tp = fn = fp = 0
    for i in rng.choice(1000, 150, replace=False):
        for name, im in variants(images[i]).items():
            found = _found(matcher, im)
            tp += (1000 + i) in found
            fn += (1000 + i) not in found
            fp += sum(f != 1000 + i for f in found)
    negatives = 0
    for seed in range(50_000, 51_000):
        ph, pq = hash_image(synthetic_image(seed, SIZE))
        hits = matcher.lookup(ph, pdq_to_words(pq))
        fp += len(hits)
        negatives += bool(hits)
    precision = tp / max(tp + fp, 1)
    recall = tp / (tp + fn)
    print(f"\nthreshold pHash<={DEFAULT_MAX_DISTANCE}, combined<={DEFAULT_MAX_COMBINED}: precision {precision:.4f}, "
          f"recall {recall:.4f} ({tp} tp, {fn} fn, {fp} fp, {negatives}/1000 unrelated images with a hit)")
    # the images, edits and hashes are all deterministic: the counts are exact (Pillow's resampling fixed)
    assert (tp, fn, fp, negatives) == (1156, 44, 1, 0)
    assert precision >= 0.99
    assert recall >= 0.93


def test_match_paths_reads_files_and_reports_terms(tmp_path, small_registry):
    images, matcher = small_registry
    variants(images[3])["jpeg60"].save(tmp_path / "copy.jpg")
    synthetic_image(777, SIZE).save(tmp_path / "other.png")
    (tmp_path / "broken.png").write_bytes(b"nope")
    paths = sorted(str(p) for p in tmp_path.iterdir())
    report = match_paths(paths, matcher, terms_for=lambda w: {"style_imitation": "not_allowed"})
    assert report.hashed == 2 and len(report.errors) == 1
    assert [(m.work_id, m.artist, m.terms["style_imitation"]) for m in report.matches] == \
        [(1003, "artist 3", "not_allowed")]
    assert match_paths(paths, matcher, artist="artist 4").matches == []
