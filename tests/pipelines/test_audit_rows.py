"""The audit row by row, in memory: the same per-image answers as ``run_audit``, no shards or files."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.pipelines._dataset import build  # noqa: E402

from artlineage.datasets.shards import Item  # noqa: E402
from artlineage.pipelines.audit_rows import AuditDecision, audit_rows  # noqa: E402
from artlineage.pipelines.dataset_audit import AuditConfig  # noqa: E402


def test_rows_in_decisions_out_with_the_audits_answers(tmp_path):
    ds = build(n_shards=1, per_shard=8)
    samples = ds.samples
    rows = ({"key": s.key, "image": s.data, "url": s.url, "caption": s.caption} for s in samples)
    got = list(audit_rows(rows, AuditConfig(web=False, cache_path=str(tmp_path / "c.sqlite")), batch_size=3))
    assert all(isinstance(d, AuditDecision) for d in got)
    assert [d.key for d in got] == [s.key for s in samples]
    want = {"kept": None, "consent": "consent:xmp", "unreadable": "unreadable"}
    assert [d.reason for d in got] == [want[s.expect] for s in samples]
    assert [d.kept for d in got] == [s.expect == "kept" for s in samples]
    for d, s in zip(got, samples):
        if s.expect != "unreadable":
            assert d.record["provenance"]["origin"] == s.origin
            assert len(d.record["sha256"]) == 64 and len(d.record["phash64"]) == 16
    excluded = next(d for d in got if d.reason == "consent:xmp")
    assert excluded.record["consent"]["uses"]["training"] == "reserved"
    assert "DMI-PROHIBITED" in excluded.rule


def test_registry_scope_names_work_in_the_audit_too(tmp_path):
    ds = build(n_shards=1, per_shard=4)
    consent_sample = next(s for s in ds.samples if s.expect == "consent")
    cfg = AuditConfig(web=False, exclude_uses=("ai_training",), cache_path=str(tmp_path / "c.sqlite"))
    assert cfg.exclude_uses == ("training",)
    [d] = audit_rows([Item(consent_sample.key, consent_sample.data)], cfg)
    assert (d.kept, d.reason) == (False, "consent:xmp")


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="batch_size"):
        next(audit_rows([], batch_size=0))
