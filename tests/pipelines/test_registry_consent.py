"""``artlineage filter --registry``: registered works (URL, sha256) and artists bring their current terms."""

import json
import pickle

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from artlineage.pipelines.consent_filter import FilterConfig, filter_manifest
from artlineage.pipelines.registry_consent import RegistryConsent
from artlineage.interfaces.cli import app
from artlineage.registry import Registry

SHA_A = "a" * 64


def _registry(path):
    with Registry(path) as reg:
        refuser = reg.add_artist("Ada Refuser", aliases=["A. Refuser"])
        reg.set_terms(refuser.id, ai_training="not_allowed")
        giver = reg.add_artist("Gil Giver")
        reg.set_terms(giver.id, ai_training="allowed", generative_training="allowed", data_mining="allowed")
        w1 = reg.add_work(giver.id, title="by url", location="http://art.test/giver/1.jpg")
        reg.set_terms(giver.id, w1.id, ai_training="not_allowed")  # this one work is withheld
        reg.add_work(refuser.id, title="by hash", sha256=SHA_A)
    return path


def test_registry_terms_exclude_matching_rows(tmp_path):
    db = _registry(tmp_path / "reg.sqlite")
    urls = ["http://art.test/giver/1.jpg", "http://art.test/giver/2.jpg", "http://x.test/3.jpg",
            "http://x.test/4.jpg", "http://x.test/5.jpg"]
    pq.write_table(pa.table({"url": urls, "sha256": [None, None, SHA_A, None, None],
                             "artist": [None, "gil giver", None, "A. Refuser", "Nobody"]}), tmp_path / "m.parquet")
    hook = RegistryConsent(db)
    hook = pickle.loads(pickle.dumps(hook))  # what a worker process receives
    cfg = FilterConfig(head=False, registry_terms=hook, agents=("GPTBot",),
                       fetch_options={"resolver": _unreachable})
    filter_manifest(tmp_path / "m.parquet", tmp_path / "out", cfg)
    excluded = {r["url"]: r for r in pq.read_table(tmp_path / "out" / "excluded.parquet").to_pylist()}
    kept = {r["url"]: r["consent"] for r in pq.read_table(tmp_path / "out" / "kept.parquet").to_pylist()}
    assert set(excluded) == {urls[0], urls[2], urls[3]}
    assert kept == {urls[1]: "allowed", urls[4]: "unknown"}
    for url, how in ((urls[0], "url"), (urls[2], "sha256"), (urls[3], "artist")):
        row = excluded[url]
        assert row["reason"] == "registry" and "ai_training: not_allowed" in row["rule"]
        assert json.loads(row["consent"])["training"] == "reserved"
        ev = [e for e in json.loads(row["evidence"]) if e["reader"] == "registry"]
        assert ev and ev[0]["implies"] == "consent_reserved"
    assert "work #1" in excluded[urls[0]]["rule"]  # the work's own terms override the artist's allowance


async def _unreachable(host, port):  # no row here needs the network: the site files are refused
    return ["10.0.0.1"]


def test_cli_registry_option_on_a_folder(tmp_path):
    db = _registry(tmp_path / "reg.sqlite")
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "mine.png").write_bytes(b"\x89PNG registered bytes")
    (folder / "other.png").write_bytes(b"\x89PNG other bytes")
    import hashlib
    with Registry(db) as reg:
        refuser = reg.find_artist("Ada Refuser")
        reg.add_work(refuser.id, title="file", sha256=hashlib.sha256(b"\x89PNG registered bytes").hexdigest())
    result = CliRunner().invoke(app, ["filter", str(folder), "--out", str(tmp_path / "out"),
                                      "--registry", str(db), "--json"])
    assert result.exit_code == 0, result.output
    rows = pq.read_table(tmp_path / "out" / "excluded.parquet").to_pylist()
    assert [r["path"].rsplit("/", 1)[1] for r in rows] == ["mine.png"] and rows[0]["reason"] == "registry"
