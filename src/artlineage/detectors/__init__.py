"""Learned detectors as evidence: bring a model, calibrate it on your own data, know its error rates.

A detector turns pixels into a *model's estimate* that an image is AI-made. It is kept apart from
what a file says about itself: its evidence is named as an estimate, implies AI only above the
threshold chosen from an evaluation on labelled data, and never outweighs a signed claim or a
camera capture claim (``verdicts.provenance``). Detectors are off by default.

Adapters (chosen by the model card's ``kind``):

* ``onnx``: any exported classifier, preprocessing described in the card (:class:`OnnxDetector`);
* ``remote``: a detection API, through the project's SSRF-safe fetcher, rate limited, results
  cached by SHA-256 (:class:`RemoteDetector`);
* ``trained``: a light classifier fitted by ``artlineage detect train`` on your folders
  (:class:`TrainedDetector`);
* plugins: ``artlineage.detectors`` entry points or :func:`register_detector`.
"""

from ._base import MODEL_ESTIMATE_MAX_STRENGTH, CardDetector, Detector, DetectorError, DetectorResult
from ._card import Calibration, Evaluation, InputSpec, ModelCard, ModelCardError, OutputSpec, load_card
from ._loading import detector_from_card, load_detector, load_detectors, register_detector
from .evaluation import EvaluationReport, evaluate_scores, fit_calibration, threshold_for_fpr
from .onnx import OnnxDetector
from .trained import TrainedDetector, train_detector
from .workflows import evaluate_folders, train_from_folders, write_evaluation

__all__ = [
    "MODEL_ESTIMATE_MAX_STRENGTH", "CardDetector", "Detector", "DetectorError", "DetectorResult",
    "Calibration", "Evaluation", "InputSpec", "ModelCard", "ModelCardError", "OutputSpec", "load_card",
    "detector_from_card", "load_detector", "load_detectors", "register_detector",
    "EvaluationReport", "evaluate_scores", "fit_calibration", "threshold_for_fpr",
    "OnnxDetector", "TrainedDetector", "train_detector", "evaluate_folders", "train_from_folders",
    "write_evaluation",
]
