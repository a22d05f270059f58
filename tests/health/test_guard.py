from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from artlineage.health.guard import GuardError, exact_share, guard_real_share, write_kept
from artlineage.health.synthetic import VERIFIED_HUMAN_ORIGINS, Record

ORIGINS = ["ai_generated", "ai_edited", "camera", "human_declared", "algorithmic", "unknown", "error"]


def recs(origins):
    return [Record(f"/d/{i:04d}.png", o, confidence=0.5 + (i % 5) / 10) for i, o in enumerate(origins)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ORIGINS), max_size=60), st.floats(0.0, 1.0))
def test_guard_never_lets_real_share_fall_below_lambda(origins, lam):
    records = recs(origins)
    has_human = any(o in VERIFIED_HUMAN_ORIGINS for o in origins)
    if lam > 0 and not has_human:
        with pytest.raises(GuardError):
            guard_real_share(records, lam)
        return
    res = guard_real_share(records, lam)
    human = sum(o in VERIFIED_HUMAN_ORIGINS for o in origins)
    assert res.human_kept == human  # verified-human items are never dropped
    if res.kept:
        assert Fraction(res.human_kept, len(res.kept)) >= exact_share(lam)
        assert res.real_share >= lam
    # Unreadable items are always dropped; none is kept.
    assert not any(r.origin == "error" for r in res.kept)
    assert sum(r.origin == "error" for r in res.dropped) == origins.count("error")
    # Minimal: putting back any one dropped readable item would break the bound.
    if any(r.origin != "error" for r in res.dropped):
        assert Fraction(human, len(res.kept) + 1) < exact_share(lam)
    assert len(res.kept) + len(res.dropped) == len(records)


def test_guard_drops_synthetic_before_unknown_and_logs_each_choice():
    records = recs(["camera"] * 4 + ["unknown"] * 3 + ["ai_generated"] * 3)
    res = guard_real_share(records, 0.6)  # 4/6 >= 0.6 > 4/7: at most 2 non-human items may stay
    assert [r.origin for r in res.dropped] == ["ai_generated"] * 3 + ["unknown"]
    assert len(res.kept) == 6 and res.real_share == pytest.approx(4 / 6)
    assert sum(line.startswith("drop ") for line in res.log) == 4
    assert guard_real_share(records, 0.4).dropped == []  # already 40%


def test_guard_refuses_without_verified_human_data():
    with pytest.raises(GuardError, match="not counted as human"):
        guard_real_share(recs(["unknown", "ai_generated"]), 0.1)
    with pytest.raises(GuardError):
        guard_real_share(recs(["camera"]), 1.5)


def test_kept_list_writes_text_and_parquet(tmp_path):
    import pyarrow.parquet as pq

    res = guard_real_share(recs(["camera", "ai_generated", "unknown"]), 0.5)
    txt = write_kept(res, tmp_path / "kept.txt")
    assert txt.read_text().splitlines() == [r.path for r in res.kept]
    table = pq.read_table(write_kept(res, tmp_path / "kept.parquet"))
    assert table.column("path").to_pylist() == [r.path for r in res.kept]
    assert "ai_generated" not in table.column("origin").to_pylist()
