"""Model cards: what a detector needs besides its weights, in a small JSON file next to them.

A card says how to feed the model (input size, resize, normalisation, channel order), how to read
its output (logit, probability or softmax, which index means "AI"), how its raw score maps to a
probability (calibration) and how it performed on labelled data (evaluation: the decision
threshold and the error rates measured at it). Thresholds live here, chosen by ``detect eval``
from an evaluation — never hard-coded in the program.

Example ``detector.card.json``::

    {"kind": "onnx", "name": "my-detector", "version": "2.1", "model_file": "model.onnx",
     "input": {"size": [224, 224], "resize": "shorter_side_center_crop",
               "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
     "output": {"kind": "logit", "ai_index": 0},
     "calibration": {"method": "platt", "a": 1.7, "b": -0.4},
     "evaluation": {"dataset": "our uploads, 2026-10", "threshold": 0.81, "fpr": 0.02, "tpr": 0.88, ...}}
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

from ..errors import ConfigurationError

CARD_SUFFIX = ".card.json"
_MAX_CARD_BYTES = 4 * 1024 * 1024  # a card is a few kB; an isotonic table a few hundred points
_RESIZE_MODES = ("resize", "center_crop", "shorter_side_center_crop")
_OUTPUT_KINDS = ("logit", "probability", "softmax")


class ModelCardError(ConfigurationError):
    """A model card is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class InputSpec:
    size: tuple[int, int] = (224, 224)  # (height, width) the model takes
    resize: str = "shorter_side_center_crop"  # or "resize" (squash) or "center_crop" (no scaling)
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    channel_order: str = "RGB"  # or "BGR"
    layout: str = "NCHW"  # or "NHWC"
    scale: float = 255.0  # pixel values are divided by this before mean/std


@dataclass(frozen=True)
class OutputSpec:
    kind: str = "logit"  # "logit": one raw score; "probability": already in [0, 1]; "softmax": class logits
    ai_index: int = 0  # which element of the output row is the AI class
    name: str | None = None  # output tensor name (default: the first)


@dataclass(frozen=True)
class Calibration:
    """Maps a model's raw score to a probability that the image is AI-made.

    ``platt``: ``p = 1 / (1 + exp(-(a * score + b)))`` (Platt 1999). ``isotonic``: piecewise-linear
    interpolation through ``(x, y)`` points fitted by isotonic regression (Zadrozny & Elkan 2002).
    ``identity``: the score already is a probability.
    """

    method: Literal["platt", "isotonic", "identity"] = "identity"
    a: float = 1.0
    b: float = 0.0
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()

    def apply(self, scores: np.ndarray | Sequence[float]) -> np.ndarray:
        s = np.asarray(scores, dtype=np.float64)
        if self.method == "platt":
            z = np.clip(self.a * s + self.b, -500.0, 500.0)
            return 1.0 / (1.0 + np.exp(-z))
        if self.method == "isotonic":
            return np.interp(s, np.asarray(self.x), np.asarray(self.y))
        return np.clip(s, 0.0, 1.0)


@dataclass(frozen=True)
class Evaluation:
    """How the detector did on labelled data, at the threshold chosen from that data."""

    dataset: str
    n_ai: int
    n_real: int
    threshold: float  # calibrated probability at or above which the detector says "AI"
    fpr: float  # real images called AI at that threshold
    tpr: float  # AI images called AI at that threshold
    auc: float
    target_fpr: float
    tpr_at_fpr: dict[str, float] = field(default_factory=dict)  # {"0.01": ..., "0.001": ...}
    evaluated_at: str = ""


@dataclass(frozen=True)
class ModelCard:
    kind: str  # "onnx", "trained" or "remote"; picks the adapter
    name: str
    version: str = "0"
    model_file: str | None = None  # relative to the card's folder
    input: InputSpec = InputSpec()
    output: OutputSpec = OutputSpec()
    calibration: Calibration = Calibration()
    evaluation: Evaluation | None = None
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # adapter-specific settings (remote URL, features)
    path: Path | None = None  # where the card was read from (not saved)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def model_path(self) -> Path:
        if not self.model_file:
            raise ModelCardError(f"card {self.name!r} names no model_file")
        base = self.path.parent if self.path else Path(".")
        return base / self.model_file

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("path")
        return d

    def with_evaluation(self, evaluation: Evaluation, calibration: Calibration | None = None) -> "ModelCard":
        from dataclasses import replace

        return replace(self, evaluation=evaluation, calibration=calibration or self.calibration)

    def save(self, path: str | os.PathLike[str]) -> Path:
        from .._files import write_text_atomic

        p = Path(path)
        write_text_atomic(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n", p)
        return p


def card_path_for(path: str | os.PathLike[str]) -> Path:
    """The card for a model path: the path itself if it is a card, ``<dir>/detector.card.json`` for a
    folder, else ``<model>.card.json`` beside the model file."""
    p = Path(path)
    if p.name.endswith(CARD_SUFFIX):
        return p
    if p.is_dir():
        return p / f"detector{CARD_SUFFIX}"
    return p.with_name(p.name + CARD_SUFFIX) if not p.with_suffix(CARD_SUFFIX).exists() else p.with_suffix(CARD_SUFFIX)


def _floats(value: Any, n: int, what: str) -> tuple[float, ...]:
    if not isinstance(value, (list, tuple)) or len(value) != n:
        raise ModelCardError(f"{what} must be a list of {n} numbers, got {value!r}")
    out = tuple(float(v) for v in value)
    if not all(math.isfinite(v) for v in out):
        raise ModelCardError(f"{what} must be finite numbers, got {value!r}")
    return out


def card_from_dict(d: dict[str, Any], path: Path | None = None) -> ModelCard:
    """Validate a card's JSON. Every problem is a :class:`ModelCardError` naming the field."""
    if not isinstance(d, dict):
        raise ModelCardError("a model card is a JSON object")
    try:
        kind, name = str(d["kind"]), str(d["name"])
    except KeyError as exc:
        raise ModelCardError(f"model card lacks the field {exc.args[0]!r}") from None
    inp = d.get("input") or {}
    size = _floats(inp.get("size", [224, 224]), 2, "input.size")
    if not all(1 <= s <= 4096 for s in size):
        raise ModelCardError(f"input.size must be between 1 and 4096 pixels, got {size}")
    resize = inp.get("resize", "shorter_side_center_crop")
    if resize not in _RESIZE_MODES:
        raise ModelCardError(f"input.resize must be one of {_RESIZE_MODES}, got {resize!r}")
    std = _floats(inp.get("std", [1, 1, 1]), 3, "input.std")
    if any(s == 0 for s in std):
        raise ModelCardError("input.std must not contain 0")
    if inp.get("channel_order", "RGB") not in ("RGB", "BGR") or inp.get("layout", "NCHW") not in ("NCHW", "NHWC"):
        raise ModelCardError("input.channel_order must be RGB or BGR and input.layout NCHW or NHWC")
    input_spec = InputSpec(size=(int(size[0]), int(size[1])), resize=resize,
                           mean=_floats(inp.get("mean", [0, 0, 0]), 3, "input.mean"), std=std,  # type: ignore[arg-type]
                           channel_order=inp.get("channel_order", "RGB"), layout=inp.get("layout", "NCHW"),
                           scale=float(inp.get("scale", 255.0)))
    out = d.get("output") or {}
    if out.get("kind", "logit") not in _OUTPUT_KINDS:
        raise ModelCardError(f"output.kind must be one of {_OUTPUT_KINDS}, got {out.get('kind')!r}")
    output_spec = OutputSpec(kind=out.get("kind", "logit"), ai_index=int(out.get("ai_index", 0)), name=out.get("name"))
    cal = d.get("calibration") or {"method": "identity"}
    method = cal.get("method", "identity")
    if method not in ("platt", "isotonic", "identity"):
        raise ModelCardError(f"calibration.method must be platt, isotonic or identity, got {method!r}")
    x, y = tuple(float(v) for v in cal.get("x", ())), tuple(float(v) for v in cal.get("y", ()))
    if method == "isotonic" and (len(x) != len(y) or len(x) < 2 or list(x) != sorted(x)):
        raise ModelCardError("calibration.x and .y must be equal-length lists, x ascending, at least 2 points")
    calibration = Calibration(method=method, a=float(cal.get("a", 1.0)), b=float(cal.get("b", 0.0)), x=x, y=y)
    ev = d.get("evaluation")
    evaluation = None
    if ev:
        try:
            evaluation = Evaluation(dataset=str(ev.get("dataset", "")), n_ai=int(ev["n_ai"]), n_real=int(ev["n_real"]),
                                    threshold=float(ev["threshold"]), fpr=float(ev["fpr"]), tpr=float(ev["tpr"]),
                                    auc=float(ev.get("auc", float("nan"))), target_fpr=float(ev.get("target_fpr", ev["fpr"])),
                                    tpr_at_fpr={str(k): float(v) for k, v in (ev.get("tpr_at_fpr") or {}).items()},
                                    evaluated_at=str(ev.get("evaluated_at", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelCardError(f"evaluation is incomplete or malformed: {exc}") from None
    return ModelCard(kind=kind, name=name, version=str(d.get("version", "0")), model_file=d.get("model_file"),
                     input=input_spec, output=output_spec, calibration=calibration, evaluation=evaluation,
                     description=str(d.get("description", "")), extra=dict(d.get("extra") or {}), path=path)


def load_card(path: str | os.PathLike[str]) -> ModelCard:
    p = card_path_for(path)
    try:
        if p.stat().st_size > _MAX_CARD_BYTES:
            raise ModelCardError(f"model card {p} is larger than {_MAX_CARD_BYTES} bytes")
        d = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelCardError(f"no model card at {p} (a detector needs one: see docs/detectors.md)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelCardError(f"cannot read model card {p}: {exc}") from None
    return card_from_dict(d, path=p)
