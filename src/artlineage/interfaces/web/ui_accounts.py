"""Account pages: sign up (with e-mail verification by mail), sign in and out, password reset by
mail, profile (bio, links, avatar), identity verification, API keys, deleting the account; and the
operators' admin page (verification queue, reports queue, figures)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...errors import NotFoundError, RegistryError
from ...registry import Registry
from ...registry.models import Artist, Work
from . import accounts, auth, identity
from .app import current_user, db_session, get_platform, mint_api_key, session_token, throttle_account_form
from .mail import send_mail
from .media import UploadRejected
from .models import ApiKey, ArtistProfile, IdentityClaim, Media, User, WorkReport
from .platform import Platform
from .profiles import avatar_path, avatar_url, save_avatar, update_profile
from .ui import _redirect, check_csrf, render

router = APIRouter(include_in_schema=False)


def _base(request: Request) -> str:
    """Links in mail use the configured public address, never the request's Host header."""
    return str(request.app.state.public_url).rstrip("/")


def _send_verification(request: Request, s: Session, user: User) -> bool:
    token = accounts.issue_token(s, user, "verify")
    link = f"{_base(request)}/verify-email/{token}"
    return send_mail(request.app.state.smtp, user.email, "Confirm your e-mail address on artlineage",
                     f"Confirm that this address is yours by opening:\n\n{link}\n\n"
                     "The link works for 72 hours. If you did not sign up, ignore this message.")


# ---------------------------------------------------------------- sign up, sign in, out

@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request, user: User | None = Depends(current_user)) -> HTMLResponse:
    return render(request, "signup.html", {"error": None, "mode": "signup", "form": {}}, user=user)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, user: User | None = Depends(current_user)) -> HTMLResponse:
    return render(request, "signup.html", {"error": None, "mode": "signin", "form": {}}, user=user)


def _signed_in(request: Request, s: Session, user: User, to: str) -> Response:
    token = auth.start_session(s, user)
    response = _redirect(to)
    response.set_cookie(auth.SESSION_COOKIE, request.app.state.signer.sign_session(token), httponly=True,
                        samesite="lax", secure=request.url.scheme == "https", max_age=auth.SESSION_DAYS * 86400,
                        path="/")
    return response


def _send_signup_attempt(request: Request, email: str) -> bool:
    """Tell the owner of a taken address that someone tried to sign up with it. No token is issued:
    a stranger's sign-up attempt must not spend or replace a password-reset link the owner asked for."""
    base = _base(request)
    return send_mail(request.app.state.smtp, email, "Someone tried to sign up on artlineage with your address",
                     "Someone (perhaps you) tried to create an artlineage account with this e-mail address, "
                     "which already has an account. Nothing was changed.\n\n"
                     f"To sign in: {base}/signin\nForgot your password? Choose a new one: {base}/reset\n\n"
                     "If it was not you, you can ignore this message.")


CHECK_MAIL = {"heading": "Check your e-mail",
              "text": "We sent a message to the address you gave. Open the link in it to confirm your account "
                      "and sign in; it works for 72 hours. No mail after a few minutes? Look in the spam folder."}


@router.post("/signup")
def signup(request: Request, csrf: str = Form(""), email: str = Form(..., max_length=320),
           password: str = Form(..., max_length=1024), artist_name: str = Form(..., max_length=512),
           s: Session = Depends(db_session, scope="function"), platform: Platform = Depends(get_platform)) -> Response:
    """A new address gets a confirmation link; a taken one gets a mail to its owner. The client sees the
    same page either way and is not signed in (the link does that), so sign-up tells nobody which
    addresses have accounts. Only what is wrong with the form itself (address syntax, weak password,
    artist name) is shown, as it says nothing about other accounts."""
    check_csrf(request, csrf)
    throttle_account_form(request)
    try:
        artist = Registry.in_session(s).add_artist(artist_name, living=True)
        user = auth.create_user(s, email, password, artist_id=artist.id)  # hashes before the lookup either way
    except auth.EmailTaken:
        s.rollback()
        _send_signup_attempt(request, email.strip().lower())
        return render(request, "message.html", CHECK_MAIL, user=None)
    except (auth.AuthError, RegistryError) as exc:
        s.rollback()
        return render(request, "signup.html", {"error": str(exc), "mode": "signup",
                                               "form": {"email": email, "artist_name": artist_name}},
                      user=None, status=400)
    _send_verification(request, s, user)
    platform.changed()
    return render(request, "message.html", CHECK_MAIL, user=None)


@router.post("/signin")
def signin(request: Request, csrf: str = Form(""), email: str = Form(..., max_length=320),
           password: str = Form(..., max_length=1024), s: Session = Depends(db_session, scope="function")) -> Response:
    check_csrf(request, csrf)
    throttle_account_form(request, email)
    try:
        user = auth.authenticate(s, email, password)
    except auth.AuthError as exc:
        return render(request, "signup.html", {"error": str(exc), "mode": "signin", "form": {"email": email}},
                      user=None, status=401)
    return _signed_in(request, s, user, f"/artists/{user.artist_id}" if user.artist_id else "/")


@router.post("/signout")
def signout(request: Request, csrf: str = Form(""), s: Session = Depends(db_session, scope="function")) -> Response:
    check_csrf(request, csrf)
    token = session_token(request)
    if token:
        auth.end_session(s, token)
    response = _redirect("/")
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@router.get("/verify-email/{token}", response_class=HTMLResponse)
def verify_email(request: Request, token: str, s: Session = Depends(db_session, scope="function"),
                 user: User | None = Depends(current_user)) -> Response:
    owner = accounts.consume_token(s, token, "verify")
    if owner is None:
        return render(request, "message.html", {"heading": "This link does not work",
                                                "text": "It was used already or has expired. Sign in and ask "
                                                        "for a new one on your account page."}, user=user, status=400)
    owner.email_verified_at = identity.utcnow()
    # The link proves the address is the owner's: it signs in (sign-up itself never does).
    return _signed_in(request, s, owner, "/account?confirmed=1")


# ---------------------------------------------------------------- password reset

@router.get("/reset", response_class=HTMLResponse)
def reset_form(request: Request, user: User | None = Depends(current_user)) -> HTMLResponse:
    return render(request, "reset.html", {"sent": False, "token": None, "error": None, "form": {}}, user=user)


@router.post("/reset", response_class=HTMLResponse)
def reset_request(request: Request, csrf: str = Form(""), email: str = Form(..., max_length=320),
                  s: Session = Depends(db_session, scope="function")) -> HTMLResponse:
    """Always the same answer, whether or not the address has an account (no account enumeration)."""
    check_csrf(request, csrf)
    throttle_account_form(request, email)
    user = s.scalar(select(User).where(User.email == email.strip().lower()))
    if user is not None:
        token = accounts.issue_token(s, user, "reset")
        send_mail(request.app.state.smtp, user.email, "Reset your artlineage password",
                  f"To choose a new password, open:\n\n{_base(request)}/reset/{token}\n\n"
                  "The link works for 2 hours, once. If you did not ask for it, ignore this message.")
    return render(request, "reset.html", {"sent": True, "token": None, "error": None, "form": {"email": email}},
                  user=None)


@router.get("/reset/{token}", response_class=HTMLResponse)
def reset_token_form(request: Request, token: str, s: Session = Depends(db_session, scope="function")) -> HTMLResponse:
    ok = accounts.peek_token(s, token, "reset")
    return render(request, "reset.html", {"sent": False, "token": token if ok else None, "form": {},
                                          "error": None if ok else "This link was used already or has expired."},
                  user=None, status=200 if ok else 400)


@router.post("/reset/{token}", response_class=HTMLResponse)
def reset_confirm(request: Request, token: str, csrf: str = Form(""), password: str = Form(..., max_length=1024),
                  s: Session = Depends(db_session, scope="function")) -> Response:
    check_csrf(request, csrf)
    try:
        auth.check_password_policy(password)  # before the one-time token is spent
    except auth.AuthError as exc:
        return render(request, "reset.html", {"sent": False, "token": token, "form": {}, "error": str(exc)},
                      user=None, status=400)
    user = accounts.consume_token(s, token, "reset")
    if user is None:
        return render(request, "reset.html", {"sent": False, "token": None, "form": {},
                                              "error": "This link was used already or has expired."}, user=None,
                      status=400)
    try:
        accounts.set_password(s, user, password)
    except (accounts.AccountError, auth.AuthError) as exc:
        s.rollback()
        return render(request, "reset.html", {"sent": False, "token": token, "error": str(exc), "form": {}},
                      user=None, status=400)
    return _signed_in(request, s, user, "/account?reset=1")


# ---------------------------------------------------------------- account page

def _account_ctx(s: Session, user: User, **extra: Any) -> dict[str, Any]:
    prof = s.get(ArtistProfile, user.artist_id) if user.artist_id else None
    artist = s.get(Artist, user.artist_id) if user.artist_id else None
    claim = s.scalars(select(IdentityClaim).where(IdentityClaim.user_id == user.id)
                      .order_by(IdentityClaim.id.desc()).limit(1)).first()
    ctx = {"keys": auth.list_api_keys(s, user), "new_key": None, "profile": prof, "artist": artist,
           "avatar_url": avatar_url(prof), "claim": claim, "error": None, "notice": None,
           "form": {"bio": prof.bio if prof else "", "links": "\n".join(artist.links or []) if artist else ""}}
    ctx.update(extra)
    return ctx


NOTICES = {"confirmed": "E-mail address confirmed: welcome! Next: prove that you are the artist (below).",
           "reset": "Your password is changed; every other session was signed out.",
           "saved": "Saved.", "sent": "We sent you a new confirmation mail."}


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, s: Session = Depends(db_session, scope="function"),
            user: User | None = Depends(current_user)) -> Response:
    if user is None:
        return _redirect("/signin")
    notice = next((text for key, text in NOTICES.items() if key in request.query_params), None)
    return render(request, "account.html", _account_ctx(s, user, notice=notice), user=user)


@router.post("/account/profile", response_class=HTMLResponse)
async def account_profile(request: Request, csrf: str = Form(""), bio: str = Form("", max_length=4000),
                          links: str = Form("", max_length=30_000), avatar: UploadFile | None = None,
                          s: Session = Depends(db_session, scope="function"), platform: Platform = Depends(get_platform),
                          user: User | None = Depends(current_user)) -> Response:
    check_csrf(request, csrf)
    if user is None or user.artist_id is None:
        return _redirect("/signin")
    data = await avatar.read(platform.max_upload_bytes + 1) if avatar is not None and avatar.filename else b""
    try:
        update_profile(s, user.artist_id, bio=bio, links=links)
        if data:
            await run_in_threadpool(save_avatar, s, platform.media_dir, user.artist_id, data,
                                    max_bytes=platform.max_upload_bytes, max_pixels=platform.max_pixels)
    except (RegistryError, UploadRejected) as exc:
        s.rollback()
        message = exc.message if isinstance(exc, UploadRejected) else str(exc)
        return render(request, "account.html", _account_ctx(s, user, error=message,
                                                             form={"bio": bio, "links": links}), user=user, status=400)
    platform.changed()
    return _redirect("/account?saved=1")


@router.post("/account/resend")
def account_resend(request: Request, csrf: str = Form(""), s: Session = Depends(db_session, scope="function"),
                   user: User | None = Depends(current_user)) -> Response:
    check_csrf(request, csrf)
    if user is None:
        return _redirect("/signin")
    _send_verification(request, s, user)
    return _redirect("/account?sent=1")


@router.post("/account/keys", response_class=HTMLResponse)
def account_new_key(request: Request, csrf: str = Form(""), name: str = Form("", max_length=200),
                    rate_per_minute: int = Form(120, ge=1, le=100_000), s: Session = Depends(db_session, scope="function"),
                    user: User | None = Depends(current_user)) -> Response:
    check_csrf(request, csrf)
    if user is None:
        return _redirect("/signin")
    try:
        new = mint_api_key(request, s, user, name, rate_per_minute)  # within the operator's ceilings
    except auth.AuthError as exc:
        return render(request, "account.html", _account_ctx(s, user, error=str(exc)), user=user, status=400)
    return render(request, "account.html", _account_ctx(s, user, new_key=new.secret), user=user)


@router.post("/account/keys/{key_id}/revoke")
def account_revoke_key(request: Request, key_id: int, csrf: str = Form(""),
                       s: Session = Depends(db_session, scope="function"),
                       user: User | None = Depends(current_user)) -> Response:
    check_csrf(request, csrf)
    if user is None:
        return _redirect("/signin")
    try:
        auth.revoke_api_key(s, user, key_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    return _redirect("/account")


@router.post("/account/delete", response_class=HTMLResponse)
def account_delete(request: Request, csrf: str = Form(""), password: str = Form(..., max_length=1024),
                   s: Session = Depends(db_session, scope="function"), platform: Platform = Depends(get_platform),
                   user: User | None = Depends(current_user)) -> Response:
    check_csrf(request, csrf)
    if user is None:
        return _redirect("/signin")
    throttle_account_form(request, user.email)
    try:
        auth.authenticate(s, user.email, password)
    except auth.AuthError:
        return render(request, "account.html", _account_ctx(s, user, error="Wrong password: nothing was deleted."),
                      user=user, status=400)
    works = accounts.delete_account(s, platform, user)
    response = render(request, "message.html", {"heading": "Your account is deleted",
                                                "text": f"Your account, {works} work(s), your terms and your profile "
                                                        "were deleted."}, user=None)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@router.get("/avatars/{name}", include_in_schema=False)
def avatar_file(request: Request, name: str, platform: Platform = Depends(get_platform)) -> Response:
    sha = name.removesuffix(".webp")
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha) or not name.endswith(".webp"):
        raise HTTPException(404)
    path = avatar_path(platform.media_dir, sha)
    if not path.exists():
        raise HTTPException(404)
    return FileResponse(path, media_type="image/webp", headers={"Cache-Control": "public, max-age=31536000, immutable",
                                                                 "X-Content-Type-Options": "nosniff"})


# ---------------------------------------------------------------- identity verification

@router.get("/account/verify", response_class=HTMLResponse)
def verify_identity_form(request: Request, s: Session = Depends(db_session, scope="function"),
                         user: User | None = Depends(current_user)) -> Response:
    if user is None:
        return _redirect("/signin")
    try:
        claim = identity.open_claim(s, user) if not identity.is_verified(s, user.artist_id or -1) else None
    except identity.IdentityError as exc:
        raise HTTPException(400, str(exc)) from None
    return render(request, "verify.html", {"claim": claim, "text": identity.claim_text(claim) if claim else None,
                                           "error": None, "form": {"url": claim.url if claim else ""}}, user=user)


@router.post("/account/verify", response_class=HTMLResponse)
async def verify_identity(request: Request, csrf: str = Form(""), url: str = Form(..., max_length=2048),
                          s: Session = Depends(db_session, scope="function"), platform: Platform = Depends(get_platform),
                          user: User | None = Depends(current_user)) -> Response:
    check_csrf(request, csrf)
    if user is None:
        return _redirect("/signin")
    claim = identity.open_claim(s, user)
    try:
        url = identity.check_url(url)
    except identity.IdentityError as exc:
        return render(request, "verify.html", {"claim": claim, "text": identity.claim_text(claim), "error": str(exc),
                                               "form": {"url": url}}, user=user, status=400)
    page, how = await identity.fetch_page(url, allow_private=platform.verify_allow_private)
    result = identity.record_check(s, claim, url, page, how)
    platform.changed()
    if result.status == "verified":
        return _redirect(f"/artists/{claim.artist_id}")
    return render(request, "verify.html", {"claim": claim, "text": identity.claim_text(claim), "result": result,
                                           "error": None, "form": {"url": url}}, user=user)


@router.post("/account/verify/review")
def verify_ask_operator(request: Request, csrf: str = Form(""), url: str = Form("", max_length=2048),
                        note: str = Form("", max_length=2000), s: Session = Depends(db_session, scope="function"),
                        user: User | None = Depends(current_user)) -> Response:
    """Pages the fetcher cannot read (behind a login): an operator checks them by hand."""
    check_csrf(request, csrf)
    if user is None:
        return _redirect("/signin")
    claim = identity.open_claim(s, user)
    claim.url, claim.status = url.strip()[:2048], "review"
    claim.detail = ("asked for an operator's check: " + note.strip())[:2000]
    return _redirect("/account/verify")


# ---------------------------------------------------------------- operators

def _require_admin(user: User | None) -> User:
    if user is None:
        raise PermissionError("sign in")
    if not user.is_admin:
        raise HTTPException(403, "operators only")
    return user


@router.get("/admin", response_class=HTMLResponse)
def admin(request: Request, s: Session = Depends(db_session, scope="function"),
          user: User | None = Depends(current_user)) -> HTMLResponse:
    _require_admin(user)
    count = lambda stmt: s.scalar(stmt) or 0  # noqa: E731
    stats = {"Artists": count(select(func.count(Artist.id))), "Works": count(select(func.count(Work.id))),
             "Uploads": count(select(func.count(Media.work_id))), "Accounts": count(select(func.count(User.id))),
             "Verified artists": count(select(func.count(ArtistProfile.artist_id))
                                       .where(ArtistProfile.verified_at.is_not(None))),
             "Active API keys": count(select(func.count(ApiKey.id)).where(ApiKey.revoked.is_(False))),
             "Open reports": count(select(func.count(WorkReport.id)).where(WorkReport.status == "open"))}
    claims = identity.claim_queue(s)
    names = {a.id: a.name for a in s.scalars(select(Artist).where(
        Artist.id.in_({c.artist_id for c in claims} | set())))}
    reports = list(s.scalars(select(WorkReport).where(WorkReport.status == "open").order_by(WorkReport.id).limit(200)))
    titles = {w.id: (w.title, w.artist_id) for w in s.scalars(select(Work).where(
        Work.id.in_({r.work_id for r in reports})))}
    users = list(s.scalars(select(User).order_by(User.id.desc()).limit(50)))
    return render(request, "admin.html", {"stats": stats, "claims": claims, "names": names, "reports": reports,
                                          "titles": titles, "users": users}, user=user)


@router.post("/admin/claims/{claim_id}")
def admin_claim(request: Request, claim_id: int, csrf: str = Form(""), decision: str = Form(...),
                s: Session = Depends(db_session, scope="function"), platform: Platform = Depends(get_platform),
                user: User | None = Depends(current_user)) -> Response:
    check_csrf(request, csrf)
    identity.decide_claim(s, _require_admin(user), claim_id, decision == "approve")
    platform.changed()
    return _redirect("/admin")


@router.post("/admin/reports/{report_id}")
def admin_report(request: Request, report_id: int, csrf: str = Form(""), decision: str = Form(...),
                 s: Session = Depends(db_session, scope="function"), platform: Platform = Depends(get_platform),
                 user: User | None = Depends(current_user)) -> Response:
    check_csrf(request, csrf)
    admin_user = _require_admin(user)
    report = s.get(WorkReport, report_id)
    if report is None:
        raise HTTPException(404)
    if decision == "remove":
        try:
            platform.delete_work(s, admin_user, report.work_id)
        except NotFoundError:
            pass  # already gone
        report.status = "resolved"
    else:
        report.status = "dismissed"
    return _redirect("/admin")
