import json

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from artlineage.interfaces.cli import app
from artlineage.registry.api import Registry

from ._images import synthetic_image, variants

runner = CliRunner()


def _registry(tmp_path):
    works = tmp_path / "works"
    works.mkdir()
    originals = {i: synthetic_image(i, (128, 96)) for i in range(5)}
    for i, im in originals.items():
        im.save(works / f"w{i}.png")
    db = tmp_path / "reg.sqlite"
    with Registry(db) as reg:
        reg.add_artist("Jane Painter", aliases=["J. Painter"], living=True)
        reg.add_work_files("Jane Painter", works)
        reg.set_terms("Jane Painter", style_imitation="not_allowed", ai_training="not_allowed")
    return db, originals


def test_match_command_finds_edited_copies_with_terms(tmp_path):
    db, originals = _registry(tmp_path)
    data = tmp_path / "dataset"
    data.mkdir()
    variants(originals[2])["jpeg60"].save(data / "copy.jpg")
    variants(originals[4])["border10"].save(data / "framed.png")
    synthetic_image(999, (128, 96)).save(data / "unrelated.png")
    res = runner.invoke(app, ["match", str(data), "--registry", str(db), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["registered_works"] == 5 and out["hashed"] == 3
    found = {(m["path"].rsplit("/", 1)[-1], m["title"], m["artist"], m["terms"]["style_imitation"])
             for m in out["matches"]}
    assert found == {("copy.jpg", "w2", "Jane Painter", "not_allowed"),
                     ("framed.png", "w4", "Jane Painter", "not_allowed")}
    res = runner.invoke(app, ["match", str(data), "--registry", str(db), "--artist", "Nobody", "--json"])
    assert json.loads(res.output)["matches"] == []
    res = runner.invoke(app, ["match", str(data), "--registry", str(db), "-q"])
    assert res.exit_code == 0 and "2 match(es)" in res.output


def test_prompt_check_and_scan_use_registry_terms(tmp_path):
    db, _ = _registry(tmp_path)
    res = runner.invoke(app, ["prompt", "check", "portrait by j painter", "--registry", str(db), "--json"])
    assert res.exit_code == 2, res.output    # blocked -> exit 2
    out = json.loads(res.output)
    assert out[0]["decision"] == "block" and out[0]["matches"][0]["artist"] == "Jane Painter"
    res = runner.invoke(app, ["prompt", "check", "a cat by the window"])
    assert res.exit_code == 0 and "allow" in res.output
    prompts = ["by jane painter", "a cat", None, "art by greg rutkowski", "(klimt:1.1)"] * 40
    pq.write_table(pa.table({"prompt": prompts, "n": list(range(len(prompts)))}), tmp_path / "p.parquet")
    res = runner.invoke(app, ["prompt", "scan", str(tmp_path / "p.parquet"), "--registry", str(db), "--json",
                              "-o", str(tmp_path / "flagged.jsonl")])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["rows"] == 200
    assert out["by_decision"] == {"block": 40, "allow": 120, "warn": 40}
    assert out["top_artists"]["Jane Painter"] == 40
    assert len((tmp_path / "flagged.jsonl").read_text().splitlines()) == 120
    res = runner.invoke(app, ["prompt", "scan", str(tmp_path / "p.parquet"), "--column", "nope"])
    assert res.exit_code != 0


def test_match_reads_parquet_and_csv_manifests_with_a_process_pool(tmp_path):
    db, originals = _registry(tmp_path)
    assert (tmp_path / "reg.sqlite.index" / "meta.json").is_file()   # written by `work add`
    data = tmp_path / "dataset"
    data.mkdir()
    names = []
    for i in range(40):   # enough for several chunks per worker
        im = variants(originals[i % 5])["resize50"] if i < 5 else synthetic_image(1000 + i, (128, 96))
        im.save(data / f"img{i:02d}.png")
        names.append(f"dataset/img{i:02d}.png")
    pq.write_table(pa.table({"url": ["http://x"] * 40, "local_path": names}), tmp_path / "m.parquet")
    (tmp_path / "m.csv").write_text("url,file\n" + "".join(f"http://x,{n}\n" for n in names))
    for manifest, extra in (("m.parquet", ["--workers", "2"]), ("m.csv", []),
                            ("m.parquet", ["--path-column", "local_path"])):
        res = runner.invoke(app, ["match", str(tmp_path / manifest), "--registry", str(db), "--json", *extra])
        assert res.exit_code == 0, res.output
        out = json.loads(res.output)
        assert out["index"] == "loaded" and out["hashed"] == 40
        assert sorted(m["title"] for m in out["matches"]) == ["w0", "w1", "w2", "w3", "w4"]
    res = runner.invoke(app, ["match", str(tmp_path / "m.parquet"), "--registry", str(db), "--path-column", "nope"])
    assert res.exit_code == 2 and "local_path" in res.output   # the error lists the columns there are
