"""``artlineage stamp`` and ``artlineage stamp-test-cert`` through the CLI."""

import json

import c2pa
from PIL import Image
from typer.testing import CliRunner

from artlineage.interfaces.cli import app

runner = CliRunner()


def test_test_cert_then_stamp_files_and_folder(tmp_path):
    res = runner.invoke(app, ["stamp-test-cert", str(tmp_path / "certs")])
    assert res.exit_code == 0 and "NOT TRUSTED" in res.output
    img = tmp_path / "gen" / "out.png"
    img.parent.mkdir()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(img)
    args = ["--generator", "Acme Imagine", "--cert", str(tmp_path / "certs/chain.pem"),
            "--key", str(tmp_path / "certs/key.pem")]
    res = runner.invoke(app, ["stamp", str(img), *args, "--prompt", "in the style of Hayao Miyazaki",
                              "--out", str(tmp_path / "o"), "--json"])
    assert res.exit_code == 0, res.output
    (row,) = json.loads(res.stdout)
    assert row["signed"] and row["test_certificate"] and row["influences"][0]["name"] == "Hayao Miyazaki"
    assert c2pa.Reader(str(tmp_path / "o/out.png")).get_validation_state() == "Valid"
    res = runner.invoke(app, ["stamp", str(img.parent), *args, "--out", str(tmp_path / "batch"), "--quiet"])
    assert res.exit_code == 0 and "1 stamped" in res.output
    res = runner.invoke(app, ["stamp", str(img.parent), *args, "--out", str(tmp_path / "batch"), "--quiet"])
    assert "0 stamped, 1 already done" in res.output


def test_bad_file_exits_non_zero(tmp_path):
    bad = tmp_path / "x.png"
    bad.write_bytes(b"nope")
    res = runner.invoke(app, ["stamp", str(bad), "--generator", "g", "--no-sign"])
    assert res.exit_code == 1 and "PNG, JPEG and WebP" in res.output
