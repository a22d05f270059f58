import json

import pytest
from typer.testing import CliRunner

pytest.importorskip("sklearn")

from artlineage.interfaces.cli import app  # noqa: E402

from ._images import write_labelled  # noqa: E402

runner = CliRunner()


def test_train_eval_run_and_inspect_through_the_cli(tmp_path):
    ai, real = write_labelled(tmp_path / "train", 16, 16, seed=2)
    res = runner.invoke(app, ["detect", "train", "--ai", str(ai), "--real", str(real), "--out", str(tmp_path / "m"),
                              "--name", "cli-test", "-q"])
    assert res.exit_code == 0, res.output
    assert "ROC AUC" in res.output and (tmp_path / "m" / "detector.card.json").is_file()
    eai, ereal = write_labelled(tmp_path / "eval", 10, 10, seed=3)
    res = runner.invoke(app, ["detect", "eval", str(tmp_path / "m"), "--ai", str(eai), "--real", str(ereal),
                              "--report", str(tmp_path / "rep"), "--save-card", str(tmp_path / "ours.card.json"),
                              "--dataset", "our uploads", "-q"])
    assert res.exit_code == 0, res.output
    card = json.loads((tmp_path / "ours.card.json").read_text())
    assert card["evaluation"]["dataset"] == "our uploads" and card["evaluation"]["n_real"] == 10
    assert (tmp_path / "rep" / "report.html").is_file()
    sample = next((eai / "gen_a").iterdir())
    res = runner.invoke(app, ["detect", "run", str(tmp_path / "ours.card.json"), str(sample), "--json"])
    assert res.exit_code == 0, res.output
    [row] = json.loads(res.output)
    assert row["says_ai"] is True and "evaluated at 0.0% false positives on our uploads" in row["note"]
    res = runner.invoke(app, ["inspect", "--json", "--detector", str(tmp_path / "ours.card.json"), str(sample)])
    assert res.exit_code == 0, res.output
    [report] = json.loads(res.output)
    assert report["verdict"]["origin"] == "ai_generated"
    assert report["verdict"]["scores"]["model_estimate"] == 0.55


def test_a_bad_model_card_is_a_clean_error(tmp_path):
    (tmp_path / "x.card.json").write_text("{not json")
    img_dir = tmp_path / "a"
    img_dir.mkdir()
    res = runner.invoke(app, ["detect", "eval", str(tmp_path / "x.card.json"), "--ai", str(img_dir),
                              "--real", str(img_dir)])
    assert res.exit_code == 2 and "cannot read model card" in res.output
