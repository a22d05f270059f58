import numpy as np
import pytest

from artlineage.health.embeddings import OnnxEmbedder, StatisticsEmbedder, embedder_from_spec

from ._images import picture


def test_statistics_embedder_is_deterministic_normalised_and_discriminative(tmp_path):
    emb = StatisticsEmbedder()
    imgs = [picture(i) for i in range(6)]
    p = tmp_path / "a.png"
    imgs[0].save(p)
    x = emb.embed(imgs + [str(p)])
    assert x.shape == (7, emb.dim) and x.dtype == np.float32
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    assert np.allclose(x[0], x[6], atol=1e-6)  # same picture via path or PIL
    assert np.array_equal(emb.embed(imgs), emb.embed(imgs))
    sims = x[:6] @ x[:6].T
    assert sims[np.triu_indices(6, 1)].max() < 0.999  # distinct images differ
    # A resized copy stays closer to its original than to other pictures.
    copy = emb.embed([imgs[2].resize((60, 60))])[0]
    assert int(np.argmax(x[:6] @ copy)) == 2


def _tiny_onnx_model(path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    # GlobalAveragePool over NCHW, then Flatten: the embedding is the per-channel mean of the input.
    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
         helper.make_node("Flatten", ["pooled"], ["embedding"], axis=1)],
        "tiny",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, 16, 16])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def test_onnx_embedder_runs_a_model_from_disk(tmp_path):
    pytest.importorskip("onnxruntime")
    path = tmp_path / "tiny.onnx"
    _tiny_onnx_model(path)
    emb = OnnxEmbedder(path, mean=(0, 0, 0), std=(1, 1, 1), batch_size=2)
    assert (emb.height, emb.width) == (16, 16)
    from PIL import Image

    colours = [(255, 0, 0), (0, 128, 255), (10, 20, 30)]
    out = emb.embed([Image.new("RGB", (40, 30), c) for c in colours])
    assert out.shape == (3, 3)
    expected = np.array(colours, np.float64) / 255.0
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(out, expected, atol=1e-4)
    assert embedder_from_spec(f"onnx:{path}").name == "onnx:tiny.onnx"


def test_bad_specs_and_missing_models_fail_clearly(tmp_path):
    with pytest.raises(ValueError, match="unknown embedder"):
        embedder_from_spec("nope")
    with pytest.raises(FileNotFoundError):
        OnnxEmbedder(tmp_path / "missing.onnx")


def _resized_copies(img, n):
    from PIL import Image

    return [img.resize((int(s), int(s)), Image.Resampling.BICUBIC) for s in np.linspace(40, 200, n)]


@pytest.mark.parametrize("n", [5, 12])
def test_distinct_images_score_near_their_count_and_resized_copies_collapse(n):
    from artlineage.health.vendi import vendi_score

    emb = StatisticsEmbedder()
    distinct = vendi_score(emb.embed([picture(i) for i in range(n)]))
    copies = vendi_score(emb.embed(_resized_copies(picture(50), n)))
    assert distinct == pytest.approx(_vendi_from_singular_values(emb.embed([picture(i) for i in range(n)])), rel=1e-5)
    assert copies == pytest.approx(_vendi_from_singular_values(emb.embed(_resized_copies(picture(50), n))), rel=1e-5)
    assert distinct >= 0.7 * n
    assert copies < 1.5


def _vendi_from_singular_values(x):
    """Vendi (q=1) by its definition (float32 embeddings: agreement to 1e-5), through an independent route: the eigenvalues of K/n = X Xᵀ/n for
    unit rows are the squared singular values of X over n; exp of their Shannon entropy."""
    x = np.asarray(x, dtype=np.float64)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    lam = np.linalg.svd(x, compute_uv=False) ** 2 / x.shape[0]
    lam = lam[lam > 1e-12]
    return float(np.exp(-(lam * np.log(lam)).sum()))


def test_builtin_standardiser_is_the_documented_one_and_other_params_fit_their_own(monkeypatch):
    import hashlib
    import json

    from artlineage.health import _statistics_reference as ref
    from artlineage.health.embeddings import DEFAULT_STATISTICS_PARAMS

    doc = json.loads(ref.BUILTIN_PATH.read_text())
    assert tuple(doc["params"]) == DEFAULT_STATISTICS_PARAMS == StatisticsEmbedder().params
    assert doc["sha256"] == hashlib.sha256((doc["mean"] + doc["transform"]).encode()).hexdigest()
    st = ref.standardiser_for(DEFAULT_STATISTICS_PARAMS)
    assert st.transform.shape == (153, 153) and np.isfinite(st.transform).all()

    monkeypatch.setattr(ref, "REFERENCE_COUNT", 300)  # a small reference keeps the test fast
    ref.standardiser_for.cache_clear()
    try:
        emb = StatisticsEmbedder(colour_bins=3, orientations=8)
        x = emb.embed([picture(i) for i in range(6)] + _resized_copies(picture(50), 3))
        assert x.shape == (9, emb.dim) == (9, 27 + 9 + 32 + 16)
        sims = x @ x.T
        assert sims[6:, 6:].min() > 0.9 and np.abs(sims[:6, :6][np.triu_indices(6, 1)]).mean() < 0.5
    finally:
        ref.standardiser_for.cache_clear()
