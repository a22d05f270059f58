import datetime as dt
import subprocess
import sys

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from PIL import Image, PngImagePlugin
from sqlalchemy import insert, inspect, select

from artlineage._db import make_engine
from artlineage.datasets import ScanStore
from artlineage.pipelines import scan_directory
from artlineage.datasets.scan_store import (HEAD_REVISION, INITIAL_REVISION, MIGRATIONS_DIR, VERSION_TABLE, ScanBase,
                                            ScannedFile, upgrade_scan_db)
from artlineage.registry.migrate import alembic_config, current_revision


def old_row(path: str) -> dict:
    return {"path": path, "size": 10, "mtime_ns": 1, "sha256": "0" * 64, "format": "PNG", "width": 8, "height": 8,
            "origin": "camera", "confidence": 0.5, "generator": None, "explanation": "old", "evidence": [],
            "conflicts": [], "generation": [], "warnings": [], "error": None,
            "scanned_at": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)}


def assert_models_match_migrations(engine) -> None:
    cfg = alembic_config(MIGRATIONS_DIR)
    with engine.connect() as conn:  # autogenerate finds nothing to do, like `alembic check`
        cfg.attributes["connection"] = conn
        command.check(cfg)


def make_images(root, n: int) -> None:
    root.mkdir(parents=True)
    for i in range(n):
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", f"a cat {i}\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: {i}, Size: 16x16")
        Image.new("RGB", (16, 16), (i * 40 % 256, 0, 0)).save(root / f"img{i}.png", pnginfo=info)


def test_head_constant_matches_migration_scripts():
    script = ScriptDirectory.from_config(alembic_config(MIGRATIONS_DIR))
    assert script.get_current_head() == HEAD_REVISION
    assert script.get_revision(INITIAL_REVISION).down_revision is None
    assert (MIGRATIONS_DIR / "__init__.py").is_file() and (MIGRATIONS_DIR / "versions" / "__init__.py").is_file()


def test_upgrade_from_empty_then_models_and_migrations_agree(tmp_path):
    db = tmp_path / "scan.sqlite"
    assert upgrade_scan_db(db) == HEAD_REVISION
    assert upgrade_scan_db(db) == HEAD_REVISION  # idempotent
    engine = make_engine(db)
    try:
        assert {"scanned_files", VERSION_TABLE} <= set(inspect(engine).get_table_names())
        assert_models_match_migrations(engine)
    finally:
        engine.dispose()


def test_database_made_by_create_all_is_stamped_and_keeps_its_rows(tmp_path):
    db = tmp_path / "old.sqlite"
    engine = make_engine(db)
    ScanBase.metadata.create_all(engine)  # how ScanStore made its schema before migrations
    with engine.begin() as conn:
        conn.execute(insert(ScannedFile), [old_row("/a.png"), old_row("/b.png")])
    engine.dispose()
    store = ScanStore(db)
    assert current_revision(store.engine, VERSION_TABLE) == HEAD_REVISION
    assert store.known_files() == {"/a.png": (10, 1), "/b.png": (10, 1)}
    assert [r.explanation for r in store.rows()] == ["old", "old"]
    assert_models_match_migrations(store.engine)  # create_all's schema is exactly the initial revision's
    store.engine.dispose()


def test_reopening_is_idempotent_and_takes_the_fast_path(tmp_path):
    db = tmp_path / "scan.sqlite"
    first = ScanStore(db)
    first.engine.dispose()
    again = ScanStore(db)
    with again.engine.connect() as conn:
        assert conn.execute(select(ScannedFile)).all() == []
        assert conn.exec_driver_sql(f"SELECT count(*) FROM {VERSION_TABLE}").scalar() == 1
    again.engine.dispose()
    # Opening a database already at head must not import Alembic (CLI start-up time).
    code = ("import sys; from artlineage.datasets.scan_store import ScanStore; ScanStore(sys.argv[1]); "
            "assert 'alembic' not in sys.modules, 'alembic imported on the fast path'")
    subprocess.run([sys.executable, "-c", code, str(db)], check=True)


@pytest.mark.postgres
def test_scan_round_trip_on_postgres(tmp_path, fresh_postgres_url):
    make_images(tmp_path / "data", 5)
    first = scan_directory(tmp_path / "data", fresh_postgres_url)
    assert first.scanned == 5 and first.skipped_unchanged == 0
    again = scan_directory(tmp_path / "data", fresh_postgres_url)
    assert again.scanned == 0 and again.skipped_unchanged == 5
    store = ScanStore(fresh_postgres_url)
    try:
        assert current_revision(store.engine, VERSION_TABLE) == HEAD_REVISION
        rows = list(store.rows())
        assert len(rows) == 5 and {r.origin for r in rows} == {"ai_generated"}
        assert all(r.generation and r.scanned_at.tzinfo is not None for r in rows)
        assert_models_match_migrations(store.engine)
    finally:
        store.engine.dispose()


@pytest.mark.postgres
def test_create_all_database_on_postgres_is_adopted(fresh_postgres_url):
    engine = make_engine(fresh_postgres_url)
    try:
        ScanBase.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(insert(ScannedFile), [old_row("/kept.png")])
        assert upgrade_scan_db(engine) == HEAD_REVISION
        store = ScanStore(fresh_postgres_url)
        assert store.known_files() == {"/kept.png": (10, 1)}
        store.engine.dispose()
        assert_models_match_migrations(engine)
    finally:
        engine.dispose()
