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


def test_every_input_layout_gives_the_same_score_and_bad_values_fail_clearly():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(600, 24)) + 0.2
    expected = vendi_score_kernel(x)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    assert vendi_score(x, chunk=170) == pytest.approx(expected, rel=1e-10)  # float64 stays float64 (dsyrk)
    assert vendi_score(x.astype(np.float32), chunk=170) == pytest.approx(expected, rel=1e-5)  # ssyrk
    assert vendi_score(unit.astype(np.float32)) == pytest.approx(expected, rel=1e-5)  # unit rows: no scaling copy
    assert vendi_score(np.asfortranarray(x)) == pytest.approx(expected, rel=1e-10)
    ints = np.round(x * 100).astype(np.int32)
    assert vendi_score(ints) == pytest.approx(vendi_score_kernel(ints.astype(np.float64)), rel=1e-5)
    with_zero = np.vstack([x, np.zeros((1, 24))])  # a zero row has no direction: it adds nothing
    assert vendi_score(with_zero) == pytest.approx(vendi_score_kernel(with_zero), rel=1e-8)
    bad = x.copy()
    bad[5, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        vendi_score(bad)
