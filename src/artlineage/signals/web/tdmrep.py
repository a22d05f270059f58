"""W3C TDMRep (CG final report, 10 May 2024): tdm-reservation / tdm-policy.

Three carriers, read as the spec's "Processing priority" section says:

1. ``/.well-known/tdmrep.json`` — an array of ``{location, tdm-reservation, tdm-policy}`` rules;
   ``location`` is a robots.txt-style path pattern (``*`` = any run of characters, ``$`` = end of
   path, otherwise a prefix match), case-sensitive, and *the first matching rule in sequence* is
   the one used. No match: unset.
2. ``tdm-reservation`` / ``tdm-policy`` HTTP response headers, which supersede the file.
3. ``<meta name="tdm-reservation">`` / ``<meta name="tdm-policy">`` in HTML, which supersede both.

``tdm-reservation`` is 1 (reserved: the DSM Art. 4 opt-out) or 0 (not reserved); any other value
is a protocol error and counts as unset. ``tdm-policy`` is kept (only meaningful with 1).

The effective value becomes CONSENT_RESERVED / CONSENT_ALLOWED; superseded declarations are
kept as INFO evidence so the report shows the whole picture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable

from .._base import Evidence, Implication, SignalError, truncate
from .._iptc_vocab import ALL_USES
from .._json import load_json
from ..strengths import strength

MAX_TDMREP_BYTES = 256 * 1024
MAX_RULES = 2000
MAX_DEPTH = 8


@dataclass(frozen=True)
class TdmRule:
    location: str
    reservation: int | None  # 1, 0, or None (protocol error: unset)
    policy: str | None
    index: int


def _depth(value: Any, limit: int) -> int:
    """Nesting depth, stopping early past ``limit`` (iterative: deep JSON cannot recurse us out)."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return deepest


def _reservation(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value in (0, 1):
        return value
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return int(value.strip())
    return None


def parse_tdmrep_json(data: bytes | str) -> list[TdmRule]:
    """Rules of a tdmrep.json, in file order. Hostile or malformed files raise :class:`SignalError`."""
    if len(data) > MAX_TDMREP_BYTES:
        raise SignalError(f"tdmrep.json is {len(data)} bytes, above the {MAX_TDMREP_BYTES} limit")
    if isinstance(data, bytes):
        data = data.decode("utf-8-sig", errors="replace")
    # The bracket depth is checked before parsing; _depth below also counts a scalar leaf as a level.
    doc = load_json(data, "tdmrep.json", max_chars=MAX_TDMREP_BYTES, max_depth=MAX_DEPTH)
    if _depth(doc, MAX_DEPTH) > MAX_DEPTH:
        raise SignalError("tdmrep.json is nested too deeply")
    if not isinstance(doc, list):
        raise SignalError("tdmrep.json must be a JSON array of rules")
    if len(doc) > MAX_RULES:
        raise SignalError(f"tdmrep.json has {len(doc)} rules, above the {MAX_RULES} limit")
    rules: list[TdmRule] = []
    for i, item in enumerate(doc):
        if not isinstance(item, dict) or not isinstance(item.get("location"), str):
            continue  # location and tdm-reservation are mandatory; a broken rule is skipped
        policy = item.get("tdm-policy")
        rules.append(TdmRule(location=item["location"][:2048], reservation=_reservation(item.get("tdm-reservation")),
                             policy=policy[:2048] if isinstance(policy, str) else None, index=i))
    return rules


_PATH_AND_QUERY = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:)?(?://[^/?#]*)?([^?#]*)(?:\?([^#]*))?")
_UNRESERVED_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def _normalise_path(path: str) -> str:
    """Decode %XX only for unreserved characters (the spec's rule), and upper-case the others."""
    def fix(m: re.Match[str]) -> str:
        ch = chr(int(m.group(1), 16))
        if ch.isalnum() and ch.isascii() or ch in "-._~":
            return ch
        return "%" + m.group(1).upper()
    return _UNRESERVED_ESCAPE.sub(fix, path)


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern[str]:
    pattern = _normalise_path(pattern)
    anchored = pattern.endswith("$")
    if anchored:
        pattern = pattern[:-1]
    body = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.compile(body + ("$" if anchored else ""), re.DOTALL)


def location_matches(pattern: str, url_or_path: str) -> bool:
    """Does a tdmrep.json ``location`` pattern match the URL's path (+ query)?"""
    m = _PATH_AND_QUERY.match(url_or_path)  # urlsplit's path + query, without building a SplitResult
    path = (m.group(1) or "/") + (f"?{m.group(2)}" if m.group(2) else "")
    # Literal special characters in the URL are compared in %-encoded form (spec, "Use of regular expressions").
    path = path.replace("$", "%24").replace("*", "%2A")
    return _compile(pattern).match(_normalise_path(path)) is not None


def match_rule(rules: Iterable[TdmRule], url: str) -> TdmRule | None:
    """The first rule, in file order, whose location matches (the spec's "most specific match")."""
    for rule in rules:
        if location_matches(rule.location, url):
            return rule
    return None


def _declaration(source: str, location: str, field: str, reservation: int | None, policy: str | None,
                 raw: Any, effective: bool, superseded_by: str | None = None) -> Evidence:
    if not effective:
        return Evidence(reader="tdmrep", location=location, field=field, value=truncate(str(raw), 300),
                        implies=Implication.INFO, strength=0.0,
                        note=f"TDMRep {source} declaration superseded by the {superseded_by}",
                        data={"source": source, "tdm_reservation": reservation, "tdm_policy": policy,
                              "superseded_by": superseded_by})
    implies = Implication.CONSENT_RESERVED if reservation == 1 else Implication.CONSENT_ALLOWED
    note = ("TDM rights reserved" if reservation == 1 else "TDM rights not reserved") + f" by the {source}"
    if reservation == 1 and policy:
        note += f"; licensing policy at {policy}"
    return Evidence(reader="tdmrep", location=location, field=field, value=truncate(str(raw), 300),
                    implies=implies, strength=strength("tdmrep_reserved") if reservation == 1 else strength("tdmrep_not_reserved"), note=note,
                    data={"uses": list(ALL_USES), "source": source, "tdm_reservation": reservation,
                          "tdm_policy": policy if reservation == 1 else None, "declared_policy": policy})


def _declared(pairs: Iterable[tuple[str, str]]) -> tuple[int | None, str | None]:
    """(tdm-reservation, tdm-policy) from header or meta name/value pairs; the last of each name wins."""
    reservation: int | None = None
    policy: str | None = None
    for name, value in pairs:
        if name == "tdm-reservation":
            reservation = _reservation(value)
        elif name == "tdm-policy":
            policy = value.strip()[:2048]
    return reservation, policy


def tdmrep_evidence(url: str, *, rules: list[TdmRule] | None = None, rules_location: str = "/.well-known/tdmrep.json",
                    headers: Iterable[tuple[str, str]] = (), metas: Iterable[tuple[str, str]] = (),
                    header_location: str = "HTTP response", html_location: str = "HTML head") -> list[Evidence]:
    """TDMRep evidence for one URL: the effective declaration (HTML > headers > file) plus superseded ones."""
    found: list[tuple[str, str, str, int | None, str | None, Any]] = []  # source, location, field, res, policy, raw
    if rules:
        rule = match_rule(rules, url)
        if rule is not None and rule.reservation is not None:
            found.append(("well-known file", rules_location, f"rule #{rule.index} location {rule.location!r}",
                          rule.reservation, rule.policy,
                          {"location": rule.location, "tdm-reservation": rule.reservation, "tdm-policy": rule.policy}))
    header_res, header_pol = _declared(headers)
    if header_res is not None:
        found.append(("HTTP header", header_location, "tdm-reservation", header_res, header_pol,
                      f"tdm-reservation: {header_res}" + (f"; tdm-policy: {header_pol}" if header_pol else "")))
    meta_res, meta_pol = _declared(metas)
    if meta_res is not None:
        found.append(("HTML meta", html_location, '<meta name="tdm-reservation">', meta_res, meta_pol,
                      f"tdm-reservation={meta_res}" + (f"; tdm-policy={meta_pol}" if meta_pol else "")))
    if not found:
        return []
    winner = found[-1][0]  # later carriers supersede earlier ones
    return [_declaration(src, loc, fld, res, pol, raw, effective=(src == winner), superseded_by=winner)
            for src, loc, fld, res, pol, raw in found]
