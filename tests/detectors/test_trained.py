import json

import numpy as np
import pytest

pytest.importorskip("sklearn")

from artlineage import inspect_file  # noqa: E402
from artlineage.detectors import (TrainedDetector, evaluate_folders, load_detector, train_from_folders,  # noqa: E402
                                  write_evaluation)
from artlineage.detectors.features import FEATURE_NAMES, image_features  # noqa: E402
from artlineage.verdicts import Origin  # noqa: E402

from PIL.PngImagePlugin import PngInfo  # noqa: E402

from ..signals._xmp_fixtures import digital_source_type_packet  # noqa: E402
from ._images import camera_like, generator_like, write_labelled  # noqa: E402


def test_features_have_their_names_and_see_the_traces():
    rng = np.random.default_rng(0)
    cam, gen = image_features(camera_like(rng)), image_features(generator_like(rng))
    assert cam.shape == gen.shape == (len(FEATURE_NAMES),)
    corr = FEATURE_NAMES.index("residual_corr_rg")
    assert cam[corr] > 0.3  # demosaicing correlates the channels' noise
    peak = FEATURE_NAMES.index("residual_peak_0.5_0")
    assert gen[peak] > cam[peak]  # 2x upsampling leaves a peak at half the sampling rate


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("det")
    ai, real = write_labelled(root / "train", 24, 24, seed=1)
    result, errors = train_from_folders([ai], [real], out=root / "model", name="residual-test", version="0.1")
    return root, result, errors


def test_training_saves_a_card_with_weights_and_a_holdout_evaluation(trained):
    root, result, errors = trained
    assert errors == []
    card = json.loads((root / "model" / "detector.card.json").read_text())
    assert card["kind"] == "trained" and card["extra"]["features"] == "residual"
    assert len(card["extra"]["weights"]["coef"]) == len(FEATURE_NAMES)
    assert card["evaluation"]["n_ai"] + card["evaluation"]["n_real"] == 15  # 30 % of 48, stratified
    assert card["calibration"]["method"] == "platt"
    assert result.holdout.auc == 1.0  # the two synthetic families are separable by design


def test_evaluation_on_new_images_sets_the_threshold_and_writes_a_report(trained, tmp_path):
    root, _, _ = trained
    ai, real = write_labelled(tmp_path / "eval", 20, 20, seed=7)
    (real / "camera" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    det = load_detector(root / "model")
    assert isinstance(det, TrainedDetector)
    ev = evaluate_folders(det, [ai], [real], target_fpr=0.05)
    rep = ev.report
    assert rep.n_ai == 20 and rep.n_real == 20
    assert [p for p, _ in rep.errors] == [str(real / "camera" / "broken.png")]
    assert rep.auc == 1.0 and rep.fpr == 0.0 and rep.tpr == 1.0
    assert {g.group for g in rep.groups} == {"ai/gen_a", "ai/gen_b", "real/camera"}
    paths = write_evaluation(rep, ev.card, tmp_path / "report")
    page = paths["html"].read_text()
    assert "ROC AUC" in page and 'src="data:image/png;base64,' in page and "broken.png" in page
    saved = ev.card.save(tmp_path / "evaluated.card.json")
    again = load_detector(saved)
    assert again.card.evaluation.threshold == rep.threshold


def test_trained_detector_estimate_joins_a_verdict_without_overruling_file_evidence(trained, tmp_path):
    root, _, _ = trained
    det = load_detector(root / "model")
    pixels = generator_like(np.random.default_rng(11))
    ai_img = tmp_path / "gen.png"
    pixels.save(ai_img)
    report = inspect_file(ai_img, detectors=[det])
    assert report.origin is Origin.AI_GENERATED
    assert report.verdict.confidence == 0.55  # the cap: an estimate alone never reads as certain
    # The same pixels with a camera capture claim in XMP: the file's evidence decides.
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", digital_source_type_packet("digitalCapture").decode())
    claimed = tmp_path / "claimed.png"
    pixels.save(claimed, pnginfo=info)
    report = inspect_file(claimed, detectors=[det])
    assert report.origin is Origin.CAMERA and report.verdict.decided_by == "file"
    assert any("model estimate disagrees" in c for c in report.verdict.conflicts)
