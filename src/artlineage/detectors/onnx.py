"""Any image classifier exported to ONNX, described by a model card, run with onnxruntime on CPU."""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np
from PIL import Image

from ._base import CardDetector, DetectorError
from ._card import ModelCard, ModelCardError, load_card
from ._preprocess import to_tensor

_MAX_BATCH = 64


class OnnxDetector(CardDetector):
    """``OnnxDetector.load("model.onnx")`` reads ``model.onnx.card.json`` (or ``model.card.json``) beside it.

    The card gives the input size, resize mode, normalisation and layout, and which output element is
    the AI class (``output.kind``: ``logit`` — a raw score, ``probability``, or ``softmax`` over class
    logits, of which the AI class's probability is taken).
    """

    def __init__(self, card: ModelCard, *, threads: int | None = None, batch_size: int = 16):
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ModelCardError("the ONNX detector needs onnxruntime: pip install 'artlineage[onnx]'") from exc
        path = card.model_path()
        if not path.is_file():
            raise ModelCardError(f"model card {card.name!r} points at {path}, which does not exist")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for a bad file
            raise ModelCardError(f"cannot load ONNX model {path}: {exc}") from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ModelCardError(f"expected one 4-D image input, {path} has {[i.shape for i in inputs]}")
        self.input_name = inputs[0].name
        outputs = [o.name for o in self.session.get_outputs()]
        if card.output.name is not None and card.output.name not in outputs:
            raise ModelCardError(f"model has no output {card.output.name!r}; outputs: {outputs}")
        self.output_name = card.output.name or outputs[0]
        batch_dim = inputs[0].shape[0]
        self.fixed_batch = batch_dim if isinstance(batch_dim, int) else None
        self.batch_size = self.fixed_batch or max(1, min(batch_size, _MAX_BATCH))
        self.card = card

    @classmethod
    def load(cls, path: str | os.PathLike[str], **kwargs: object) -> "OnnxDetector":
        card = load_card(path)
        if card.kind != "onnx":
            raise ModelCardError(f"card {card.name!r} is of kind {card.kind!r}, not onnx")
        return cls(card, **kwargs)  # type: ignore[arg-type]

    def _score_rows(self, y: np.ndarray) -> list[float]:
        y = y.reshape(y.shape[0], -1).astype(np.float64)
        idx = self.card.output.ai_index
        if not 0 <= idx < y.shape[1]:
            raise DetectorError(f"output has {y.shape[1]} values per image; ai_index {idx} is out of range")
        if self.card.output.kind == "softmax":
            z = y - y.max(axis=1, keepdims=True)
            e = np.exp(z)
            col = e[:, idx] / e.sum(axis=1)
        else:
            col = y[:, idx]
        if not np.all(np.isfinite(col)):
            raise DetectorError("model returned a non-finite score")
        return [float(v) for v in col]

    def raw_scores(self, images: Sequence[Image.Image]) -> list[float]:
        out: list[float] = []
        for start in range(0, len(images), self.batch_size):
            x = to_tensor(images[start:start + self.batch_size], self.card.input)
            real = x.shape[0]
            if self.fixed_batch and real < self.fixed_batch:  # pad a static-batch model's last batch
                x = np.concatenate([x, np.zeros((self.fixed_batch - real, *x.shape[1:]), np.float32)])
            try:
                y = self.session.run([self.output_name], {self.input_name: x})[0][:real]
            except Exception as exc:  # shape mismatch between card and model, etc.
                raise DetectorError(f"ONNX model {self.card.label} failed: {exc}") from None
            out.extend(self._score_rows(np.asarray(y)))
        return out
