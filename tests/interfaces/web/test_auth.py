"""Accounts under abuse: password policy, sign-in throttling per account and per address, argon2 hashing
bounded so other pages stay fast, CSRF tokens bound to the session."""

from __future__ import annotations

import re
import threading
import time

import pytest

from .conftest import make_user

PASSWORD = "correct horse battery"


def _csrf(client, path: str = "/signin") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


def _client(app, address: str):
    from fastapi.testclient import TestClient
    return TestClient(app, client=(address, 50000))


# ---------------------------------------------------------------- password policy

@pytest.mark.parametrize("password,words", [
    (" " * 10, "spaces"), ("\t \n" * 5, "spaces"), ("  abc      ", "at least"), ("1234567890", "common"),
    ("Password123", "common"), ("qwertyuiop", "common"), ("aaaaaaaaaaaa", "different characters"),
    ("abababababab", "different characters"),
])
def test_weak_passwords_are_refused(app, password, words):
    from artlineage.interfaces.web import auth
    with app.state.platform.session() as s, pytest.raises(auth.AuthError, match=words):
        auth.create_user(s, "a@example.org", password)


def test_password_same_as_email_is_refused(app):
    from artlineage.interfaces.web import auth
    with app.state.platform.session() as s, pytest.raises(auth.AuthError, match="e-mail"):
        auth.create_user(s, "long.name@example.org", "long.name@example.org")


def test_signup_form_refuses_ten_spaces(client):
    r = client.post("/signup", data={"csrf": _csrf(client, "/signup"), "email": "a@example.org",
                                     "password": " " * 10, "artist_name": "Alice"}, follow_redirects=False)
    assert r.status_code == 400 and "spaces" in r.text


def test_good_password_is_accepted(app):
    from artlineage.interfaces.web import auth
    with app.state.platform.session() as s, s.begin():
        user = auth.create_user(s, "a@example.org", PASSWORD)
        assert (user.id, user.email) == (1, "a@example.org")
    with app.state.platform.session() as s:
        assert auth.authenticate(s, "a@example.org", PASSWORD).id == 1


# ---------------------------------------------------------------- sign-in throttling

@pytest.fixture
def throttled_app(tmp_path):
    from artlineage.interfaces.web import create_app
    from artlineage.interfaces.web.ratelimit import RateLimits
    return create_app(tmp_path / "p.sqlite", tmp_path / "media", secret_key="s", pixels=False,
                      rate_limits=RateLimits(signin_per_address=5, signin_per_account=3))


def _attempt(client, email: str, password: str = "wrong password!"):
    return client.post("/signin", data={"csrf": _csrf(client), "email": email, "password": password},
                       follow_redirects=False)


def test_signin_is_throttled_per_client_address(throttled_app):
    with _client(throttled_app, "10.0.0.1") as c:
        codes = [_attempt(c, f"user{i}@example.org").status_code for i in range(7)]
        assert codes == [401] * 5 + [429, 429]
        r = _attempt(c, "another@example.org")
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
    with _client(throttled_app, "10.0.0.2") as other:  # another address is not held back
        assert _attempt(other, "user0@example.org").status_code == 401


def test_signin_is_throttled_per_account_across_addresses(throttled_app):
    make_user(throttled_app, "a@example.org", "Alice Example")
    codes = []
    for i in range(5):
        with _client(throttled_app, f"10.0.1.{i}") as c:
            codes.append(_attempt(c, "A@Example.org ").status_code)
    assert codes == [401, 401, 401, 429, 429]
    with _client(throttled_app, "10.0.1.9") as c:  # the right password waits too: no oracle while throttled
        assert _attempt(c, "a@example.org", PASSWORD).status_code == 429
        assert _attempt(c, "b@example.org").status_code == 401  # other accounts are not held back


def test_throttled_attempts_do_not_hash(throttled_app, monkeypatch):
    from artlineage.interfaces.web import auth
    calls = []
    real = auth.password_hasher()

    class Counting:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(real, name)

    monkeypatch.setattr(auth, "password_hasher", lambda: Counting())
    with _client(throttled_app, "10.0.0.3") as c:
        for i in range(9):
            _attempt(c, f"user{i}@example.org")
    assert len(calls) == 5


def test_signup_is_throttled_per_address(throttled_app):
    with _client(throttled_app, "10.0.2.1") as c:
        codes = [c.post("/signup", data={"csrf": _csrf(c, "/signup"), "email": f"n{i}@example.org",
                                         "password": " " * 10, "artist_name": f"N{i}"}).status_code
                 for i in range(7)]
    assert codes == [400] * 5 + [429, 429]


# ---------------------------------------------------------------- bounded hashing

def test_hashing_runs_at_most_n_at_once_and_sheds_the_excess(monkeypatch):
    from artlineage.interfaces.web import auth
    gate = auth.HashingGate(concurrency=2, queue=3, wait_seconds=5)
    active, peak, lock = [0], [0], threading.Lock()

    def slow():
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return "ok"

    results: list[str] = []

    def worker():
        try:
            results.append(gate.run(slow))
        except auth.HashingBusy:
            results.append("busy")

    threads = [threading.Thread(target=worker) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2
    assert results.count("ok") >= 5 and results.count("busy") >= 1 and len(results) == 12
    assert gate.run(slow) == "ok"  # every slot came back


def test_busy_hashing_answers_503_with_retry_after(client, app, monkeypatch):
    from artlineage.interfaces.web import auth

    def busy(fn, *args):
        raise auth.HashingBusy("too many sign-ins at once")

    monkeypatch.setattr(auth.HASHING, "run", busy)
    r = client.post("/signin", data={"csrf": _csrf(client), "email": "a@example.org", "password": "whatever1234"})
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1


# ---------------------------------------------------------------- CSRF bound to the session

def _sign_in(client, email: str) -> None:
    r = client.post("/signin", data={"csrf": _csrf(client), "email": email, "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 303


def test_csrf_token_is_bound_to_the_session(app):
    make_user(app, "a@example.org", "Alice Example")
    make_user(app, "b@example.org", "Bob Example")
    with _client(app, "10.0.3.1") as a, _client(app, "10.0.3.2") as b:
        anonymous_token = _csrf(a)
        _sign_in(a, "a@example.org")
        _sign_in(b, "b@example.org")
        token_a = _csrf(a, "/account")
        # The anonymous page's token no longer works once signed in.
        assert a.post("/v1/keys", json={"name": "k"}, headers={"X-CSRF-Token": anonymous_token}).status_code == 403
        assert a.post("/v1/keys", json={"name": "k"}, headers={"X-CSRF-Token": token_a}).status_code == 201
        # B's session with A's CSRF cookie and token (a planted pair) is refused.
        b.cookies.set("al_csrf", a.cookies.get("al_csrf"))
        assert b.post("/v1/keys", json={"name": "k"}, headers={"X-CSRF-Token": token_a}).status_code == 403
        assert b.post("/account/keys", data={"csrf": token_a, "name": "k"}).status_code == 403


def test_signing_up_with_a_registered_email_costs_the_same_hash(app, monkeypatch):
    """Refusing a taken e-mail before hashing answered ~50 ms sooner than a new sign-up: a timing oracle
    for which e-mails have accounts. Both paths now hash once."""
    from artlineage.interfaces.web import auth
    make_user(app, "a@example.org", "Alice Example")
    calls = []
    real = auth.hash_password
    monkeypatch.setattr(auth, "hash_password", lambda pw: calls.append(pw) or real(pw))
    with app.state.platform.session() as s:
        with pytest.raises(auth.AuthError):
            auth.create_user(s, "A@example.org", PASSWORD)
        auth.create_user(s, "new@example.org", PASSWORD)
    assert len(calls) == 2
