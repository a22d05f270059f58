import json
import math

import numpy as np
import pytest
from PIL import Image

from artlineage import inspect_file
from artlineage.detectors import ModelCardError, OnnxDetector, load_detector
from artlineage.verdicts import Origin


def _mean_logit_model(path, classes: int = 1):
    """GlobalAveragePool -> Flatten -> MatMul: one logit per class, a known function of channel means."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    w = np.ones((3, classes), np.float32) * 2.0  # logit = 2 * (mean_r + mean_g + mean_b) of the normalised input
    if classes == 2:
        w[:, 1] = -2.0
    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
         helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
         helper.make_node("MatMul", ["flat", "w"], ["logits"])],
        "mean_logit",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, 16, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes])],
        initializer=[numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _card(tmp_path, **overrides):
    card = {"kind": "onnx", "name": "mean-logit", "version": "1.0", "model_file": "m.onnx",
            "input": {"size": [16, 16], "resize": "resize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
            "output": {"kind": "logit", "ai_index": 0},
            "calibration": {"method": "platt", "a": 1.0, "b": 0.0},
            "evaluation": {"dataset": "unit test set", "n_ai": 10, "n_real": 10, "threshold": 0.7, "fpr": 0.02,
                           "tpr": 0.9, "auc": 0.97}}
    card.update(overrides)
    (tmp_path / "m.onnx.card.json").write_text(json.dumps(card))
    return tmp_path / "m.onnx"


def test_onnx_detector_applies_the_cards_preprocessing_and_calibration(tmp_path):
    pytest.importorskip("onnxruntime")
    _mean_logit_model(tmp_path / "m.onnx")
    det = load_detector(_card(tmp_path))
    assert isinstance(det, OnnxDetector)
    grey = Image.new("RGB", (40, 30), (204, 204, 204))  # 0.8 -> (0.8 - 0.5) / 0.5 = 0.6 per channel
    [result] = det.detect([grey])
    assert result.score == pytest.approx(2.0 * 3 * 0.6, abs=1e-5)
    assert result.probability == pytest.approx(1 / (1 + math.exp(-3.6)), abs=1e-6)
    assert result.says_ai and result.threshold == 0.7 and result.fpr == 0.02
    dark = Image.new("RGB", (16, 16), (51, 51, 51))  # 0.2 -> -0.6: logit -3.6, below the threshold
    [low] = det.detect([dark])
    assert low.probability == pytest.approx(1 / (1 + math.exp(3.6)), abs=1e-6) and not low.says_ai


def test_softmax_output_takes_the_ai_class_probability(tmp_path):
    pytest.importorskip("onnxruntime")
    _mean_logit_model(tmp_path / "m.onnx", classes=2)
    det = load_detector(_card(tmp_path, output={"kind": "softmax", "ai_index": 1}, calibration={"method": "identity"}))
    [r] = det.detect([Image.new("RGB", (16, 16), (204, 204, 204))])
    # logits (3.6, -3.6): softmax of class 1
    assert r.score == pytest.approx(math.exp(-3.6) / (math.exp(-3.6) + math.exp(3.6)), abs=1e-6)
    assert r.probability == pytest.approx(r.score)


def test_estimate_in_a_verdict_is_named_as_a_models_estimate(tmp_path):
    pytest.importorskip("onnxruntime")
    _mean_logit_model(tmp_path / "m.onnx")
    det = load_detector(_card(tmp_path))
    img = tmp_path / "bright.png"
    Image.new("RGB", (64, 64), (230, 230, 230)).save(img)
    plain = inspect_file(img)
    assert plain.origin is Origin.UNKNOWN and plain.verdict.decided_by == "none"
    report = inspect_file(img, detectors=[det])
    assert report.origin is Origin.AI_GENERATED and report.verdict.decided_by == "model_estimate"
    [est] = [e for e in report.evidence if e.reader == "detector"]
    assert est.strength == 0.55  # capped: a model estimate never reaches a signed claim's weight
    assert "estimates" in est.note and "evaluated at 2.0% false positives on unit test set" in est.note
    assert report.verdict.explanation.startswith("ai_generated (score 0.55) by a model estimate only")


def test_unevaluated_detector_is_information_only(tmp_path):
    pytest.importorskip("onnxruntime")
    _mean_logit_model(tmp_path / "m.onnx")
    det = load_detector(_card(tmp_path, evaluation=None))
    img = tmp_path / "bright.png"
    Image.new("RGB", (64, 64), (230, 230, 230)).save(img)
    report = inspect_file(img, detectors=[det])
    assert report.origin is Origin.UNKNOWN
    [est] = [e for e in report.evidence if e.reader == "detector"]
    assert est.implies.value == "info" and est.strength == 0.0
    assert "not evaluated on labelled data" in est.note


@pytest.mark.parametrize("bad, message", [
    ({"input": {"size": [0, 16]}}, "input.size"),
    ({"input": {"std": [1, 0, 1]}}, "input.std"),
    ({"output": {"kind": "sigmoidish"}}, "output.kind"),
    ({"calibration": {"method": "isotonic", "x": [1, 0], "y": [0, 1]}}, "calibration.x"),
    ({"evaluation": {"threshold": 0.5}}, "evaluation is incomplete"),
    ({"model_file": "missing.onnx"}, "does not exist"),
])
def test_bad_cards_are_clear_errors(tmp_path, bad, message):
    pytest.importorskip("onnxruntime")
    _mean_logit_model(tmp_path / "m.onnx")
    with pytest.raises(ModelCardError, match=message):
        load_detector(_card(tmp_path, **bad))


def test_a_missing_card_names_what_is_needed(tmp_path):
    (tmp_path / "m.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelCardError, match="no model card"):
        load_detector(tmp_path / "m.onnx")
