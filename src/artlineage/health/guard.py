"""Real-data guard: keep a training subset whose verified-human share stays at or above λ.

Iteratively retraining on a model's own output is stable only while enough real data stays in the
mix (Bertrand et al., ICLR 2024; Gerstgrasser et al., 2024). The guard drops the fewest items that
restore the share, in a fixed order of suspicion: AI-generated, then AI-edited, then algorithmic,
then unknown. Within a class the most confidently non-human go first, then by path, so the result
is deterministic. Verified-human items (camera, human_declared) are never dropped. Unreadable files
are always dropped (nothing can be trained on them), so the share is over readable items, as in
the provenance section of the health report.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Sequence

from .._files import write_atomic, write_text_atomic
from .synthetic import VERIFIED_HUMAN_ORIGINS, Record
from ..errors import GuardError  # noqa: F401  (re-exported: its old home)

# Lower rank is dropped first.
DROP_ORDER = {"ai_generated": 0, "ai_edited": 1, "algorithmic": 2, "unknown": 3}
UNREADABLE = "error"


@dataclass
class GuardResult:
    min_real_share: float
    kept: list[Record]
    dropped: list[Record]
    log: list[str] = field(default_factory=list)

    @property
    def human_kept(self) -> int:
        return sum(1 for r in self.kept if r.origin in VERIFIED_HUMAN_ORIGINS)

    @property
    def real_share(self) -> float:
        return self.human_kept / len(self.kept) if self.kept else 0.0

    def to_dict(self) -> dict[str, Any]:
        by_origin: dict[str, int] = {}
        for r in self.dropped:
            by_origin[r.origin] = by_origin.get(r.origin, 0) + 1
        return {"min_real_share": self.min_real_share, "kept": len(self.kept), "dropped": len(self.dropped),
                "real_share_after": round(self.real_share, 6), "dropped_by_origin": by_origin,
                "log": self.log[:200], "log_truncated": max(0, len(self.log) - 200)}


def exact_share(value: float) -> Fraction:
    """λ as the decimal the user wrote (0.4 means 2/5, not the binary float just above it)."""
    return Fraction(repr(float(value)))


def max_non_human(human: int, min_real_share: float) -> int:
    """Largest m with human / (human + m) ≥ λ, in exact arithmetic (λ > 0)."""
    lam = exact_share(min_real_share)
    # human / (human + m) >= lam  <=>  m <= human * (1 - lam) / lam
    return math.floor(Fraction(human) * (1 - lam) / lam)


def guard_real_share(records: Sequence[Record], min_real_share: float) -> GuardResult:
    """Keep the largest subset with verified-human share ≥ ``min_real_share``, dropping by suspicion.

    Raises ``GuardError`` when no non-empty subset can reach the share (no verified-human items) or λ
    is outside [0, 1].
    """
    if not 0.0 <= min_real_share <= 1.0 or math.isnan(min_real_share):
        raise GuardError(f"--min-real-share must be within [0, 1], got {min_real_share}")
    human = [r for r in records if r.origin in VERIFIED_HUMAN_ORIGINS]
    unreadable = [r for r in records if r.origin == UNREADABLE]
    others = [r for r in records if r.origin not in VERIFIED_HUMAN_ORIGINS and r.origin != UNREADABLE]
    log: list[str] = []
    if min_real_share > 0 and not human:
        raise GuardError(
            f"cannot reach a verified-human share of {min_real_share:.0%}: none of the {len(records)} item(s) is "
            "verified human (camera or human_declared). Unknown items are not counted as human; add verified real "
            "data, or lower --min-real-share.")
    allowed = len(others) if min_real_share == 0 else min(len(others), max_non_human(len(human), min_real_share))
    readable = len(human) + len(others)
    share_before = len(human) / readable if readable else 0.0
    log.append(f"{len(human)} verified-human and {len(others)} other readable item(s); share {share_before:.2%}, "
               f"target ≥ {min_real_share:.2%}: keeping at most {allowed} non-human item(s)")
    # Most suspicious first; within a class higher confidence in that (non-human) origin first.
    ranked = sorted(others, key=lambda r: (DROP_ORDER.get(r.origin, 3), -r.confidence, r.path))
    n_drop = len(others) - allowed
    dropped = ranked[:n_drop]
    for r in unreadable:
        log.append(f"drop {r.path}: unreadable, nothing to train on")
    for r in dropped:
        log.append(f"drop {r.path}: {r.origin}" + (f" ({r.generator})" if r.generator else "")
                   + f", confidence {r.confidence:.2f}")
    if n_drop == 0:
        log.append("no readable item to drop: the share already meets the target")
    dropped = unreadable + dropped
    dropped_set = {id(r) for r in dropped}
    kept = [r for r in records if id(r) not in dropped_set]
    result = GuardResult(min_real_share, kept, dropped, log)
    log.append(f"kept {len(kept)} item(s), dropped {len(dropped)}; verified-human share now {result.real_share:.2%}")
    return result


def write_kept(result: GuardResult, out: str | os.PathLike[str]) -> Path:
    """Write the kept subset: ``.parquet`` (path, origin, generator, confidence, sha256) or a text list."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({
            "path": [r.path for r in result.kept], "origin": [r.origin for r in result.kept],
            "generator": [r.generator for r in result.kept], "confidence": [r.confidence for r in result.kept],
            "sha256": [r.sha256 for r in result.kept],
        })
        write_atomic(out, lambda tmp: pq.write_table(table, tmp))
    else:
        write_text_atomic("".join(f"{r.path}\n" for r in result.kept), out)
    return out
