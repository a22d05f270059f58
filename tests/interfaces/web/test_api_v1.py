from __future__ import annotations

import hashlib

from .conftest import a1111_png, make_user, png_bytes


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_verdict_endpoint_reads_a1111_parameters(client):
    r = client.post("/v1/verdict", files={"file": ("gen.png", a1111_png(), "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"]["origin"] == "ai_generated"
    assert any(e["reader"] == "a1111" for e in body["verdict"]["evidence"])
    assert body["generation"][0]["seed"] == 1234
    assert body["content_type"] == "image/png"


def test_verdict_refuses_private_url(client):
    r = client.post("/v1/verdict", data={"url": "http://127.0.0.1:9/x.png"})
    assert r.status_code == 400 and "could not fetch" in r.json()["detail"]


def test_upload_and_work_card(client, app):
    artist_id, key = make_user(app, "a@example.org", "Alice Example")
    r = client.post("/v1/works", headers=auth(key), files={"file": ("gen.png", a1111_png(), "image/png")},
                    data={"title": "Lighthouse", "declared_ai_use": "none"})
    assert r.status_code == 201, r.text
    card = r.json()
    assert card["origin"]["badge"] == "ai" and card["origin"]["badge_source"] == "file"
    assert card["generation"][0]["steps"] == 28
    assert card["prompt"].startswith("a lighthouse")
    assert any(m["artist"] == "Greg Rutkowski" for m in card["named_artists"]["matches"])
    crit = {c["criterion"]: c for c in card["criteria"]}
    assert not crit["disclosed"]["met"] and "declared no AI use" in crit["disclosed"]["reason"]
    assert not crit["influences_credited"]["met"] and "Greg Rutkowski" in crit["influences_credited"]["reason"]
    assert card["acceptable"] is False
    assert set(card["training_consent"]["scopes"]) >= {"ai_training", "style_imitation"}
    # Disclose, describe the process, credit the influence: acceptable.
    work_id = card["work"]["id"]
    r = client.patch(f"/v1/works/{work_id}", headers=auth(key),
                     json={"declared_ai_use": "generated", "process": "fine-tuned on my sketches", "training_data": "own",
                           "credits": ["Greg Rutkowski"]})
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["acceptable"] is True, card["criteria"]
    # Gallery listing and human-only filter.
    items = client.get("/v1/works").json()["items"]
    assert [i["work_id"] for i in items] == [work_id]
    assert client.get("/v1/works", params={"human_only": "true"}).json()["items"] == []


def test_registry_crud_terms_influences_lineage(client, app):
    a_id, key = make_user(app, "a@example.org", "Alice Example")
    admin_artist, admin_key = make_user(app, "root@example.org", "Admin Person", admin=True)
    r = client.post("/v1/artists", headers=auth(admin_key), json={"name": "Katsushika Hokusai", "living": False})
    assert r.status_code == 201
    hokusai = r.json()["id"]
    assert client.patch(f"/v1/artists/{a_id}", headers=auth(key), json={"sort_name": "Example, Alice"}).json()[
        "sort_name"] == "Example, Alice"
    r = client.post(f"/v1/artists/{a_id}/terms", headers=auth(key),
                    json={"ai_training": "not_allowed", "style_imitation": "allowed_with_credit"})
    assert r.status_code == 201
    terms = client.get(f"/v1/artists/{a_id}/terms").json()
    assert terms["current"]["scopes"]["ai_training"]["value"] == "not_allowed"
    assert client.post(f"/v1/artists/{a_id}/influences", headers=auth(key), json={"target_id": hokusai}).status_code == 201
    lin = client.get(f"/v1/artists/{a_id}/lineage").json()
    assert [n["name"] for n in lin["ancestors"]] == ["Katsushika Hokusai"]
    assert client.get("/v1/artists", params={"q": "hokusai"}).json()[0]["id"] == hokusai
    # prompt check uses the registry's terms
    p = client.post("/v1/prompt", json={"text": "portrait in the style of Alice Example"}).json()
    assert p["decision"] == "credit_required"


def test_artist_b_cannot_edit_artist_a(client, app):
    a_id, key_a = make_user(app, "a@example.org", "Alice Example")
    b_id, key_b = make_user(app, "b@example.org", "Bob Example")
    assert client.patch(f"/v1/artists/{a_id}", headers=auth(key_b), json={"name": "Hacked"}).status_code == 403
    assert client.post(f"/v1/artists/{a_id}/terms", headers=auth(key_b), json={"ai_training": "allowed"}).status_code == 403
    assert client.post("/v1/works", headers=auth(key_b), data={"artist_id": str(a_id)},
                       files={"file": ("x.png", png_bytes(), "image/png")}).status_code == 403
    r = client.post("/v1/works", headers=auth(key_a), files={"file": ("x.png", png_bytes(), "image/png")})
    work_id = r.json()["work"]["id"]
    assert client.patch(f"/v1/works/{work_id}", headers=auth(key_b), json={"title": "mine"}).status_code == 403
    assert client.delete(f"/v1/works/{work_id}", headers=auth(key_b)).status_code == 403
    assert client.patch(f"/v1/artists/{a_id}", json={"name": "anon"}).status_code == 401
    assert client.patch(f"/v1/artists/{a_id}", headers=auth("alk_nope_nope"), json={"name": "x"}).status_code == 401
    assert client.get(f"/v1/artists/{a_id}").json()["name"] == "Alice Example"


def test_cookie_session_writes_need_csrf_header(client, app):
    make_user(app, "a@example.org", "Alice Example")
    page = client.get("/signin")
    import re
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post("/signin", data={"csrf": csrf, "email": "a@example.org", "password": "correct horse battery"},
                    follow_redirects=False)
    assert r.status_code == 303 and "HttpOnly" in r.headers["set-cookie"] and "SameSite=lax" in r.headers["set-cookie"]
    assert client.post("/v1/keys", json={"name": "k"}).status_code == 403  # no CSRF header
    # The sign-in page's token was issued to no session: a signed-in page gives the one that works.
    assert client.post("/v1/keys", json={"name": "k"}, headers={"X-CSRF-Token": csrf}).status_code == 403
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/account").text).group(1)
    r = client.post("/v1/keys", json={"name": "k"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201 and r.json()["key"].startswith("alk_")


def test_api_key_rate_limit(client, app):
    from artlineage.interfaces.web import auth as A
    _aid, _key = make_user(app, "a@example.org", "Alice Example")
    with app.state.platform.session() as s, s.begin():
        from artlineage.interfaces.web.models import User
        from sqlalchemy import select
        user = s.scalar(select(User))
        slow = A.create_api_key(s, user, "slow", rate_per_minute=3).secret
    codes = [client.get("/v1/artists", headers=auth(slow)).status_code for _ in range(3)]
    codes += [client.get("/v1/artists", headers=auth(slow)).status_code for _ in range(2)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429


def test_consent_for_file_uses_registry_terms(client, app):
    a_id, key = make_user(app, "a@example.org", "Alice Example")
    client.post(f"/v1/artists/{a_id}/terms", headers=auth(key), json={"ai_training": "not_allowed"})
    data = png_bytes(color=(1, 2, 3))
    client.post("/v1/works", headers=auth(key), files={"file": ("x.png", data, "image/png")})
    r = client.post("/v1/consent", files={"file": ("x.png", data, "image/png")})
    assert r.status_code == 200, r.text
    assert r.json()["decision"] == "reserved"
    body = r.json()
    assert body["matched_works"] == [{
        "work_id": 1, "artist_id": a_id, "artist": "Alice Example", "title": "x", "verified": False,
        "badge": "unknown", "badge_source": "none", "match": "identical", "method": "sha256", "score": 1.0,
        "distance": 0, "evidence": {"method": "sha256", "sha256": hashlib.sha256(data).hexdigest()},
        "explanation": "The very same file (identical bytes).", "relation": "other_artist",
        "page": f"/artists/{a_id}/works/1",
        "terms": {"ai_training": "not_allowed", "generative_training": None, "data_mining": None,
                  "style_imitation": None}}]
    assert body["copy_search"] == {"method": "sha256", "note": None}  # the same file: no search needed
    rule = "registry ai_training: not_allowed @ registry work #1"
    assert body["uses"] == {
        "training": {"decision": "reserved", "rule": rule, "reader": "registry", "overridden": []},
        "generative_training": {"decision": "reserved", "rule": rule, "reader": "registry", "overridden": []},
        "data_mining": {"decision": "unknown", "rule": "", "reader": None, "overridden": []}}
    assert body["evidence"] == [{
        "reader": "registry", "location": "registry work #1", "field": "ai_training", "value": "not_allowed",
        "implies": "consent_reserved", "strength": 0.95, "generator": None,
        "note": "artists' registry: ai_training not_allowed",
        "data": {"uses": ["training"], "artist_id": a_id, "work_id": 1}}]


def test_url_errors_are_400_with_a_reason_and_never_name_the_resolved_address(client):
    r = client.post("/v1/verdict", data={"url": "http://localhost:9/x.png"})
    assert r.status_code == 400
    assert r.json()["detail"] == ("could not fetch 'http://localhost:9/x.png': refused localhost: it resolves only "
                                  "to non-public addresses (pass allow_private to fetch private/loopback hosts)")
    r = client.post("/v1/verdict", data={"url": "http://[::1/x.png"})
    assert r.status_code == 400 and "malformed URL 'http://[::1/x.png'" in r.json()["detail"]
    r = client.post("/v1/consent", data={"url": "http://[::1/x.png"})
    assert r.status_code == 400 and "malformed URL 'http://[::1/x.png'" in r.json()["detail"]
