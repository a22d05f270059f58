"""API keys: listing, revocation through the API and the keys page (CSRF-protected), 401 right after."""

from __future__ import annotations

import re

from .conftest import make_user


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _sign_in(client) -> str:
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text).group(1)
    r = client.post("/signin", data={"csrf": csrf, "email": "a@example.org", "password": "correct horse battery"},
                    follow_redirects=False)
    assert r.status_code == 303
    # The token is bound to the session: a signed-in page's token, not the sign-in page's.
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/account").text).group(1)


def test_list_and_revoke_through_the_api(client, app):
    a_id, key = make_user(app, "a@example.org", "Alice Example")
    second = client.post("/v1/keys", headers=bearer(key), json={"name": "ci", "rate_per_minute": 30}).json()
    listed = client.get("/v1/keys", headers=bearer(key)).json()
    assert [(k["name"], k["revoked"]) for k in listed] == [("test", False), ("ci", False)]
    assert all("key" not in k and "secret_sha256" not in k for k in listed)
    assert client.get("/v1/keys", headers=bearer(second["key"])).status_code == 200
    r = client.delete(f"/v1/keys/{second['id']}", headers=bearer(key))
    assert r.status_code == 200 and r.json()["revoked"] is True
    r = client.patch(f"/v1/artists/{a_id}", headers=bearer(second["key"]), json={"sort_name": "x"})
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert client.get("/v1/artists", headers=bearer(second["key"])).status_code == 401  # reads too
    assert [k["revoked"] for k in client.get("/v1/keys", headers=bearer(key)).json()] == [False, True]


def test_cannot_revoke_another_accounts_key(client, app):
    _a, key_a = make_user(app, "a@example.org", "Alice Example")
    _b, key_b = make_user(app, "b@example.org", "Bob Example")
    b_key_id = client.get("/v1/keys", headers=bearer(key_b)).json()[0]["id"]
    assert client.delete(f"/v1/keys/{b_key_id}", headers=bearer(key_a)).status_code == 404
    assert client.delete("/v1/keys/999999", headers=bearer(key_a)).status_code == 404
    assert client.get("/v1/keys", headers=bearer(key_b)).status_code == 200
    assert client.delete(f"/v1/keys/{b_key_id}").status_code == 401


def test_keys_page_lists_and_revokes_with_csrf(client, app):
    _a, key = make_user(app, "a@example.org", "Alice Example")
    csrf = _sign_in(client)
    page = client.get("/account").text
    key_id = client.get("/v1/keys", headers=bearer(key)).json()[0]["id"]
    assert f'action="/account/keys/{key_id}/revoke"' in page and "(revoked)" not in page
    # A cross-site form post has the cookie but not the token: refused, key still works.
    r = client.post(f"/account/keys/{key_id}/revoke", data={"csrf": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    assert client.get("/v1/artists", headers=bearer(key)).status_code == 200
    r = client.post(f"/account/keys/{key_id}/revoke", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/account"
    assert client.get("/v1/artists", headers=bearer(key)).status_code == 401
    assert "(revoked)" in client.get("/account").text
    # The cookie-authenticated API needs the CSRF header for DELETE too.
    new = client.post("/v1/keys", json={"name": "k"}, headers={"X-CSRF-Token": csrf}).json()
    assert client.delete(f"/v1/keys/{new['id']}").status_code == 403
    assert client.delete(f"/v1/keys/{new['id']}", headers={"X-CSRF-Token": csrf}).status_code == 200
