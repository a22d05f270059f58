"""JSON API under ``/v1`` (OpenAPI at ``/docs``).

Reads are public (rate limited per client address, or per API key when one is sent); writes need an
API key (``Authorization: Bearer alk_...``) or a session cookie plus ``X-CSRF-Token``, and an account
may edit only its own artist record, works, terms and influences (admins: any).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from ...registry import Registry
from . import auth, edits
from .app import current_user, db_session, get_platform, mint_api_key, require_user
from .limits import MAX_DB_ID
from .media import UploadRejected
from .identity import trusted_terms
from .models import User
from .platform import DECLARED_AI_USES, TRAINING_DATA, Platform, optional_parts

router = APIRouter(prefix="/v1", tags=["v1"])
Permission = Literal["allowed", "not_allowed", "allowed_with_credit", "unknown"]
# Ids are 64-bit in the database: a larger number names nothing, so it is refused as invalid (422)
# rather than reaching the driver (OverflowError).
DbId = Annotated[int, Path(ge=0, le=MAX_DB_ID)]
OptionalDbId = Annotated[int | None, Query(ge=0, le=MAX_DB_ID)]


# ---------------------------------------------------------------- request bodies

class PromptIn(BaseModel):
    text: str = Field(max_length=20_000)


class UrlIn(BaseModel):
    url: str = Field(max_length=4096)


class ArtistIn(BaseModel):
    name: str = Field(max_length=512)
    aliases: list[str] = Field(default_factory=list, max_length=100)
    sort_name: str | None = None
    links: list[str] = Field(default_factory=list, max_length=100)
    living: bool | None = None
    birth_year: int | None = None
    death_year: int | None = None


class ArtistPatch(BaseModel):
    name: str | None = Field(default=None, max_length=512)
    sort_name: str | None = None
    links: list[str] | None = Field(default=None, max_length=100)
    living: bool | None = None
    birth_year: int | None = None
    death_year: int | None = None


class TermsIn(BaseModel):
    ai_training: Permission | None = None
    generative_training: Permission | None = None
    data_mining: Permission | None = None
    style_imitation: Permission | None = None
    valid_from: dt.date | None = None
    note: str | None = Field(default=None, max_length=10_000)
    source: str | None = Field(default=None, max_length=2048)

    @field_validator("valid_from")
    @classmethod
    def _plausible(cls, value: dt.date | None) -> dt.date | None:
        return None if value is None else edits.check_terms_start(value)


class InfluenceIn(BaseModel):
    target_id: int = Field(ge=0, le=MAX_DB_ID)
    note: str | None = Field(default=None, max_length=10_000)
    source_of_claim: str | None = Field(default=None, max_length=2048)


class WorkPatch(BaseModel):
    title: str | None = Field(default=None, max_length=1024)
    declared_ai_use: Literal["not_stated", "none", "medium", "edited", "generated"] | None = None
    tools: str | None = Field(default=None, max_length=10_000)
    process: str | None = Field(default=None, max_length=10_000)
    training_data: Literal["own", "consented", "unknown", "n/a"] | None = None
    prompt: str | None = Field(default=None, max_length=10_000)
    credits: list[int | str] | None = Field(default=None, max_length=100)


class KeyIn(BaseModel):
    name: str = Field(default="", max_length=200)
    rate_per_minute: int = Field(default=120, ge=1, le=100_000)


# ---------------------------------------------------------------- helpers

async def _read_upload(file: UploadFile, platform: Platform) -> bytes:
    data = await file.read(platform.max_upload_bytes + 1)
    if len(data) > platform.max_upload_bytes:
        raise UploadRejected(413, f"file is larger than {platform.max_upload_bytes} bytes")
    return data


async def _fetch(url: str, platform: Platform) -> bytes:
    """Fetch through the consent helper's SSRF-safe fetcher; without it, URLs are not fetched (501)."""
    try:
        from ...signals.web import SafeFetcher
    except ImportError:
        raise HTTPException(501, "fetching URLs needs artlineage.signals.web (not installed); upload the file")
    async with SafeFetcher(retries=0, timeout=10.0) as fetcher:
        result = await fetcher.fetch(url, max_bytes=platform.max_upload_bytes)
    if result.error:
        raise HTTPException(400, f"could not fetch {url!r}: {result.error}")
    if result.truncated:
        raise UploadRejected(413, f"remote file is larger than {platform.max_upload_bytes} bytes")
    if result.status != 200:
        raise HTTPException(400, f"fetching {url!r} gave HTTP {result.status}")
    return result.body


def _terms_dict(s: Session, artist_id: int, work_id: int | None = None) -> dict[str, Any]:
    reg = Registry.in_session(s)
    return {"current": reg.current_terms(artist_id, work_id).to_dict(),
            "history": [t.to_dict() for t in reg.terms_history(artist_id, work_id)]}


def _withdraw(s: Session, artist_id: int, work_id: int | None, terms_id: int, platform: Platform) -> dict[str, Any]:
    try:
        row = edits.withdraw_terms(s, artist_id, work_id, terms_id)
    except edits.TermsConflict as exc:
        raise HTTPException(409, str(exc)) from None
    platform.changed()
    return {"withdrawn": row.to_dict(), **_terms_dict(s, artist_id, work_id)}


def _scopes(body: TermsIn) -> dict[str, Any]:
    return {k: v for k, v in body.model_dump(include={"ai_training", "generative_training", "data_mining",
                                                      "style_imitation"}).items() if v is not None}


# ---------------------------------------------------------------- checks

@router.get("/health")
def health(platform: Platform = Depends(get_platform)) -> dict[str, Any]:
    return {"status": "ok", "parts": optional_parts()}


@router.post("/verdict")
async def verdict(file: UploadFile | None = File(default=None), url: str | None = Form(default=None),
                  pixels: bool = Query(default=True, description="false: metadata only (no watermark decoding; "
                                                                  "about 40x cheaper)"),
                  platform: Platform = Depends(get_platform),
                  _user: User | None = Depends(current_user)) -> dict[str, Any]:
    """Provenance verdict with its evidence for an uploaded image (or a URL, fetched SSRF-safely).
    Nothing is stored."""
    if file is not None:
        data, name = await _read_upload(file, platform), file.filename
    elif url:
        data, name = await _fetch(url, platform), url
    else:
        raise HTTPException(422, "send a file (multipart field 'file') or a 'url'")
    return await platform.verdict(data, name, pixels=pixels)


@router.post("/consent")
async def consent(file: UploadFile | None = File(default=None), url: str | None = Form(default=None),
                  platform: Platform = Depends(get_platform), s: Session = Depends(db_session, scope="function"),
                  _user: User | None = Depends(current_user)) -> dict[str, Any]:
    """Consent for AI training / data mining: the file's own signals (XMP Data Mining, C2PA
    training-mining...) and the registry's terms for works with the same sha256; or a URL's web
    opt-outs (robots.txt, ai.txt, TDMRep, X-Robots-Tag)."""
    try:
        from ...verdicts.consent import decide_consent
    except ImportError:
        raise HTTPException(501, "consent verdicts need artlineage.verdicts.consent (not installed)")
    if file is not None:
        data = await _read_upload(file, platform)
        _checked, report = await run_in_threadpool(platform.inspect_upload, data, file.filename)
        # The same file first (sha256), else copies: resized, recompressed, cropped, mirrored, rotated...
        search = await run_in_threadpool(platform.find_similar, s, data)
        terms = []
        for m in search.matches:
            t = Registry.in_session(s).current_terms(m.artist_id, m.work_id)
            source = f"registry work #{m.work_id}" + ("" if m.match == "identical" else f" (copy: {m.explanation})")
            terms.append({"artist_id": m.artist_id, "work_id": m.work_id, "source": source,
                          **{k: v.value for k, v in t.scopes.items()}})
        # a look-alike unverified account's terms never override a verified artist's
        trusted = trusted_terms(terms, platform.verified_artist_ids(s))
        verdict = decide_consent(report.evidence, registry_terms=trusted)
        return {"subject": {"sha256": report.sha256, "name": file.filename},
                "matched_works": [{**m.to_dict(), "terms": {k: v for k, v in t.items()
                                                            if k not in ("artist_id", "work_id", "source")}}
                                  for m, t in zip(search.matches, terms)],
                "copy_search": search.index.to_dict() if search.index else
                {"method": "sha256" if search.matches else "unavailable", "note": search.error},
                **verdict.to_dict()}
    if url:
        try:
            from ...signals.web import SafeFetcher, check_url_async
        except ImportError:
            raise HTTPException(501, "URL consent checks need artlineage.signals.web (not installed)")
        async with SafeFetcher(retries=0, timeout=10.0) as fetcher:
            check = await check_url_async(url, fetcher)
        if "url" in check.errors:
            raise HTTPException(400, f"cannot check {url!r}: {check.errors['url']}")
        verdict = decide_consent(check.evidence)
        return {"subject": {"url": url}, "errors": check.errors, **verdict.to_dict()}
    raise HTTPException(422, "send a file (multipart field 'file') or a 'url'")


@router.post("/prompt")
def prompt(body: PromptIn, platform: Platform = Depends(get_platform),
           _user: User | None = Depends(current_user)) -> dict[str, Any]:
    """Artist names in a prompt, with each artist's style-imitation terms from the registry."""
    result = platform.check_prompt(body.text)
    if result is None:
        raise HTTPException(501, "the prompt guard needs artlineage.matching.prompt_guard (not installed)")
    return result


STAMP_MEDIA = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "avif": "image/avif",
               "heif": "image/heif"}


@router.post("/stamp", responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}})
async def stamp(file: UploadFile = File(...), generator: str = Form(..., max_length=200),
                generator_version: str | None = Form(default=None, max_length=100),
                prompt: str | None = Form(default=None, max_length=20_000), edited: bool = Form(default=False),
                platform: Platform = Depends(get_platform), _user: User = Depends(require_user)) -> Response:
    """The call after generation (``/v1/prompt`` is the one before): the uploaded image comes back
    stamped — IPTC DigitalSourceType XMP and, when the server has signing credentials
    (ARTLINEAGE_STAMP_CERT / ARTLINEAGE_STAMP_KEY), a signed C2PA manifest whose influences are the
    artists the prompt names, with their registry terms. The X-Artlineage-Stamp header summarises
    what was written. Nothing is stored."""
    from ...errors import ArtlineageError
    from ...stamping import GenerationService

    data = await _read_upload(file, platform)
    try:
        service = GenerationService(generator, generator_version=generator_version, guard=platform.prompt_guard())
        out, result = await run_in_threadpool(service.stamp_bytes, data, prompt=prompt, edited=edited)
    except (ArtlineageError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None
    summary = {"signed": result.signed, "test_certificate": result.test_certificate, "xmp": result.xmp,
               "digital_source_type": result.digital_source_type,
               "influences": [i["name"] for i in result.influences]}
    return Response(out, media_type=STAMP_MEDIA[result.container],
                    headers={"X-Artlineage-Stamp": json.dumps(summary, ensure_ascii=True)})


# ---------------------------------------------------------------- artists

@router.get("/artists")
def list_artists(q: str | None = Query(default=None, max_length=200), s: Session = Depends(db_session, scope="function"),
                 _user: User | None = Depends(current_user)) -> list[dict[str, Any]]:
    reg = Registry.in_session(s)
    if q:  # exact (normalised) names first, else whole-word matches ("hokusai" finds "Katsushika Hokusai")
        rows = reg.find_artists(q) or reg.suggest_artists(q, limit=100)
    else:
        rows = reg.list_artists()
    return [a.to_dict() for a in rows[:1000]]


@router.post("/artists", status_code=201)
def create_artist(body: ArtistIn, s: Session = Depends(db_session, scope="function"), user: User = Depends(require_user),
                  platform: Platform = Depends(get_platform)) -> dict[str, Any]:
    """Admins add artists (e.g. historical ones); an artist's own record is made at sign-up."""
    if not user.is_admin:
        raise HTTPException(403, "only admins add artist records; yours was made when you signed up")
    a = Registry.in_session(s).add_artist(body.name, aliases=body.aliases, sort_name=body.sort_name, links=body.links,
                         living=body.living, birth_year=body.birth_year, death_year=body.death_year)
    platform.changed()
    return a.to_dict()


@router.get("/artists/{artist_id}")
def get_artist(artist_id: DbId, s: Session = Depends(db_session, scope="function"),
               _user: User | None = Depends(current_user)) -> dict[str, Any]:
    return {**Registry.in_session(s).get_artist(artist_id).to_dict(), "terms": _terms_dict(s, artist_id)["current"]}


@router.patch("/artists/{artist_id}")
def patch_artist(artist_id: DbId, body: ArtistPatch, s: Session = Depends(db_session, scope="function"),
                 user: User = Depends(require_user), platform: Platform = Depends(get_platform)) -> dict[str, Any]:
    platform.require_artist(user, artist_id)
    a = Registry.in_session(s).update_artist(artist_id, **body.model_dump(exclude_unset=True))
    platform.changed()
    return a.to_dict()


@router.get("/artists/{artist_id}/terms")
def artist_terms(artist_id: DbId, s: Session = Depends(db_session, scope="function"),
                 _user: User | None = Depends(current_user)) -> dict[str, Any]:
    return _terms_dict(s, artist_id)


@router.post("/artists/{artist_id}/terms", status_code=201)
def set_artist_terms(artist_id: DbId, body: TermsIn, s: Session = Depends(db_session, scope="function"),
                     user: User = Depends(require_user), platform: Platform = Depends(get_platform)) -> dict[str, Any]:
    platform.require_artist(user, artist_id)
    row = Registry.in_session(s).set_terms(artist_id, None, valid_from=body.valid_from, note=body.note, source=body.source,
                          **_scopes(body))
    platform.changed()
    return row.to_dict()


@router.delete("/artists/{artist_id}/terms/{terms_id}")
def withdraw_artist_terms(artist_id: DbId, terms_id: DbId, s: Session = Depends(db_session, scope="function"),
                          user: User = Depends(require_user),
                          platform: Platform = Depends(get_platform)) -> dict[str, Any]:
    """Withdraw your latest terms entry (a mistake: a wrong date or choice) while it is not yet in force
    or within a day of stating it; the entry before it is current again. 409 otherwise."""
    platform.require_artist(user, artist_id)
    return _withdraw(s, artist_id, None, terms_id, platform)


@router.get("/artists/{artist_id}/lineage")
def artist_lineage(artist_id: DbId, depth: int = Query(default=2, ge=1, le=10), s: Session = Depends(db_session, scope="function"),
                   _user: User | None = Depends(current_user)) -> dict[str, Any]:
    return Registry.in_session(s).lineage(artist_id, depth).to_dict()


@router.post("/artists/{artist_id}/influences", status_code=201)
def add_artist_influence(artist_id: DbId, body: InfluenceIn, s: Session = Depends(db_session, scope="function"),
                         user: User = Depends(require_user), platform: Platform = Depends(get_platform)) -> dict[str, Any]:
    """``artist_id`` was influenced by ``target_id`` (an artist credits their own influences)."""
    platform.require_artist(user, artist_id)
    edge = Registry.in_session(s).add_influence(artist_id, body.target_id, note=body.note, source_of_claim=body.source_of_claim)
    platform.changed()
    return edge.to_dict()


# ---------------------------------------------------------------- works

@router.get("/works")
def list_works(human_only: bool = False, evidence_only: bool = False, q: str | None = Query(default=None, max_length=200),
               badge: str | None = None, artist_id: OptionalDbId = None, before: OptionalDbId = None,
               limit: int = Query(default=24, ge=1, le=100), s: Session = Depends(db_session, scope="function"),
               platform: Platform = Depends(get_platform), _user: User | None = Depends(current_user)) -> dict[str, Any]:
    items = platform.gallery(s, human_only=human_only, evidence_only=evidence_only, q=q, before=before, artist_id=artist_id, badge=badge,
                             limit=limit)
    return {"items": items, "next_before": items[-1]["work_id"] if len(items) == limit else None}


@router.post("/works", status_code=201)
async def upload_work(file: UploadFile = File(...), artist_id: int | None = Form(default=None),
                      title: str | None = Form(default=None, max_length=1024),
                      declared_ai_use: str = Form(default="not_stated"), tools: str | None = Form(default=None),
                      process: str | None = Form(default=None), training_data: str = Form(default="unknown"),
                      prompt: str | None = Form(default=None), credits: str | None = Form(default=None),
                      platform: Platform = Depends(get_platform), s: Session = Depends(db_session, scope="function"),
                      user: User = Depends(require_user)) -> dict[str, Any]:
    """Upload a work to your artist record: the provenance reader runs and its findings are kept and
    shown. ``credits``: comma-separated artist ids or names credited as influences. ``copies``: registered
    works of other artists (or known to be AI-generated) this file is a copy of, with their evidence,
    as the preview shows them; the upload is kept either way."""
    target = artist_id if artist_id is not None else user.artist_id
    if target is None:
        raise HTTPException(400, "this account has no artist record; pass artist_id")
    if declared_ai_use not in DECLARED_AI_USES or training_data not in TRAINING_DATA:
        raise HTTPException(422, f"declared_ai_use in {list(DECLARED_AI_USES)}, training_data in {list(TRAINING_DATA)}")
    platform.require_artist(user, target)
    data = await _read_upload(file, platform)
    credit_list = [c.strip() for c in (credits or "").split(",") if c.strip()]
    search = await run_in_threadpool(lambda: platform.find_similar(s, data, uploader_artist_id=target))
    work, _media, _report = await run_in_threadpool(
        lambda: platform.add_upload(s, user, target, data, filename=file.filename, title=title,
                                    declared_ai_use=declared_ai_use, tools=tools, process=process,
                                    training_data=training_data, prompt=prompt, credits=credit_list))
    return {**platform.work_card(s, work.id),
            "copies": [m.to_dict() for m in search.matches if m.relation != "own"],
            "copy_search": search.index.to_dict() if search.index else None}


@router.get("/works/{work_id}")
def get_work(work_id: DbId, s: Session = Depends(db_session, scope="function"),
             _user: User | None = Depends(current_user)) -> dict[str, Any]:
    return Registry.in_session(s).get_work(work_id).to_dict()


@router.get("/works/{work_id}/card")
def work_card(work_id: DbId, s: Session = Depends(db_session, scope="function"), platform: Platform = Depends(get_platform),
              _user: User | None = Depends(current_user)) -> dict[str, Any]:
    """Origin, tools and generation parameters, training consent, influences credited, artists named in
    the prompt, and the acceptability criteria each with its reason."""
    return platform.work_card(s, work_id)


@router.patch("/works/{work_id}")
def patch_work(work_id: DbId, body: WorkPatch, s: Session = Depends(db_session, scope="function"), user: User = Depends(require_user),
               platform: Platform = Depends(get_platform)) -> dict[str, Any]:
    platform.update_work(s, user, work_id, body.model_dump(exclude_unset=True))
    return platform.work_card(s, work_id)


@router.delete("/works/{work_id}", status_code=204)
def delete_work(work_id: DbId, s: Session = Depends(db_session, scope="function"), user: User = Depends(require_user),
                platform: Platform = Depends(get_platform)) -> None:
    platform.delete_work(s, user, work_id)


@router.get("/works/{work_id}/terms")
def work_terms(work_id: DbId, s: Session = Depends(db_session, scope="function"),
               _user: User | None = Depends(current_user)) -> dict[str, Any]:
    work = Registry.in_session(s).get_work(work_id)
    return _terms_dict(s, work.artist_id, work.id)


@router.post("/works/{work_id}/terms", status_code=201)
def set_work_terms(work_id: DbId, body: TermsIn, s: Session = Depends(db_session, scope="function"), user: User = Depends(require_user),
                   platform: Platform = Depends(get_platform)) -> dict[str, Any]:
    reg = Registry.in_session(s)
    work = reg.get_work(work_id)
    platform.require_artist(user, work.artist_id)
    row = reg.set_terms(work.artist_id, work.id, valid_from=body.valid_from, note=body.note,
                        source=body.source, **_scopes(body))
    platform.changed()
    return row.to_dict()


@router.delete("/works/{work_id}/terms/{terms_id}")
def withdraw_work_terms(work_id: DbId, terms_id: DbId, s: Session = Depends(db_session, scope="function"),
                        user: User = Depends(require_user), platform: Platform = Depends(get_platform)) -> dict[str, Any]:
    """Withdraw the latest terms entry of your work (see ``DELETE /v1/artists/{id}/terms/{terms_id}``)."""
    work = Registry.in_session(s).get_work(work_id)
    platform.require_artist(user, work.artist_id)
    return _withdraw(s, work.artist_id, work.id, terms_id, platform)


@router.get("/works/{work_id}/lineage")
def get_work_lineage(work_id: DbId, depth: int = Query(default=2, ge=1, le=10), s: Session = Depends(db_session, scope="function"),
                     _user: User | None = Depends(current_user)) -> dict[str, Any]:
    return Registry.in_session(s).work_lineage(work_id, depth).to_dict()


@router.post("/works/{work_id}/influences", status_code=201)
def add_work_influence(work_id: DbId, body: InfluenceIn, s: Session = Depends(db_session, scope="function"),
                       user: User = Depends(require_user), platform: Platform = Depends(get_platform)) -> dict[str, Any]:
    """``work_id`` was influenced by work ``target_id`` (credited by the work's artist)."""
    reg = Registry.in_session(s)
    work = reg.get_work(work_id)
    platform.require_artist(user, work.artist_id)
    edge = reg.add_work_influence(work_id, body.target_id, note=body.note, source_of_claim=body.source_of_claim)
    platform.changed()
    return edge.to_dict()


# ---------------------------------------------------------------- API keys

@router.post("/keys", status_code=201)
def create_key(request: Request, body: KeyIn, s: Session = Depends(db_session, scope="function"),
               user: User = Depends(require_user)) -> dict[str, Any]:
    """A new API key for your account; the secret is shown only in this response. Its rate is at most
    the operator's ceiling and, when a key asks, that key's own rate."""
    try:
        new = mint_api_key(request, s, user, body.name, body.rate_per_minute)
    except auth.AuthError as exc:
        raise HTTPException(400, str(exc)) from None
    return {**new.key.to_dict(), "key": new.secret}


@router.get("/keys")
def list_keys(s: Session = Depends(db_session, scope="function"), user: User = Depends(require_user)) -> list[dict[str, Any]]:
    """Your API keys (prefix, name, rate, revoked); secrets are never shown again."""
    return [k.to_dict() for k in auth.list_api_keys(s, user)]


@router.delete("/keys/{key_id}")
def revoke_key(key_id: DbId, s: Session = Depends(db_session, scope="function"),
               user: User = Depends(require_user)) -> dict[str, Any]:
    """Revoke one of your keys: requests with it get 401 from the next one on."""
    try:
        return auth.revoke_api_key(s, user, key_id).to_dict()
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
