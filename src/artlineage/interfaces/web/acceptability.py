"""The platform's acceptability policy: four criteria (consented or own data, AI as a medium,
disclosed, influences credited), each met or not with a reason a person can read."""

from __future__ import annotations

from typing import Any

from .wording import DECLARED_WORDS


def acceptability(origin: dict[str, Any], declared: dict[str, Any], named: dict[str, Any] | None,
                  credited: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The four criteria, each with ``met`` and a reason a person can read."""
    file_ai = origin["badge"] in ("ai", "composite") and origin["badge_source"] == "file"
    declared_ai = declared.get("ai_use") in ("medium", "edited", "generated")  # "not_stated" is no disclosure
    uses_ai = file_ai or declared_ai
    out = []
    # 1. consented or own data
    if not uses_ai:
        out.append(_crit("consented_or_own_data", True, "no generative model was used, as far as the file and "
                                                          "the artist say"))
    elif declared.get("training_data") in ("own", "consented"):
        out.append(_crit("consented_or_own_data", True,
                         f"the artist states the model was trained on {declared['training_data']} data"))
    else:
        out.append(_crit("consented_or_own_data", False, "AI was used but its training data is not stated to "
                                                          "be the artist's own or consented"))
    # 2. AI used as a medium
    if not uses_ai:
        out.append(_crit("ai_as_medium", True, "no AI use to assess"))
    elif (declared.get("process") or "").strip():
        out.append(_crit("ai_as_medium", True, "the artist describes their process: "
                         + declared["process"].strip()[:200]))
    else:
        out.append(_crit("ai_as_medium", False, "AI output without a statement of how the artist used it "
                                                "as a medium"))
    # 3. disclosed
    if file_ai and not declared_ai:
        out.append(_crit("disclosed", False, f"the file's metadata shows {origin['origin']} "
                         f"({origin.get('generator') or 'AI'}) but the upload declared no AI use"))
    elif declared_ai:
        agree = " and the file's metadata agrees" if file_ai else ""
        out.append(_crit("disclosed", True, f"AI use declared by the artist ({DECLARED_WORDS.get(declared['ai_use'], declared['ai_use'])}){agree}"))
    elif (declared.get("ai_use") or "not_stated") == "not_stated" and origin.get("badge_source") != "file":
        out.append(_crit("disclosed", False, "the artist has not stated whether AI was used, and the file "
                                             "carries no record of how it was made"))
    else:
        out.append(_crit("disclosed", True, "no AI use found in the file or declared"))
    # 4. influences credited
    matches = [m for m in (named or {}).get("matches", []) if not m.get("ambiguous")]
    credited_ids = {c["artist_id"] for c in credited if c.get("artist_id") is not None}
    credited_names = {n.lower() for c in credited for n in c.get("names", [])}
    missing = [m["artist"] for m in matches
               if not ((m.get("artist_id") is not None and m["artist_id"] in credited_ids)
                       or m["artist"].lower() in credited_names)]
    blocked = [m["artist"] for m in matches if m.get("decision") == "block"]
    if blocked:
        out.append(_crit("influences_credited", False, "the prompt imitates artists whose terms do not allow "
                         "style imitation: " + ", ".join(sorted(set(blocked)))))
    elif missing:
        out.append(_crit("influences_credited", False, "artists named in the prompt but not credited: "
                         + ", ".join(sorted(set(missing)))))
    elif matches:
        out.append(_crit("influences_credited", True, "every artist named in the prompt is credited"))
    else:
        out.append(_crit("influences_credited", True, f"no artist named in the prompt; {len(credited)} "
                                                      "influence(s) credited"))
    return out


def _crit(name: str, met: bool, reason: str) -> dict[str, Any]:
    return {"criterion": name, "met": met, "reason": reason}
