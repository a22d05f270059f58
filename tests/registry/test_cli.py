import json

from PIL import Image
from typer.testing import CliRunner

from artlineage.interfaces.cli import app
from artlineage.registry import Registry

runner = CliRunner()


def run(db, *args):
    result = runner.invoke(app, [*args, "--registry", str(db)])
    return result


def ok(db, *args):
    result = run(db, *args)
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_artist_terms_influence_lineage(tmp_path):
    db = tmp_path / "reg.sqlite"
    assert "added artist #1" in ok(db, "artist", "add", "Katsushika Hokusai", "--alias", "Hokusai", "--dead",
                                   "--link", "https://example.org/hokusai", "--born", "1760")
    ok(db, "artist", "add", "Vincent van Gogh", "--dead")
    ok(db, "artist", "add", "Frída Kahlo", "--living")
    ok(db, "artist", "alias", "frida kahlo", "Frida Kalo", "--kind", "misspelling")
    listed = json.loads(ok(db, "artist", "list", "--json"))
    assert [a["name"] for a in listed] == ["Frída Kahlo", "Katsushika Hokusai", "Vincent van Gogh"]
    assert listed[0]["names"] == [{"name": "Frida Kalo", "kind": "misspelling"}] and listed[0]["living"] is True
    assert "Vincent van Gogh influenced by Katsushika Hokusai" in ok(
        db, "influence", "add", "van gogh", "HOKUSAI", "--note", "japonisme", "--source", "letters")
    ok(db, "influence", "add", "frida kalo", "vincent van gogh")
    tree = ok(db, "lineage", "hokusai", "--depth", "3")
    assert "Frída Kahlo (#3, depth 2)" in tree and "japonisme" in tree
    lin = json.loads(ok(db, "lineage", "Frida Kahlo", "--depth", "1", "--json"))
    assert [(n["name"], n["depth"]) for n in lin["ancestors"]] == [("Vincent van Gogh", 1)]

    ok(db, "terms", "set", "hokusai", "--ai-training", "not_allowed", "--from", "2024-01-01", "--source", "estate")
    ok(db, "terms", "set", "hokusai", "--data-mining", "allowed_with_credit", "--from", "2025-01-01")
    shown = json.loads(ok(db, "terms", "show", "hokusai", "--history", "--json"))
    assert shown["scopes"]["ai_training"]["value"] == "not_allowed"
    assert shown["scopes"]["data_mining"]["value"] == "allowed_with_credit"
    assert [h["valid_to"] for h in shown["history"]] == ["2025-01-01", None]
    past = json.loads(ok(db, "terms", "show", "hokusai", "--at", "2024-06-01", "--json"))
    assert past["scopes"]["data_mining"]["value"] is None
    assert "not_allowed" in ok(db, "terms", "show", "hokusai")

    bad = run(db, "terms", "set", "nobody", "--ai-training", "allowed")
    assert bad.exit_code == 1 and "no artist named" in bad.output
    assert run(db, "terms", "set", "hokusai", "--ai-training", "maybe").exit_code == 2  # not a choice


def test_cli_work_add_export_import(tmp_path):
    db = tmp_path / "reg.sqlite"
    (tmp_path / "imgs" / "sub").mkdir(parents=True)
    Image.new("RGB", (64, 48), (200, 20, 20)).save(tmp_path / "imgs" / "red.png")
    Image.new("RGB", (64, 48), (20, 20, 200)).save(tmp_path / "imgs" / "sub" / "blue.jpg")
    (tmp_path / "imgs" / "notes.txt").write_text("not an image")
    ok(db, "artist", "add", "Painter")
    assert "registered 2 new work(s), 0 already known" in ok(db, "work", "add", str(tmp_path / "imgs"),
                                                             "--artist", "painter", "--inspect")
    assert "registered 0 new work(s), 2 already known" in ok(db, "work", "add", str(tmp_path / "imgs"),
                                                             "--artist", "painter")
    works = json.loads(ok(db, "work", "list", "--json"))
    assert sorted(w["title"] for w in works) == ["blue", "red"]
    assert all(len(w["sha256"]) == 64 and w["origin"] for w in works)
    assert all(w["phash64"] is not None and len(w["pdq256"]) == 64 for w in works)  # perceptual hashes filled in
    ok(db, "terms", "set", "painter", "--work", str(works[0]["id"]), "--style-imitation", "not_allowed")
    shown = json.loads(ok(db, "terms", "show", "painter", "--work", str(works[0]["id"]), "--json"))
    assert shown["scopes"]["style_imitation"] == {"value": "not_allowed", "terms_id": 1, "level": "work"}

    assert "exported 1 artist(s), 2 work(s)" in ok(db, "registry", "export", str(tmp_path / "out.json"))
    ok(db, "registry", "export", str(tmp_path / "csv"))
    for source in ("out.json", "csv"):
        copy = tmp_path / f"copy-{source}.sqlite"
        assert "imported 1 artists, 2 works, 1 terms, 0 influences" in ok(copy, "registry", "import",
                                                                           str(tmp_path / source))
        with Registry(copy) as reg:
            assert [w.sha256 for w in reg.list_works()] == [w["sha256"] for w in works]


def test_cli_registry_option_from_environment(tmp_path, monkeypatch):
    db = tmp_path / "env.sqlite"
    monkeypatch.setenv("ARTLINEAGE_REGISTRY", str(db))
    assert runner.invoke(app, ["artist", "add", "Env Artist"]).exit_code == 0
    assert "revision 0001_initial" in runner.invoke(app, ["registry", "upgrade"]).output
    with Registry(db) as reg:
        assert reg.find_artist("env artist").name == "Env Artist"
