"""A remote detection API as a detector: posted through the SSRF-safe fetcher, rate limited, cached.

The card's ``extra`` says how to talk to the service::

    {"kind": "remote", "name": "acme-detect", "version": "2026-10",
     "output": {"kind": "probability"},
     "extra": {"url": "https://api.example.com/v1/detect", "request": "multipart", "field": "image",
               "response_field": "result.ai_probability", "key_env": "ACME_API_KEY",
               "auth_header": "Authorization", "auth_prefix": "Bearer ",
               "rate_per_second": 2, "timeout": 20, "cache": "acme-cache.sqlite"}}

* ``request``: ``raw`` (the file's bytes as the body), ``multipart`` (one file field) or
  ``json_base64`` (``{field: base64}``).
* ``response_field``: a dotted path into the JSON answer (``scores.0.value`` indexes lists).
* The key is read from the environment variable ``key_env`` at load time, never stored in the card.
* Requests go through :class:`~artlineage.signals.web.SafeFetcher`: private and loopback addresses
  are refused unless ``allow_private`` is set (on-premises services, tests), redirects are
  re-checked, every request has a total deadline and the answer a size cap.
* Results are cached by the SHA-256 of the image bytes (SQLite at ``cache``; in memory without it),
  so a re-scan costs no API call.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import math
import os
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Sequence

from PIL import Image

from .._aio import run_sync
from ._base import CardDetector, DetectorError
from ._card import ModelCard, ModelCardError

_MAX_RESPONSE_BYTES = 1024 * 1024
_MAX_UPLOAD_BYTES = 64 * 1024 * 1024
_REQUEST_KINDS = ("raw", "multipart", "json_base64")


def image_bytes(image: Image.Image) -> tuple[bytes, str]:
    """The bytes an image was opened from (so the SHA-256 is the file's), else a lossless PNG."""
    fp = getattr(image, "fp", None)
    if isinstance(fp, io.BytesIO):
        return fp.getvalue(), Image.MIME.get(image.format or "", "application/octet-stream")
    filename = getattr(image, "filename", "")
    if filename and os.path.isfile(filename) and os.path.getsize(filename) <= _MAX_UPLOAD_BYTES:
        return Path(filename).read_bytes(), Image.MIME.get(image.format or "", "application/octet-stream")
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue(), "image/png"


def field_at(document: Any, path: str) -> Any:
    """``a.b.0.c`` into parsed JSON; a clear error naming the missing step."""
    value = document
    for step in path.split("."):
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.lstrip("-").isdigit() and -len(value) <= int(step) < len(value):
            value = value[int(step)]
        else:
            raise DetectorError(f"response has no field {path!r} (stopped at {step!r})")
    return value


class _ResultCache:
    """SHA-256 → raw score, in SQLite when a path is given (shared by processes), else in memory."""

    def __init__(self, path: str | None, model: str):
        self.model = model
        self._memory: dict[str, float] = {}
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if path:
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS detector_results (model TEXT, sha256 TEXT, score REAL, "
                             "at REAL, PRIMARY KEY (model, sha256))")
            self._db.commit()

    def get(self, sha: str) -> float | None:
        with self._lock:
            if self._db is None:
                return self._memory.get(sha)
            row = self._db.execute("SELECT score FROM detector_results WHERE model = ? AND sha256 = ?",
                                   (self.model, sha)).fetchone()
            return None if row is None else float(row[0])

    def put(self, sha: str, score: float) -> None:
        with self._lock:
            if self._db is None:
                self._memory[sha] = score
                return
            self._db.execute("INSERT OR REPLACE INTO detector_results VALUES (?, ?, ?, ?)",
                             (self.model, sha, score, time.time()))
            self._db.commit()


class _RateLimiter:
    """At most ``rate`` request starts per second (requests spaced evenly; async-safe)."""

    def __init__(self, rate: float, *, clock: Any = time.monotonic, sleep: Any = asyncio.sleep):
        self.interval = 1.0 / rate
        self._next: float | None = None
        self._clock, self._sleep = clock, sleep

    async def wait(self) -> None:
        # No lock needed: the slot is taken before the first await, and one event loop runs one task at a time.
        now = self._clock()
        start = now if self._next is None else max(now, self._next)
        self._next = start + self.interval
        if start > now:
            await self._sleep(start - now)


class RemoteDetector(CardDetector):
    def __init__(self, card: ModelCard, *, transport: Any = None, resolver: Any = None):
        x = card.extra
        self.url = str(x.get("url", ""))
        if not self.url.startswith(("http://", "https://")):
            raise ModelCardError(f"remote detector {card.name!r} needs extra.url (http or https)")
        self.request_kind = x.get("request", "multipart")
        if self.request_kind not in _REQUEST_KINDS:
            raise ModelCardError(f"extra.request must be one of {_REQUEST_KINDS}, got {self.request_kind!r}")
        self.field = str(x.get("field", "image"))
        self.response_field = str(x.get("response_field", "probability"))
        self.rate = float(x.get("rate_per_second", 2.0))
        self.timeout = float(x.get("timeout", 20.0))
        self.concurrency = int(x.get("concurrency", 4))
        if not (0 < self.rate <= 1000 and 0 < self.timeout <= 300 and 1 <= self.concurrency <= 64):
            raise ModelCardError("extra.rate_per_second must be in (0, 1000], timeout in (0, 300] s, "
                                 "concurrency in [1, 64]")
        self.allow_private = bool(x.get("allow_private", False))
        self.headers: dict[str, str] = {}
        key_env = x.get("key_env")
        if key_env:
            key = os.environ.get(str(key_env))
            if not key:
                raise ModelCardError(f"remote detector {card.name!r} reads its API key from ${key_env}, which is unset")
            self.headers[str(x.get("auth_header", "Authorization"))] = str(x.get("auth_prefix", "Bearer ")) + key
        cache_path = x.get("cache")
        if cache_path and card.path is not None and not os.path.isabs(cache_path):
            cache_path = str(card.path.parent / cache_path)
        self.cache = _ResultCache(cache_path, card.label)
        self._transport, self._resolver = transport, resolver
        self.requests_sent = 0
        self.card = card

    def _body(self, data: bytes, mime: str) -> tuple[bytes, dict[str, str]]:
        if self.request_kind == "raw":
            return data, {"Content-Type": mime}
        if self.request_kind == "json_base64":
            return json.dumps({self.field: base64.b64encode(data).decode()}).encode(), {"Content-Type": "application/json"}
        boundary = uuid.uuid4().hex
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{self.field}\"; filename=\"image\"\r\n"
                f"Content-Type: {mime}\r\n\r\n").encode()
        return head + data + f"\r\n--{boundary}--\r\n".encode(), {
            "Content-Type": f"multipart/form-data; boundary={boundary}"}

    async def _score_one(self, fetcher: Any, limiter: _RateLimiter, gate: asyncio.Semaphore,
                         data: bytes, mime: str) -> float:
        body, headers = self._body(data, mime)
        async with gate:
            await limiter.wait()
            self.requests_sent += 1
            result = await fetcher.fetch(self.url, method="POST", content=body, headers={**self.headers, **headers},
                                         max_bytes=_MAX_RESPONSE_BYTES, use_cache=False)
        if result.error:
            raise DetectorError(f"detection API: {result.error}")
        if result.status != 200:
            raise DetectorError(f"detection API answered HTTP {result.status}")
        if result.truncated:
            raise DetectorError(f"detection API answer exceeds {_MAX_RESPONSE_BYTES} bytes")
        try:
            document = json.loads(result.body)
        except (ValueError, RecursionError):
            raise DetectorError("detection API answer is not JSON") from None
        value = field_at(document, self.response_field)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise DetectorError(f"detection API field {self.response_field!r} is not a finite number: {value!r}")
        return float(value)

    async def _score_all(self, items: list[tuple[bytes, str]]) -> list[float | BaseException]:
        from ..signals.web import SafeFetcher

        limiter, gate = _RateLimiter(self.rate), asyncio.Semaphore(self.concurrency)
        async with SafeFetcher(allow_private=self.allow_private, timeout=self.timeout, deadline=self.timeout,
                               retries=1, transport=self._transport, resolver=self._resolver) as fetcher:
            return await asyncio.gather(*(self._score_one(fetcher, limiter, gate, d, m) for d, m in items),
                                        return_exceptions=True)

    def raw_scores(self, images: Sequence[Image.Image]) -> list[float]:
        payloads = [image_bytes(im) for im in images]
        shas = [hashlib.sha256(d).hexdigest() for d, _ in payloads]
        scores: list[float | None] = [self.cache.get(s) for s in shas]
        todo = [i for i, s in enumerate(scores) if s is None]
        if todo:
            items = [payloads[i] for i in todo]
            results = run_sync(lambda: self._score_all(items))
            for i, r in zip(todo, results):
                if isinstance(r, BaseException):
                    raise r if isinstance(r, DetectorError) else DetectorError(f"{type(r).__name__}: {r}")
                self.cache.put(shas[i], r)
                scores[i] = r
        return [float(s) for s in scores if s is not None]
