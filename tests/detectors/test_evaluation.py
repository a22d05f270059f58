import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.metrics import roc_auc_score  # noqa: E402

from artlineage.detectors import evaluate_scores, fit_calibration, threshold_for_fpr  # noqa: E402


def test_threshold_keeps_false_positives_at_or_below_the_target():
    real = np.linspace(0.0, 0.99, 100)  # 100 real images, distinct probabilities
    t = threshold_for_fpr(real, 0.05)
    assert (real >= t).sum() == 5  # exactly the allowed five
    assert threshold_for_fpr(real, 0.001) > real.max()  # zero allowed: above every real image
    tied = np.asarray([0.9] * 10 + [0.1] * 90)
    assert (tied >= threshold_for_fpr(tied, 0.05)).sum() == 0  # ties cannot sneak ten through


def test_evaluation_figures_match_their_definitions():
    rng = np.random.default_rng(3)
    real = rng.beta(2, 5, 2000)
    ai = rng.beta(5, 2, 1000)
    labels = np.r_[np.ones(1000, int), np.zeros(2000, int)]
    probs = np.r_[ai, real]
    groups = ["ai/x"] * 500 + ["ai/y"] * 500 + ["real/cam"] * 2000
    rep = evaluate_scores("m 1", labels, probs, groups=groups, target_fpr=0.01)
    assert rep.auc == pytest.approx(roc_auc_score(labels, probs), abs=1e-12)
    assert rep.fpr == (real >= rep.threshold).mean() and rep.fpr <= 0.01
    assert rep.tpr == (ai >= rep.threshold).mean()
    assert rep.tpr_at_fpr["0.001"] is not None  # 2,000 real images are enough to measure 0.1 %
    by = {g.group: g for g in rep.groups}
    assert by["ai/x"].rate == (ai[:500] >= rep.threshold).mean()
    assert by["real/cam"].rate == rep.fpr and by["real/cam"].label == "real"
    assert sum(r["count"] for r in rep.reliability) == 3000
    ece = sum(r["count"] / 3000 * abs(r["predicted"] - r["observed"]) for r in rep.reliability)
    assert rep.ece == pytest.approx(ece)


def test_too_few_real_images_do_not_pretend_to_measure_low_rates():
    rep = evaluate_scores("m", [1, 1, 0, 0, 0], [0.9, 0.8, 0.3, 0.2, 0.1])
    assert rep.tpr_at_fpr == {"0.01": None, "0.001": None}
    assert rep.auc == 1.0 and rep.tpr == 1.0 and rep.fpr == 0.0


def test_calibrations_map_scores_to_observed_frequencies():
    rng = np.random.default_rng(0)
    scores = rng.normal(0, 2, 4000)
    labels = (rng.uniform(size=4000) < 1 / (1 + np.exp(-(0.5 * scores - 1.0)))).astype(int)
    platt = fit_calibration(scores, labels, "platt")
    assert platt.a == pytest.approx(0.5, abs=0.08) and platt.b == pytest.approx(-1.0, abs=0.15)
    iso = fit_calibration(scores, labels, "isotonic")
    p = iso.apply(scores)
    assert np.all(np.diff(iso.apply(np.sort(scores))) >= 0)  # monotone
    assert p.mean() == pytest.approx(labels.mean(), abs=1e-9)  # isotonic regression preserves the mean


def test_evaluation_refuses_one_class():
    with pytest.raises(ValueError, match="both AI and real"):
        evaluate_scores("m", [1, 1], [0.2, 0.3])
