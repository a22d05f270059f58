from __future__ import annotations

import pytest

from artlineage import inspect_bytes
from artlineage.interfaces.web.optout import optout_for

from .conftest import make_user, png_bytes


def test_robots_txt_disallows_ai_crawlers(client):
    text = client.get("/robots.txt").text
    for agent in ("GPTBot", "CCBot", "Google-Extended", "ClaudeBot", "anthropic-ai", "Applebot-Extended",
                  "Bytespider", "PerplexityBot", "meta-externalagent", "img2dataset"):
        assert f"User-agent: {agent}" in text
    assert "Disallow: /" in text


def test_tdmrep_and_headers_follow_each_artists_terms(client, app):
    a_id, key_a = make_user(app, "a@example.org", "Alice Example")
    b_id, key_b = make_user(app, "b@example.org", "Bob Example")
    client.post(f"/v1/artists/{a_id}/terms", headers={"Authorization": f"Bearer {key_a}"},
                json={"ai_training": "not_allowed"})
    client.post(f"/v1/artists/{b_id}/terms", headers={"Authorization": f"Bearer {key_b}"},
                json={"ai_training": "allowed", "generative_training": "allowed", "data_mining": "allowed"})
    rules = client.get("/.well-known/tdmrep.json").json()
    assert {"location": f"/artists/{b_id}/*", "tdm-reservation": 0} in rules
    assert rules[-1]["location"] == "/*" and rules[-1]["tdm-reservation"] == 1 and rules[-1]["tdm-policy"]
    ra = client.get(f"/artists/{a_id}")
    assert ra.headers["x-robots-tag"] == "noai, noimageai" and ra.headers["tdm-reservation"] == "1"
    assert ra.headers["tdm-policy"].endswith(f"/artists/{a_id}/terms")
    assert '<meta name="robots" content="noai, noimageai">' in ra.text
    rb = client.get(f"/artists/{b_id}")
    assert rb.headers["tdm-reservation"] == "0" and "x-robots-tag" not in rb.headers
    assert f"Allow: /artists/{b_id}" in client.get("/robots.txt").text
    # Served image of A carries the headers and an XMP Data Mining prohibition artlineage itself reads back.
    card = client.post("/v1/works", headers={"Authorization": f"Bearer {key_a}"},
                       files={"file": ("x.png", png_bytes(), "image/png")}).json()
    for url in (card["media"]["thumb"], card["media"]["display"]):
        img = client.get(url)
        assert img.headers["x-robots-tag"] == "noai, noimageai" and img.headers["tdm-reservation"] == "1"
        assert b"DMI-PROHIBITED-AIMLTRAINING" in img.content
        report = inspect_bytes(img.content, pixels=False)
        assert any(e.implies.value == "consent_reserved" for e in report.evidence), report.to_dict()


def test_optout_codes():
    assert optout_for({"data_mining": "not_allowed"}).dmi == "DMI-PROHIBITED"
    assert optout_for({"generative_training": "not_allowed"}).dmi == "DMI-PROHIBITED-GENAIMLTRAINING"
    assert optout_for({}).reserved and optout_for({}, reserve_unknown=False).dmi == "DMI-UNSPECIFIED"
    allowed = optout_for({"ai_training": "allowed", "generative_training": "allowed",
                          "data_mining": "allowed_with_credit"})
    assert allowed.dmi == "DMI-ALLOWED" and not allowed.reserved


def test_tdmrep_policy_url_comes_from_the_configured_public_url_not_the_host_header(tmp_path):
    """tdmrep.json is publicly cached: a forged Host header must not end up in it."""
    from fastapi.testclient import TestClient

    from artlineage.interfaces.web import create_app
    app = create_app(tmp_path / "p.sqlite", tmp_path / "m", secret_key="s", pixels=False,
                     public_url="https://art.example.org/")
    with TestClient(app) as c:
        rules = c.get("/.well-known/tdmrep.json", headers={"Host": "evil.example"}).json()
    assert rules[-1]["tdm-policy"] == "https://art.example.org/.well-known/tdm-policy.json"
    assert "evil" not in str(rules)


def test_public_url_default_is_local_and_must_be_http(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from artlineage.interfaces.web import create_app
    monkeypatch.delenv("ARTLINEAGE_PUBLIC_URL", raising=False)
    app = create_app(tmp_path / "p.sqlite", tmp_path / "m", secret_key="s", pixels=False)
    with TestClient(app) as c:
        rules = c.get("/.well-known/tdmrep.json", headers={"Host": "evil.example"}).json()
    assert rules[-1]["tdm-policy"] == "http://127.0.0.1:8000/.well-known/tdm-policy.json"
    for bad in ("javascript:alert(1)", "art.example.org", "https://art.example.org/x?y=1"):
        with pytest.raises(ValueError):
            create_app(tmp_path / "p.sqlite", tmp_path / "m", secret_key="s", public_url=bad)
