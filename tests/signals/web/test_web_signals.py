"""robots.txt, ai.txt, TDMRep (spec examples), X-Robots-Tag and meta robots: the rule that fired."""

from __future__ import annotations

import pytest

from artlineage.signals._base import Implication, SignalError
from artlineage.signals.web import (AiTxtPolicy, RobotsPolicy, ai_agents, evaluate_url, html_meta, location_matches,
                                    meta_robots_evidence, parse_aitxt, parse_robots, parse_tdmrep_json,
                                    parse_x_robots_tag, tdmrep_evidence, x_robots_evidence)

AGENTS = ai_agents()

SPEC_FILE = """[
  {"location": "/directory-a/", "tdm-reservation": 1},
  {"location": "/directory-b/html/", "tdm-reservation": 1, "tdm-policy":"https://provider.com/policies/policy.json"},
  {"location": "/directory-b/images/*.jpg", "tdm-reservation": 0}
]"""


def test_robots_names_group_and_rule():
    robots = RobotsPolicy(parse_robots("User-agent: GPTBot\nDisallow: /img/\n\nUser-agent: *\nDisallow: /private\n"),
                          AGENTS)
    [e] = robots.evidence("https://x.test/img/a.jpg", location="x/robots.txt")
    assert e.implies is Implication.CONSENT_RESERVED and e.field == "User-agent: gptbot"
    assert e.value == "Disallow: /img/" and e.data["agents"] == ["GPTBot"]
    [e] = robots.evidence("https://x.test/private/a.jpg", location="x")
    assert e.field == "User-agent: *" and "artlineage" in e.data["agents"] and e.data["own_agent_blocked"]
    assert robots.evidence("https://x.test/public/a.jpg", location="x") == []


def test_robots_user_agent_override_and_hostile():
    robots = RobotsPolicy(parse_robots("User-agent: mybot\nDisallow: /\n"), ai_agents(["mybot"], own_agent=None))
    assert robots.evidence("https://x.test/a", location="x")[0].data["agents"] == ["mybot"]
    with pytest.raises(SignalError):
        parse_robots(b"Disallow: /x\n" * 100_000)


def test_aitxt_file_types_case_insensitive():
    policy = AiTxtPolicy(parse_aitxt("User-Agent: *\nDisallow: *.jpg\nDisallow: *.png\nAllow: *.txt\n"), AGENTS)
    [e] = policy.evidence("https://x.test/a/PHOTO.JPG", location="x/ai.txt")
    assert e.reader == "ai.txt" and e.value == "Disallow: *.jpg" and e.strength >= 0.9
    assert policy.evidence("https://x.test/a/readme.txt", location="x") == []
    assert policy.evidence("https://x.test/a/anim.gif", location="x") == []


@pytest.mark.parametrize("path,expected", [
    ("/directory-a/doc.pdf", (Implication.CONSENT_RESERVED, None)),
    ("/directory-b/html/page.html", (Implication.CONSENT_RESERVED, "https://provider.com/policies/policy.json")),
    ("/directory-b/images/x/photo.jpg", (Implication.CONSENT_ALLOWED, None)),
])
def test_tdmrep_spec_example_first_match(path, expected):
    [e] = tdmrep_evidence("https://provider.com" + path, rules=parse_tdmrep_json(SPEC_FILE))
    assert (e.implies, e.data["tdm_policy"]) == expected
    assert "rule #" in e.field


def test_tdmrep_unmatched_and_patterns():
    rules = parse_tdmrep_json(SPEC_FILE)
    assert tdmrep_evidence("https://provider.com/directory-b/images/photo.png", rules=rules) == []
    assert location_matches("/path/foo-%24", "https://provider.com/path/foo-$")
    assert location_matches("/this/path/exactly$", "/this/path/exactly")
    assert not location_matches("/this/path/exactly$", "/this/path/exactly/more")
    assert location_matches("/this/*/then", "/this/a/b/then/x")
    assert not location_matches("/Dir/", "/dir/a")  # case-sensitive
    first = parse_tdmrep_json('[{"location":"/","tdm-reservation":0},{"location":"/a/","tdm-reservation":1}]')
    assert tdmrep_evidence("https://p/a/x", rules=first)[0].implies is Implication.CONSENT_ALLOWED


def test_tdmrep_precedence_html_over_header_over_file():
    rules = parse_tdmrep_json('[{"location":"/","tdm-reservation":1}]')
    ev = tdmrep_evidence("https://p/x", rules=rules, headers=[("tdm-reservation", "0")])
    effective = [e for e in ev if e.implies is not Implication.INFO]
    assert [e.data["source"] for e in effective] == ["HTTP header"] and effective[0].implies is Implication.CONSENT_ALLOWED
    metas = html_meta('<html><head><meta name="tdm-reservation" content="1">'
                      '<meta name="tdm-policy" content="https://p/policy.json"></head>')
    ev = tdmrep_evidence("https://p/x", rules=rules, headers=[("tdm-reservation", "0")], metas=metas)
    [eff] = [e for e in ev if e.implies is not Implication.INFO]
    assert eff.data["source"] == "HTML meta" and eff.data["tdm_policy"] == "https://p/policy.json"
    assert sum(e.implies is Implication.INFO for e in ev) == 2
    assert tdmrep_evidence("https://p/x", headers=[("tdm-reservation", "7")]) == []  # protocol error: unset


@pytest.mark.parametrize("doc", ["[" * 50_000 + "]" * 50_000, '{"location": "/"}', "not json", "[1]" + " " * 300_000])
def test_tdmrep_hostile_files_are_signal_errors(doc):
    try:
        rules = parse_tdmrep_json(doc)
    except SignalError:
        return
    assert rules == []


def test_x_robots_tag_scoped_and_unscoped():
    assert parse_x_robots_tag("otherbot: noai, noimageai") == [("otherbot", "noai"), ("otherbot", "noimageai")]
    ev = x_robots_evidence(["noimageai", "otherbot: noai", "GPTBot: noai", "unavailable_after: 2020-01-01"],
                           AGENTS, location="HTTP")
    assert [(e.implies, e.data["scope"]) for e in ev] == [
        (Implication.CONSENT_RESERVED, None), (Implication.INFO, "otherbot"), (Implication.CONSENT_RESERVED, "GPTBot")]


def test_meta_robots_and_agent_meta():
    metas = html_meta(b'<html><head><meta name="robots" content="index, noai"><meta name="description" '
                      b'content="noai"><meta name="CCBot" content="noimageai"></head><body>'
                      b'<meta name="robots" content="noai"></body>')
    ev = meta_robots_evidence(metas, AGENTS, location="HTML")
    assert [(e.field, e.data["directive"]) for e in ev] == [('<meta name="robots">', "noai"),
                                                             ('<meta name="ccbot">', "noimageai")]


def test_evaluate_url_combines_everything():
    from artlineage.signals.web import build_site_signals
    from artlineage.signals.web._fetch import FetchResult
    fetched = {"robots.txt": FetchResult("u", "u", status=200, body=b"User-agent: CCBot\nDisallow: /\n"),
               "tdmrep.json": FetchResult("u", "u", status=404),
               "ai.txt": FetchResult("u", "u", status=500)}
    site = build_site_signals("https://s.test", fetched, AGENTS)
    assert site.errors == {"ai.txt": "HTTP 500"}
    ev = evaluate_url("https://s.test/a.jpg", site, AGENTS, headers=[("x-robots-tag", "noai")])
    assert {e.reader for e in ev} == {"robots", "x-robots-tag"}
