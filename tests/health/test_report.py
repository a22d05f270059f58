import json

import pytest
from PIL import Image
from typer.testing import CliRunner

from artlineage._inspect import FileReport
from artlineage.datasets.scan_store import ScanStore
from artlineage.health import HealthReport, build_health_report, health_sections, write_health_report
from artlineage.pipelines.health import load_records
from artlineage.interfaces.cli import app
from artlineage.verdicts.provenance import Origin, ProvenanceVerdict

from ._images import picture

# (source folder, origin, generator) for 10 files: 3 synthetic, 3 verified human, 3 unknown, 1 algorithmic.
LAYOUT = [
    ("web", Origin.AI_GENERATED, "Stable Diffusion"), ("web", Origin.AI_GENERATED, "Midjourney"),
    ("web", Origin.AI_EDITED, "Adobe Firefly"), ("web", Origin.UNKNOWN, None), ("web", Origin.UNKNOWN, None),
    ("archive", Origin.CAMERA, None), ("archive", Origin.CAMERA, None), ("archive", Origin.HUMAN_DECLARED, None),
    ("archive", Origin.UNKNOWN, None), ("archive", Origin.ALGORITHMIC, None),
]


@pytest.fixture()
def scan_db(tmp_path):
    root = tmp_path / "data"
    rows = []
    for i, (src, origin, gen) in enumerate(LAYOUT):
        d = root / src
        d.mkdir(parents=True, exist_ok=True)
        p = d / f"img{i}.png"
        (picture(100 + i, 128) if i != 9 else picture(100, 128).resize((64, 64))).save(p)  # img9 copies img0
        verdict = ProvenanceVerdict(origin, 0.9 if origin is not Origin.UNKNOWN else 0.0, generator=gen)
        rows.append((FileReport(str(p), p.stat().st_size, f"{i:064x}", "PNG", 128, 128, verdict), 1))
    bad = root / "web" / "broken.png"
    bad.write_bytes(b"not a png")
    rows.append((FileReport(str(bad), 9, error="cannot identify image"), 1))
    db = tmp_path / "scan.sqlite"
    ScanStore(db).upsert(rows)
    return db


def test_health_over_a_scan_db_gives_the_right_shares(scan_db, tmp_path):
    records = load_records(scan_db)
    assert len(records) == 11 and {r.source for r in records} == {"web", "archive"}
    report = build_health_report(records, source=str(scan_db))
    assert isinstance(report, HealthReport) and (report.items, report.source) == (11, str(scan_db))
    rep = report.to_dict()
    assert list(rep)[:4] == ["kind", "version", "source", "items"] and rep["kind"] == "artlineage.health"
    assert HealthReport.from_dict(rep) == report
    prov = rep["provenance"]
    assert prov["errors"] == 1
    assert prov["synthetic_share"] == pytest.approx(0.3)
    assert prov["verified_human_share"] == pytest.approx(0.3)
    assert prov["unknown_share"] == pytest.approx(0.3)  # shown apart, never folded into human
    assert prov["algorithmic_share"] == pytest.approx(0.1)
    assert prov["by_source"]["web"]["synthetic_share"] == pytest.approx(0.6)
    assert prov["by_source"]["archive"]["verified_human_share"] == pytest.approx(0.6)
    assert prov["by_generator"] == {"Stable Diffusion": 1, "Midjourney": 1, "Adobe Firefly": 1}
    dup = rep["duplicates"]
    assert dup["clusters"] == 1 and sorted(p.rsplit("/", 1)[1] for p in dup["largest_clusters"][0]) == \
        ["img0.png", "img9.png"]
    div = rep["diversity"]
    assert div["overall"] == {"n": 10, "vendi": 7.521, "vendi_per_item": 0.752102}
    assert [div["by_generator"][g]["vendi"] for g in sorted(div["by_generator"])] == [1.0, 1.0, 1.0]  # one image each
    assert set(div["by_origin_class"]) == {"synthetic", "human", "unknown", "algorithmic"}
    assert any("AI-generated" in r for r in rep["recommendations"])
    jpath, hpath = write_health_report(tmp_path / "rep", rep)
    assert json.loads(jpath.read_text())["provenance"]["synthetic_share"] == pytest.approx(0.3)
    page = hpath.read_text()
    assert "data:image/png;base64," in page and "Near duplicates" in page
    sections = health_sections(rep, charts=False)
    assert len(sections) == 5 and "Key numbers" in sections[0] and "30.0%" in sections[0]


def test_health_cli_with_guard_report_and_refusal(scan_db, tmp_path):
    runner = CliRunner()
    keep = tmp_path / "kept.parquet"
    res = runner.invoke(app, ["health", str(scan_db), "--min-real-share", "0.5", "--keep-list", str(keep),
                              "--report", str(tmp_path / "r"), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout[res.stdout.index("{"):])
    guard = data["guard"]
    # 3 verified-human of 10 readable items: keeping at most 3 others makes the share exactly 3/6
    assert (guard["kept"], guard["dropped"], guard["real_share_after"]) == (6, 5, 0.5)
    assert guard["dropped_by_origin"] == {"error": 1, "ai_generated": 2, "ai_edited": 1, "algorithmic": 1}
    assert guard["log"][0] == ("3 verified-human and 7 other readable item(s); share 30.00%, target ≥ 50.00%: "
                               "keeping at most 3 non-human item(s)")
    assert guard["log"][-1] == "kept 6 item(s), dropped 5; verified-human share now 50.00%"
    import pyarrow.parquet as pq

    kept = pq.read_table(keep).column("origin").to_pylist()
    assert kept.count("camera") + kept.count("human_declared") == 3 and len(kept) == 6
    assert (tmp_path / "r" / "report.html").exists()

    only_ai = tmp_path / "ai.sqlite"
    p = tmp_path / "x.png"
    Image.new("RGB", (8, 8)).save(p)
    ScanStore(only_ai).upsert([(FileReport(str(p), 1, "0" * 64, "PNG", 8, 8,
                                           ProvenanceVerdict(Origin.AI_GENERATED, 0.9)), 1)])
    res = runner.invoke(app, ["health", str(only_ai), "--min-real-share", "0.2", "--no-pixels"])
    assert res.exit_code == 2 and "refused" in res.output


def test_collapse_simulate_cli_writes_report_with_embeddings(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    emb = tmp_path / "emb.npy"
    np.save(emb, rng.normal(size=(200, 12)))
    res = CliRunner().invoke(app, ["collapse", "simulate", "--report", str(tmp_path / "c"), "--n", "50",
                                   "--generations", "20", "--runs", "50", "--lambdas", "0,0.5", "--no-mixture",
                                   "--from", str(emb), "--embedding-generations", "2", "--seed", "3"])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "c" / "report.json").read_text())
    from .test_collapse import _reference_gaussian
    for lam in ("0", "0.5"):  # the report's numbers against an independent re-run of the same loop
        w2 = _reference_gaussian(50, 20, 50, 3, real_fraction=float(lam))[2]
        assert data["real_fraction"][lam] == pytest.approx(
            {"w2_first": w2[:, 1].mean(), "w2_final": w2[:, -1].mean(), "w2_max_mean": w2.mean(0).max()}, rel=1e-6)
    assert data["real_fraction"]["0"]["w2_final"] > data["real_fraction"]["0.5"]["w2_final"]
    assert len(data["embeddings"]["replace"]["precision"]) == 3
    assert (tmp_path / "c" / "collapse_gaussian.png").stat().st_size > 1000
