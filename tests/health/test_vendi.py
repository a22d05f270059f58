import numpy as np
import pytest

from artlineage.health.vendi import VendiAccumulator, vendi_score, vendi_score_kernel, vendi_score_sampled


def test_orthogonal_items_count_as_distinct_and_identical_as_one():
    eye = np.eye(7)
    assert vendi_score(eye) == pytest.approx(7.0, rel=1e-9)
    assert vendi_score_kernel(eye) == pytest.approx(7.0, rel=1e-9)
    same = np.tile(np.array([[0.3, -1.2, 4.0]]), (50, 1))
    assert vendi_score(same) == pytest.approx(1.0, abs=1e-9)
    # Scale does not matter (cosine kernel); two groups of equal size = 2 distinct items.
    two = np.vstack([np.tile([1.0, 0.0], (10, 1)), np.tile([0.0, 5.0], (10, 1))])
    assert vendi_score(two) == pytest.approx(2.0, rel=1e-9)


def test_covariance_form_equals_kernel_form_on_random_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 40)) + 0.5
    assert vendi_score(x) == pytest.approx(vendi_score_kernel(x), rel=1e-8)
    for q in (0.5, 2.0, np.inf):
        assert vendi_score(x, q=q) == pytest.approx(vendi_score_kernel(x, q=q), rel=1e-8)


def test_streaming_matches_one_shot_and_sampling_is_close():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5000, 16)).astype(np.float32)
    acc = VendiAccumulator()
    for b in np.array_split(x, 7):
        acc.update(b, chunk=333)
    assert acc.n == 5000
    assert acc.score() == pytest.approx(vendi_score(x.astype(np.float64)), rel=1e-5)
    s = vendi_score_sampled(x, sample_size=2000, repeats=3, seed=0)
    assert s.sample_size == 2000 and s.score == pytest.approx(acc.score(), rel=0.05)


def test_rejects_mismatched_widths():
    acc = VendiAccumulator().update(np.ones((3, 4)))
    with pytest.raises(ValueError):
        acc.update(np.ones((3, 5)))
