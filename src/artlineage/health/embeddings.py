"""Image embeddings behind one small interface, for diversity and collapse measurements.

``Embedder`` is anything with ``embed(images) -> (n, d) float array``. Three are provided:

* ``StatisticsEmbedder`` (default): deterministic image statistics, no weights to download. Colour
  (joint RGB histogram + channel moments), texture (gradient-orientation histograms on a 2×2 grid) and
  frequency (DCT energy in radial bands). Each block is L2-normalised, then the vector is centred and
  whitened with a fixed map learned from generated images and L2-normalised, so unrelated images are
  near-orthogonal and cosine similarity (and Vendi) is meaningful. It sees style and composition statistics,
  not semantics: near-identical renders score as near-identical, different subjects with the same
  palette may too. Use a learned model for semantic diversity.
* ``OnnxEmbedder(path)``: any image model exported to ONNX that the user has on disk (onnxruntime).
* ``OpenClipEmbedder(model, checkpoint)``: open_clip with a local checkpoint (torch; lazy import).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator, Protocol, Sequence, Union, runtime_checkable

import numpy as np
from PIL import Image

ImageLike = Union[str, "os.PathLike[str]", Image.Image]

# Decoding bound: embeddings and hashes need only a thumbnail; draft mode makes JPEG decode cheap.
THUMBNAIL_SIDE = 256


@runtime_checkable
class Embedder(Protocol):
    """Maps images to an (n, d) array of embeddings (rows comparable by cosine similarity)."""

    name: str

    def embed(self, images: Sequence[ImageLike]) -> np.ndarray: ...


def load_thumbnail(image: ImageLike, side: int = THUMBNAIL_SIDE) -> Image.Image:
    """Decode an image (path or PIL image) to RGB no larger than ``side`` on its long edge."""
    if isinstance(image, Image.Image):
        img = image
    else:
        img = Image.open(image)
        if img.format == "JPEG":
            img.draft("RGB", (side, side))  # decode at 1/2..1/8 scale: far less work for big photos
    if getattr(img, "n_frames", 1) > 1:
        img.seek(0)
    if img.mode not in ("RGB", "L"):
        # Composite transparency onto white so alpha does not leak arbitrary hidden colour values.
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(canvas, rgba)
    img = img.convert("RGB")
    if max(img.size) > side:
        img = img.copy()
        img.thumbnail((side, side), Image.Resampling.BILINEAR)
    return img


def _l2(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.where(n > 0, n, 1.0)


def _colour_features(rgb: np.ndarray, bins: int) -> np.ndarray:
    q = (rgb.astype(np.int32) * bins) // 256
    idx = (q[..., 0] * bins + q[..., 1]) * bins + q[..., 2]
    hist = np.bincount(idx.ravel(), minlength=bins ** 3).astype(np.float64)
    hist = np.sqrt(hist / hist.sum())  # Hellinger mapping: cosine on sqrt-histograms = Bhattacharyya
    chans = rgb.reshape(-1, 3).astype(np.float64) / 255.0
    mean = chans.mean(0)
    std = chans.std(0)
    skew = np.cbrt(((chans - mean) ** 3).mean(0))
    return np.concatenate([_l2(hist), np.concatenate([mean, std, skew]) / np.sqrt(3)])


def _texture_features(gray: np.ndarray, orientations: int) -> np.ndarray:
    gy, gx = np.gradient(gray)
    mag = np.hypot(gx, gy)
    ang = np.mod(np.arctan2(gy, gx), np.pi)  # unsigned orientation, as in HOG
    idx = np.minimum((ang / np.pi * orientations).astype(np.int32), orientations - 1)
    h, w = gray.shape
    cells = []
    for rows in (slice(0, h // 2), slice(h // 2, h)):
        for cols in (slice(0, w // 2), slice(w // 2, w)):
            cells.append(np.bincount(idx[rows, cols].ravel(), weights=mag[rows, cols].ravel(),
                                     minlength=orientations))
    hist = np.concatenate(cells)
    return _l2(np.sqrt(hist))


def _frequency_features(gray: np.ndarray, bands: int) -> np.ndarray:
    from scipy.fft import dctn

    coeffs = dctn(gray - gray.mean(), type=2, norm="ortho")
    h, w = coeffs.shape
    yy, xx = np.mgrid[0:h, 0:w]
    radius = np.sqrt((yy / h) ** 2 + (xx / w) ** 2) / np.sqrt(2)
    band = np.minimum((radius * bands).astype(np.int32), bands - 1)
    energy = np.bincount(band.ravel(), weights=(coeffs ** 2).ravel(), minlength=bands)
    return _l2(np.log1p(energy))


DEFAULT_STATISTICS_PARAMS = (4, 16, 16, 64)  # colour_bins, orientations, bands, side


def raw_statistics(image: ImageLike, colour_bins: int = 4, orientations: int = 16, bands: int = 16,
                   side: int = 64) -> np.ndarray:
    """The unstandardised feature vector: colour, texture and frequency blocks, each L2-normalised."""
    img = load_thumbnail(image)
    small = img.resize((side, side), Image.Resampling.BILINEAR)
    rgb = np.asarray(small, dtype=np.uint8)
    gray = np.asarray(small.convert("L"), dtype=np.float64) / 255.0
    return np.concatenate([
        _colour_features(rgb, colour_bins),
        _texture_features(gray, orientations),
        _frequency_features(gray, bands),
    ])


class StatisticsEmbedder:
    """Deterministic, weight-free image statistics (colour, texture, frequency), standardised, L2-normalised.

    The raw statistics are all non-negative and correlated, so raw cosine similarities are all high
    and Vendi scores compressed. Each vector is therefore centred and whitened with a fixed map learned
    once from generated reference images (see ``_statistics_reference``): unrelated images come out
    near-orthogonal, copies stay together, and an image's embedding does not depend on the dataset.
    Dimension: ``colour_bins**3 + 9 + 4*orientations + bands`` (153 with the defaults).
    """

    name = "statistics"

    def __init__(self, colour_bins: int = 4, orientations: int = 16, bands: int = 16, side: int = 64):
        self.colour_bins, self.orientations, self.bands, self.side = colour_bins, orientations, bands, side

    @property
    def params(self) -> tuple[int, int, int, int]:
        return (self.colour_bins, self.orientations, self.bands, self.side)

    @property
    def dim(self) -> int:
        return self.colour_bins ** 3 + 9 + 4 * self.orientations + self.bands

    def embed_one(self, image: ImageLike) -> np.ndarray:
        return self.embed([image])[0]

    def embed(self, images: Sequence[ImageLike]) -> np.ndarray:
        if len(images) == 0:
            return np.zeros((0, self.dim), np.float32)
        from ._statistics_reference import standardiser_for

        raw = np.stack([raw_statistics(im, *self.params) for im in images])
        return _l2(standardiser_for(self.params).apply(raw)).astype(np.float32)


class OnnxEmbedder:
    """An image model exported to ONNX, run with onnxruntime on CPU (the optional ``onnx`` extra).

    The model takes one float32 NCHW input (RGB, scaled to [0, 1] then ``(x - mean) / std``); its first
    output (or ``output_name``) is flattened per image and L2-normalised. The input side is read from
    the model when static, else ``input_size``.
    """

    def __init__(self, path: str | os.PathLike[str], *, input_size: int = 224,
                 mean: Sequence[float] = (0.485, 0.456, 0.406), std: Sequence[float] = (0.229, 0.224, 0.225),
                 output_name: str | None = None, batch_size: int = 32, threads: int | None = None):
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("OnnxEmbedder needs onnxruntime: pip install 'artlineage[onnx]'") from exc
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no ONNX model at {path}")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise ValueError(f"expected a model with one image input, {path} has {len(inputs)}")
        self.input_name = inputs[0].name
        shape = inputs[0].shape  # e.g. ['batch', 3, 224, 224]; symbolic dims come as strings/None
        if len(shape) != 4:
            raise ValueError(f"expected an NCHW image input, got shape {shape}")
        h, w = shape[2], shape[3]
        self.height = h if isinstance(h, int) else input_size
        self.width = w if isinstance(w, int) else input_size
        self.channels = shape[1] if isinstance(shape[1], int) else 3
        outputs = [o.name for o in self.session.get_outputs()]
        if output_name is not None and output_name not in outputs:
            raise ValueError(f"model has no output {output_name!r}; outputs: {outputs}")
        self.output_name = output_name or outputs[0]
        self._fixed_batch = shape[0] if isinstance(shape[0], int) else None
        self.batch_size = self._fixed_batch or batch_size
        self.mean = np.asarray(mean, np.float32).reshape(1, 3, 1, 1)
        self.std = np.asarray(std, np.float32).reshape(1, 3, 1, 1)
        self.name = f"onnx:{path.name}"

    def preprocess(self, images: Sequence[ImageLike]) -> np.ndarray:
        arrays = []
        for im in images:
            img = load_thumbnail(im, side=max(self.height, self.width) * 2)
            img = img.resize((self.width, self.height), Image.Resampling.BICUBIC)
            arrays.append(np.asarray(img, np.float32).transpose(2, 0, 1) / 255.0)
        x = (np.stack(arrays) - self.mean) / self.std
        if self.channels == 1:
            x = x.mean(axis=1, keepdims=True)
        return x.astype(np.float32)

    def embed(self, images: Sequence[ImageLike]) -> np.ndarray:
        out = []
        for start in range(0, len(images), self.batch_size):
            x = self.preprocess(images[start:start + self.batch_size])
            real = x.shape[0]
            if self._fixed_batch and real < self._fixed_batch:  # pad a static-batch model's last batch
                x = np.concatenate([x, np.zeros((self._fixed_batch - real, *x.shape[1:]), np.float32)])
            y = self.session.run([self.output_name], {self.input_name: x})[0][:real]
            out.append(y.reshape(real, -1).astype(np.float32))
        if not out:
            return np.zeros((0, 0), np.float32)
        return _l2(np.concatenate(out))


class OpenClipEmbedder:
    """open_clip image tower with a checkpoint on local disk. Needs torch and open_clip_torch.

    Not exercised by the test suite (torch is not a dependency); the code path is the documented
    ``open_clip.create_model_and_transforms(name, pretrained=<local file>)``.
    """

    def __init__(self, model_name: str, checkpoint: str | os.PathLike[str], *, device: str = "cpu",
                 batch_size: int = 32):
        try:
            import open_clip
            import torch
        except ImportError as exc:  # pragma: no cover - optional
            raise ImportError("OpenClipEmbedder needs torch and open_clip_torch installed") from exc
        if not Path(checkpoint).is_file():
            raise FileNotFoundError(f"no checkpoint at {checkpoint}")
        self._torch = torch
        self.model, _, self.transform = open_clip.create_model_and_transforms(
            model_name, pretrained=str(checkpoint), device=device)
        self.model.eval()
        self.device, self.batch_size = device, batch_size
        self.name = f"open_clip:{model_name}"

    def embed(self, images: Sequence[ImageLike]) -> np.ndarray:  # pragma: no cover - needs torch
        torch = self._torch
        out = []
        with torch.no_grad():
            for start in range(0, len(images), self.batch_size):
                batch = torch.stack([self.transform(load_thumbnail(im, side=512))
                                     for im in images[start:start + self.batch_size]]).to(self.device)
                out.append(self.model.encode_image(batch).float().cpu().numpy())
        return _l2(np.concatenate(out)) if out else np.zeros((0, 0), np.float32)


def embedder_from_spec(spec: str | None) -> Embedder:
    """``statistics`` (default), ``onnx:PATH`` or ``open_clip:MODEL:CHECKPOINT``."""
    if not spec or spec == "statistics":
        return StatisticsEmbedder()
    kind, _, rest = spec.partition(":")
    if kind == "onnx" and rest:
        return OnnxEmbedder(rest)
    if kind == "open_clip" and ":" in rest:
        model, _, ckpt = rest.partition(":")
        return OpenClipEmbedder(model, ckpt)
    raise ValueError(f"unknown embedder {spec!r}: use statistics, onnx:PATH or open_clip:MODEL:CHECKPOINT")


def embed_in_batches(embedder: Embedder, images: Iterable[ImageLike], batch_size: int = 64
                     ) -> Iterator[np.ndarray]:
    """Yield embeddings batch by batch, so callers can stream them (e.g. into a VendiAccumulator)."""
    batch: list[ImageLike] = []
    for im in images:
        batch.append(im)
        if len(batch) >= batch_size:
            yield embedder.embed(batch)
            batch = []
    if batch:
        yield embedder.embed(batch)
