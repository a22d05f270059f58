"""Artists' profiles: bio, links (the registry's ``Artist.links``) and an avatar (re-encoded to a
256 px WebP square, named by content, served from ``/avatars/``)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from ..._files import write_bytes_atomic
from ...errors import RegistryError
from ...registry import Registry
from .identity import profile
from .media import check_image
from .models import ArtistProfile

AVATAR_SIDE = 256
MAX_BIO = 2000
MAX_LINKS = 10


def avatar_url(prof: ArtistProfile | None) -> str | None:
    return f"/avatars/{prof.avatar_sha256}.webp" if prof is not None and prof.avatar_sha256 else None


def avatar_path(media_dir: Path, sha256: str) -> Path:
    return media_dir / "avatars" / f"{sha256}.webp"


def clean_links(text: str) -> list[str]:
    """One http(s) URL per line or comma; anything else is refused with the reason."""
    links = [part.strip() for line in (text or "").splitlines() for part in line.split(",") if part.strip()]
    if len(links) > MAX_LINKS:
        raise RegistryError(f"at most {MAX_LINKS} links")
    for link in links:
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or not parts.hostname or len(link) > 2048:
            raise RegistryError(f"not a web address: {link[:80]!r} (start it with https://)")
    return links


def update_profile(s: Session, artist_id: int, *, bio: str | None, links: str | None) -> ArtistProfile:
    row = profile(s, artist_id)
    if bio is not None:
        row.bio = bio.strip()[:MAX_BIO] or None
    if links is not None:
        Registry.in_session(s).update_artist(artist_id, links=clean_links(links))
    s.flush()
    return row


def save_avatar(s: Session, media_dir: Path, artist_id: int, data: bytes, *, max_bytes: int, max_pixels: int) -> str:
    """Check the image like an upload, re-encode a centred square, keep it by content."""
    from PIL import Image, ImageOps
    check_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    with Image.open(io.BytesIO(data)) as im:
        im.draft("RGB", (AVATAR_SIDE * 2, AVATAR_SIDE * 2))
        square = ImageOps.fit(im.convert("RGB"), (AVATAR_SIDE, AVATAR_SIDE))
        out = io.BytesIO()
        square.save(out, "WEBP", quality=85)
    encoded = out.getvalue()
    sha = hashlib.sha256(encoded).hexdigest()
    path = avatar_path(media_dir, sha)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(encoded, path)
    row = profile(s, artist_id)
    row.avatar_sha256, row.avatar_format = sha, "WEBP"
    s.flush()
    return sha
