"""Load example data (``examples/platform/seed.json``) into a platform database: artists with terms,
influences, accounts and works uploaded through the same path as real uploads (so every example work
has its provenance report)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ...registry import Registry
from . import auth
from .models import User
from .platform import Platform

EXAMPLE_PASSWORD = "example-password"


def example_seed_path() -> Path | None:
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "examples" / "platform" / "seed.json"
        if candidate.exists():
            return candidate
    return None


def seed(platform: Platform, path: str | Path, images_dir: str | Path | None = None) -> dict[str, int]:
    """Idempotent: artists already present by name are reused, works deduplicated by sha256."""
    path = Path(path)
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    images = Path(images_dir) if images_dir else path.parent.parent / "gallery"
    ids: dict[str, int] = {}
    users: dict[str, User] = {}
    counts = {"artists": 0, "works": 0}
    with platform.session() as s, s.begin():
        reg = Registry.in_session(s)
        for a in doc.get("artists", []):
            found = reg.find_artist(a["name"])
            artist = found or reg.add_artist(a["name"], aliases=a.get("aliases", []), living=a.get("living"),
                                             birth_year=a.get("birth_year"), death_year=a.get("death_year"))
            counts["artists"] += found is None
            ids[a["key"]] = artist.id
            if a.get("terms") and found is None:
                t = dict(a["terms"])
                reg.set_terms(artist.id, None, note=t.pop("note", None), source="example data", **t)
            if a.get("email"):
                user = s.scalar(select(User).where(User.email == a["email"]))
                users[a["key"]] = user or auth.create_user(s, a["email"], EXAMPLE_PASSWORD, artist_id=artist.id)
        for src, dst in doc.get("influences", []):
            reg.add_influence(ids[src], ids[dst], source_of_claim="example data")
        admin = User(id=None, email="seed@localhost", password_hash="!", is_admin=True)  # not stored
        for w in doc.get("works", []):
            f = images / w["file"]
            if not f.exists():
                continue
            work, _m, _r = platform.add_upload(
                s, users.get(w["artist"], admin), ids[w["artist"]], f.read_bytes(), filename=f.name,
                title=w.get("title"), declared_ai_use=w.get("declared_ai_use", "none"), tools=w.get("tools"),
                process=w.get("process"), training_data=w.get("training_data", "unknown"), credits=w.get("credits"))
            counts["works"] += 1
    platform.changed()
    return counts
