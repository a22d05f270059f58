"""Images per second per core for each detector adapter.

    python benchmarks/bench_detectors.py [--n 200] [--side 1024]

* ``trained``: the residual-statistics features + logistic regression (numpy only at run time);
* ``onnx``: a small convolutional classifier built here (3 conv layers, 224x224 input), run by
  onnxruntime on one thread — the cost of a real model is dominated by its own FLOPs, so this
  measures the adapter's overhead (decode, resize, normalise, batch) on top of a light model;
* ``remote``: a detection API on loopback answering at once, first uncached, then from the
  SHA-256 cache (what a re-scan costs).

One core: onnxruntime and BLAS are pinned to one thread.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.detectors._images import camera_like, generator_like  # noqa: E402


def _images(n: int, side: int) -> list[bytes]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        im = (generator_like if i % 2 else camera_like)(rng, 256).resize((side, side), Image.Resampling.BICUBIC)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def _conv_model(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, inits, prev, ch = [], [], "image", 3
    for i, out_ch in enumerate((16, 32, 64)):
        w = rng.normal(0, 0.1, (out_ch, ch, 3, 3)).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        nodes += [helper.make_node("Conv", [prev, f"w{i}"], [f"c{i}"], strides=[2, 2], pads=[1, 1, 1, 1]),
                  helper.make_node("Relu", [f"c{i}"], [f"r{i}"])]
        prev, ch = f"r{i}", out_ch
    inits.append(numpy_helper.from_array(rng.normal(0, 0.1, (64, 1)).astype(np.float32), "fc"))
    nodes += [helper.make_node("GlobalAveragePool", [prev], ["p"]), helper.make_node("Flatten", ["p"], ["f"]),
              helper.make_node("MatMul", ["f", "fc"], ["logit"])]
    graph = helper.make_graph(nodes, "bench", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                                             ["batch", 3, 224, 224])],
                              [helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["batch", 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def _rate(fn, blobs: list[bytes], batch: int = 16) -> float:
    t = time.perf_counter()
    for start in range(0, len(blobs), batch):
        fn([Image.open(io.BytesIO(b)) for b in blobs[start:start + batch]])
    return len(blobs) / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--side", type=int, default=1024)
    args = ap.parse_args()
    from artlineage.detectors import ModelCard, OnnxDetector, TrainedDetector, train_detector
    from artlineage.detectors._card import InputSpec
    from artlineage.detectors.features import ResidualFeatures

    blobs = _images(args.n, args.side)
    print(f"{args.n} JPEG images of {args.side}x{args.side}, one core")
    feats = ResidualFeatures()
    rng = np.random.default_rng(1)
    x_ai = feats.features([generator_like(rng) for _ in range(20)])
    x_real = feats.features([camera_like(rng) for _ in range(20)])
    trained = train_detector(x_ai, x_real, name="bench").detector
    assert isinstance(trained, TrainedDetector)
    print(f"trained (residual features): {_rate(trained.detect, blobs):8.1f} images/s")
    with tempfile.TemporaryDirectory() as d:
        model = Path(d) / "conv.onnx"
        _conv_model(model)
        card = ModelCard(kind="onnx", name="conv", model_file=str(model),
                         input=InputSpec(size=(224, 224), mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)))
        onnx_det = OnnxDetector(card, threads=1)
        print(f"onnx (3-conv, 224 px):       {_rate(onnx_det.detect, blobs):8.1f} images/s")
    try:
        from tests.detectors.test_remote import remote_benchmark  # the loopback API and cache, as in the tests
    except ImportError:
        return
    for label, rate in remote_benchmark(blobs):
        print(f"remote ({label}): {rate:8.1f} images/s")
    print(json.dumps({"n": args.n, "side": args.side}))


if __name__ == "__main__":
    main()
