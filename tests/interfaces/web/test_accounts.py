"""Accounts: e-mail verification and password reset through a real SMTP server (aiosmtpd on
loopback), profile, identity verification through the pages, API key ceilings, deleting the account
and its data, and the operators' queues."""

from __future__ import annotations

import re
import threading
from http.server import HTTPServer

import pytest

from .conftest import make_user
from .test_pages import HTML, _csrf, _signin
from .test_trust import _photo, _Site


class _Inbox:
    def __init__(self):
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp():
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    import socket
    with socket.socket() as sock:  # aiosmtpd's Controller does not report a port 0 choice
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = _Inbox()
    controller = controller_mod.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def mail_app(tmp_path, smtp):
    from artlineage.interfaces.web import create_app
    from artlineage.interfaces.web.mail import SmtpConfig
    _inbox, port = smtp
    return create_app(tmp_path / "p.sqlite", tmp_path / "media", secret_key="k", pixels=False,
                      smtp=SmtpConfig("127.0.0.1", port, "artlineage <noreply@example.org>"),
                      verify_allow_private=True)


@pytest.fixture
def mail_client(mail_app):
    from fastapi.testclient import TestClient
    with TestClient(mail_app) as c:
        yield c


def _link(message: str, path: str) -> str:
    return re.search(rf"http://127\.0\.0\.1:8000({path}/[A-Za-z0-9_\-]+)", message).group(1)  # public URL


def _signup(client, email: str, password: str = "correct horse battery", artist_name: str = "Nia New"):
    page = client.get("/signup", headers=HTML).text
    return client.post("/signup", data={"csrf": _csrf(page), "email": email, "password": password,
                                        "artist_name": artist_name}, headers=HTML, follow_redirects=False)


def test_signup_sends_a_verification_mail_and_the_link_confirms_and_signs_in(mail_client, smtp):
    from artlineage.interfaces.web import auth
    inbox, _port = smtp
    r = _signup(mail_client, "new@example.org")
    assert r.status_code == 200 and "<h1>Check your e-mail</h1>" in r.text
    assert auth.SESSION_COOKIE not in mail_client.cookies  # sign-up alone never signs in
    assert mail_client.get("/account", headers=HTML, follow_redirects=False).headers["location"] == "/signin"
    assert [to for to, _ in inbox.messages] == [["new@example.org"]]
    assert "Subject: Confirm your e-mail address on artlineage" in inbox.messages[0][1]
    link = _link(inbox.messages[0][1], "/verify-email")
    r = mail_client.get(link, headers=HTML, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/account?confirmed=1")
    account = mail_client.get("/account?confirmed=1", headers=HTML).text
    assert "E-mail address confirmed" in account and "new@example.org" in account and "✓ confirmed" in account
    assert mail_client.get(link, headers=HTML).status_code == 400  # one use only


def _normalised(response) -> tuple[int, list[tuple[str, str]], str]:
    """Status, headers and body with the per-request random values (CSRF cookie and token) masked."""
    masked = lambda text: re.sub(r'(name="csrf" value=")[^"]+"', r'\1CSRF"',  # noqa: E731
                                 re.sub(r"(al_csrf=)[^;]+", r"\1COOKIE", text))
    headers = [(k, masked(v)) for k, v in response.headers.multi_items() if k != "content-length"]
    return response.status_code, headers, masked(response.text)


def test_signup_answers_the_same_for_a_taken_and_a_new_address(mail_app, smtp):
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from artlineage.interfaces.web import auth
    from artlineage.registry.models import Artist
    inbox, _port = smtp
    make_user(mail_app, "taken@example.org", "Tara Taken")
    with mail_app.state.platform.session() as s:
        artists_before = s.scalar(select(func.count(Artist.id)))
    answers = []
    for address, email in (("10.0.5.1", "Taken@example.org"), ("10.0.5.2", "fresh@example.org")):
        # each a first-time visitor from its own address (the throttle's counters are per address)
        with TestClient(mail_app, client=(address, 50000)) as c:
            r = _signup(c, email, "another long passphrase", f"Artist of {email}")
            assert auth.SESSION_COOKIE not in c.cookies
            assert int(r.headers["content-length"]) == len(r.content)
            answers.append(_normalised(r))
    assert answers[0] == answers[1]
    status, headers, body = answers[0]
    assert status == 200 and "<h1>Check your e-mail</h1>" in body and "already" not in body
    assert [value for name, value in headers if name == "set-cookie"] == []  # no session, no cookie at all
    # the owner of the taken address is told, with ways back in; the new address gets its link
    assert [to for to, _ in inbox.messages] == [["taken@example.org"], ["fresh@example.org"]]
    owner_mail, new_mail = inbox.messages[0][1], inbox.messages[1][1]
    assert "Subject: Someone tried to sign up on artlineage with your address" in owner_mail
    assert "http://127.0.0.1:8000/signin" in owner_mail and "http://127.0.0.1:8000/reset" in owner_mail
    assert "/verify-email/" not in owner_mail and "/verify-email/" in new_mail
    with mail_app.state.platform.session() as s:  # only the new address made an artist and an account
        assert s.scalar(select(func.count(Artist.id))) == artists_before + 1
        assert auth.authenticate(s, "taken@example.org", "correct horse battery").email == "taken@example.org"
        with pytest.raises(auth.AuthError):
            auth.authenticate(s, "taken@example.org", "another long passphrase")


def test_without_smtp_the_mail_goes_to_the_server_log_not_to_the_client(app, client, caplog):
    import logging
    caplog.set_level(logging.WARNING, logger="artlineage.interfaces.web.mail")
    r = _signup(client, "local@example.org")
    assert r.status_code == 200 and "<h1>Check your e-mail</h1>" in r.text and "/verify-email/" not in r.text
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    link = re.search(r"http://127\.0\.0\.1:8000(/verify-email/[A-Za-z0-9_\-]+)", logged).group(1)
    r = client.get(link, headers=HTML, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/account?confirmed=1")


def test_password_reset_by_mail(mail_app, mail_client, smtp):
    inbox, _port = smtp
    make_user(mail_app, "reset@example.org", "Rae Reset")
    page = mail_client.get("/reset", headers=HTML).text
    for email in ("reset@example.org", "nobody@example.org"):  # same answer either way
        r = mail_client.post("/reset", data={"csrf": _csrf(page), "email": email}, headers=HTML)
        assert r.status_code == 200 and "If an account uses" in r.text
    assert [to for to, _ in inbox.messages] == [["reset@example.org"]]
    link = _link(inbox.messages[0][1], "/reset")
    form = mail_client.get(link, headers=HTML).text
    assert 'name="password"' in form
    r = mail_client.post(link, data={"csrf": _csrf(form), "password": "short"}, headers=HTML)
    assert r.status_code == 400  # the token is not spent by a refused password
    r = mail_client.post(link, data={"csrf": _csrf(form), "password": "a brand new passphrase"}, headers=HTML)
    assert r.status_code == 200 and "Your password is changed" in r.text
    fresh = _csrf(mail_client.get("/reset", headers=HTML).text)  # CSRF tokens are bound to the new session
    assert mail_client.post(link, data={"csrf": fresh, "password": "another new passphrase"},
                            headers=HTML).status_code == 400  # the link worked once
    mail_client.cookies.clear()
    _signin(mail_client, "reset@example.org", "a brand new passphrase")


def test_identity_verification_through_the_pages_and_the_operator_queue(mail_app, mail_client):
    aid, _key = make_user(mail_app, "mira@example.org", "Mira Okonkwo")
    make_user(mail_app, "op@example.org", "Operator", admin=True)
    server = HTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _signin(mail_client, "mira@example.org")
        page = mail_client.get("/account/verify", headers=HTML).text
        text = re.search(r"artlineage-verify=[A-Za-z0-9_\-]+", page).group(0)
        url = f"http://127.0.0.1:{server.server_address[1]}/about-me"
        _Site.body = b"<p>hello</p>"
        r = mail_client.post("/account/verify", data={"csrf": _csrf(page), "url": url}, headers=HTML)
        assert "Not found yet" in r.text
        _Site.body = f'<meta name="artlineage" content="{text}">'.encode()
        r = mail_client.post("/account/verify", data={"csrf": _csrf(page), "url": url}, headers=HTML,
                             follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/artists/{aid}"
        artist_page = mail_client.get(f"/artists/{aid}", headers=HTML).text
        assert "✓ verified artist" in artist_page and url in artist_page
    finally:
        server.shutdown()
        server.server_close()
    # a second account with the same name goes to the operator, who rejects it
    fake, _k = make_user(mail_app, "fake@example.org", "Mira Okonkwo")
    mail_client.cookies.clear()
    _signin(mail_client, "fake@example.org")
    page = mail_client.get("/account/verify", headers=HTML).text
    mail_client.post("/account/verify/review", data={"csrf": _csrf(page), "url": "https://instagram.example/mira",
                                                     "note": "my instagram"}, headers=HTML)
    assert "unverified" in mail_client.get(f"/artists/{fake}", headers=HTML).text
    mail_client.cookies.clear()
    _signin(mail_client, "op@example.org")
    admin = mail_client.get("/admin", headers=HTML).text
    assert "Identity claims waiting (1)" in admin and "https://instagram.example/mira" in admin
    claim_id = re.search(r'action="/admin/claims/(\d+)"', admin).group(1)
    mail_client.post(f"/admin/claims/{claim_id}", data={"csrf": _csrf(admin), "decision": "reject"}, headers=HTML)
    assert "Identity claims waiting (0)" in mail_client.get("/admin", headers=HTML).text
    artists = mail_client.get("/artists", headers=HTML).text
    assert artists.count("✓ verified") == 2  # one in the lede, one for the real Mira


def test_reports_go_to_the_moderation_queue(app, client):
    aid, key = make_user(app, "w@example.org", "Wes Work")
    make_user(app, "op2@example.org", "Op", admin=True)
    wid = client.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                      files={"file": ("w.png", _photo(3), "image/png")}, data={"title": "Reported"}).json()["work"]["id"]
    page = client.get(f"/works/{wid}", headers=HTML).text
    r = client.post(f"/works/{wid}/report", data={"csrf": _csrf(page), "reason": "copy", "note": "it is mine"},
                    headers=HTML)
    assert "the report is in the operators" in r.text
    assert client.get("/admin", headers=HTML).status_code == 401  # visitors (not signed in) cannot see it
    _signin(client, "op2@example.org")
    admin = client.get("/admin", headers=HTML).text
    assert "Reports (1)" in admin and "it is mine" in admin and "<strong>1</strong> Open reports" in admin
    report_id = re.search(r'action="/admin/reports/(\d+)"', admin).group(1)
    client.post(f"/admin/reports/{report_id}", data={"csrf": _csrf(admin), "decision": "remove"}, headers=HTML)
    assert client.get(f"/v1/works/{wid}").status_code == 404
    assert "Reports (0)" in client.get("/admin", headers=HTML).text


def test_profile_key_ceilings_and_deleting_the_account(app, client):
    aid, key = make_user(app, "del@example.org", "Dee Delete")
    wid = client.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                      files={"file": ("d.png", _photo(8), "image/png")}).json()["work"]["id"]
    _signin(client, "del@example.org")
    page = client.get("/account", headers=HTML).text
    r = client.post("/account/profile", data={"csrf": _csrf(page), "bio": "Painter in Lagos.",
                                              "links": "ftp://nope"}, headers=HTML)
    assert r.status_code == 400 and "not a web address" in r.text and "Painter in Lagos." in r.text
    r = client.post("/account/profile", data={"csrf": _csrf(page), "bio": "Painter in Lagos.",
                                              "links": "https://dee.example"},
                    files={"avatar": ("a.png", _photo(9), "image/png")}, headers=HTML)
    assert r.status_code == 200 and "Saved." in r.text
    artist_page = client.get(f"/artists/{aid}", headers=HTML).text
    assert "Painter in Lagos." in artist_page and "https://dee.example" in artist_page
    avatar = re.search(r'src="(/avatars/[0-9a-f]{64}\.webp)"', artist_page).group(1)
    assert client.get(avatar).headers["content-type"] == "image/webp"
    r = client.post("/account/keys", data={"csrf": _csrf(page), "name": "big",
                                           "rate_per_minute": str(app.state.rate_limits.max_key_rate + 1)},
                    headers=HTML)
    assert r.status_code == 400 and 'role="alert"' in r.text  # the operator's ceiling, shown on the page
    r = client.post("/account/delete", data={"csrf": _csrf(page), "password": "wrong password!"}, headers=HTML)
    assert r.status_code == 400 and "nothing was deleted" in r.text
    r = client.post("/account/delete", data={"csrf": _csrf(page), "password": "correct horse battery"}, headers=HTML)
    assert r.status_code == 200 and "Your account is deleted" in r.text and "1 work(s)" in r.text
    assert client.get(f"/v1/works/{wid}").status_code == 404
    assert client.get(f"/v1/artists/{aid}").status_code == 404
    assert client.get("/v1/works", headers={"Authorization": f"Bearer {key}"}).status_code == 401  # keys gone
