"""robots.txt: does the site disallow the URL for an AI crawler (or for artlineage itself)?

Parsing and matching are Protego's (Scrapy's RFC 9309 parser). To report *the exact rule that
fired* we look up the matched group and its first matching rule in the same order Protego uses;
that part reads Protego's rule objects, so it is guarded and falls back to naming only the group.
"""

from __future__ import annotations

from typing import Iterable

from protego import Protego

from .._base import Evidence, Implication, SignalError, truncate
from .._iptc_vocab import ALL_USES
from .agents import OWN_AGENT_TOKEN
from ..strengths import STRENGTHS, strength

MAX_ROBOTS_BYTES = 512 * 1024  # Google reads 500 KiB; more is hostile or broken


def parse_robots(text: str | bytes) -> Protego:
    if isinstance(text, bytes):
        if len(text) > MAX_ROBOTS_BYTES:
            raise SignalError(f"robots.txt is {len(text)} bytes, above the {MAX_ROBOTS_BYTES} limit")
        text = text.decode("utf-8", errors="replace")
    if len(text) > MAX_ROBOTS_BYTES:
        raise SignalError(f"robots.txt is {len(text)} characters, above the {MAX_ROBOTS_BYTES} limit")
    try:
        return Protego.parse(text)
    except Exception as exc:  # noqa: BLE001 - a broken file is an error on this signal only
        raise SignalError(f"robots.txt could not be parsed: {exc}") from exc


def _fired_rule(robots: Protego, url: str, agent: str) -> tuple[str, str]:
    """(group user-agent, 'Disallow: pattern') for the rule that decided ``agent`` on ``url``."""
    try:
        from protego._utils import _quote_path  # noqa: PLC0415 - private helper, guarded

        rule_set = robots._get_matching_rule_set(agent)
        if rule_set is None:
            return "", ""
        quoted = _quote_path(url)
        for rule in rule_set._rules:
            if rule.value.match(quoted):
                return rule_set.user_agent or "", f"{rule.field.capitalize()}: {rule.value._pattern}"
        return rule_set.user_agent or "", ""
    except Exception:  # noqa: BLE001 - Protego internals changed: name what we can
        return "?", "(rule not available)"


class RobotsPolicy:
    """A parsed robots.txt bound to an agent list, compiled once per host.

    Agents that fall into the same robots.txt group are checked once per URL (a typical file
    has one or two groups that matter), and groups without any Disallow rule are skipped, so a
    cached host costs microseconds per URL.
    """

    reader = "robots"
    label = "robots.txt"
    generic_strength = strength("robots_generic")  # a "*" group blocks every crawler, not AI on purpose

    def __init__(self, robots: Protego, agents: Iterable[str]) -> None:
        self.robots = robots
        groups: dict[int, list[str]] = {}
        for agent in agents:
            try:
                rule_set = robots._get_matching_rule_set(agent)
                if rule_set is not None and not any(r.field == "disallow" for r in rule_set._rules):
                    continue  # this group allows everything
                key = id(rule_set) if rule_set is not None else -1
                if rule_set is None:
                    continue  # no group applies: allowed
            except Exception:  # noqa: BLE001 - Protego internals changed: one group per agent
                key = hash(agent)
            groups.setdefault(key, []).append(agent)
        self.groups = list(groups.values())
        # One Evidence object per (group, fired rule, location): it names no URL, so every URL a rule
        # blocks shares it, and callers can memoise decisions on evidence identity.
        self._memo: dict[tuple[int, str, str, str], Evidence] = {}

    def evidence(self, url: str, *, location: str) -> list[Evidence]:
        out: list[Evidence] = []
        for n, blocked in enumerate(self.groups):
            if self._allowed(url, blocked[0]):
                continue
            group, rule = self._fired(url, blocked[0])
            key = (n, group, rule, location)
            ev = self._memo.get(key)
            if ev is None:
                ev = self._memo[key] = self._reserved(blocked, group, rule, location)
            out.append(ev)
        return out

    def _fired(self, url: str, agent: str) -> tuple[str, str]:
        group, rule = _fired_rule(self.robots, url, agent)
        if not rule:  # ai.txt matches case-insensitively too
            group, rule = _fired_rule(self.robots, url.lower(), agent)
        return group, rule

    def _allowed(self, url: str, agent: str) -> bool:
        return self.robots.can_fetch(url, agent)

    def _reserved(self, blocked: list[str], group: str, rule: str, location: str) -> Evidence:
        """CONSENT_RESERVED for a disallowing group, naming the group and the rule.

        A disallow for artlineage's own agent is the strongest (we may not fetch the URL at all),
        then one in a group naming an AI agent, then one reached through ``*``.
        """
        own = any(a.lower() == OWN_AGENT_TOKEN for a in blocked)
        named = group not in ("*", "")
        strength = STRENGTHS["robots_own_agent"].value if own else (
            STRENGTHS["robots_named_agent"].value if named else self.generic_strength)
        return Evidence(
            reader=self.reader, location=location, field=f"User-agent: {group}", value=truncate(rule, 300),
            implies=Implication.CONSENT_RESERVED, strength=strength,
            note=f"{self.label} group '{group}' disallows this URL for {', '.join(blocked[:6])}"
                 + (f" and {len(blocked) - 6} more" if len(blocked) > 6 else "") + f" ({rule})",
            data={"uses": list(ALL_USES), "agents": blocked, "group": group, "rule": rule,
                  "own_agent_blocked": own})


def robots_evidence(robots: Protego, url: str, agents: Iterable[str], *, location: str) -> list[Evidence]:
    """One CONSENT_RESERVED evidence per robots.txt group that disallows ``url`` for some agent."""
    return RobotsPolicy(robots, agents).evidence(url, location=location)
