import json

import pytest
from PIL import Image
from typer.testing import CliRunner

from artlineage.datasets.scan_store import ScanStore
from artlineage.interfaces.cli import app
from artlineage.pipelines.scan import scan_directory

from .test_onnx import _card, _mean_logit_model

pytest.importorskip("onnxruntime")


def _folder(tmp_path):
    d = tmp_path / "imgs"
    d.mkdir()
    for i in range(6):  # three bright (the test model calls them AI), three dark
        Image.new("RGB", (32, 32), (240, 240, 240) if i < 3 else (20, 20, 20)).save(d / f"{i}.png")
    return d


@pytest.mark.parametrize("workers", [1, 2])
def test_scan_stores_model_estimates_in_process_and_in_a_pool(tmp_path, workers):
    _mean_logit_model(tmp_path / "m.onnx")
    card = _card(tmp_path)
    summary = scan_directory(_folder(tmp_path), tmp_path / "scan.sqlite", workers=workers, detectors=[card])
    assert summary.scanned == 6 and summary.errors == 0
    assert ScanStore(tmp_path / "scan.sqlite").summary().by_origin == {"ai_generated": 3, "unknown": 3}


def test_scan_without_detectors_stays_unknown_and_a_bad_card_is_a_clean_error(tmp_path):
    d = _folder(tmp_path)
    runner = CliRunner()
    res = runner.invoke(app, ["scan", str(d), "--db", str(tmp_path / "a.sqlite"), "--json", "-q"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["by_origin"] == {"unknown": 6}
    (tmp_path / "bad.card.json").write_text("{}")
    res = runner.invoke(app, ["scan", str(d), "--db", str(tmp_path / "b.sqlite"), "--detector",
                              str(tmp_path / "bad.card.json")])
    assert res.exit_code == 2 and "lacks the field 'kind'" in res.output
    assert not (tmp_path / "b.sqlite").exists()
