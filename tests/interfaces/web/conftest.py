"""Fixtures for the platform tests: an app on a fresh SQLite file, users with API keys, images made in code."""

from __future__ import annotations

import io

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("argon2")


@pytest.fixture
def app(tmp_path):
    from artlineage.interfaces.web import create_app
    return create_app(tmp_path / "p.sqlite", tmp_path / "media", secret_key="test-secret", pixels=False,
                      max_upload_bytes=2 * 1024 * 1024)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient
    with TestClient(app) as c:
        yield c


def make_user(app, email: str, artist_name: str, *, admin: bool = False) -> tuple[int, str]:
    """(artist id, API key) for a new account owning a new artist record."""
    from artlineage.interfaces.web import auth
    from artlineage.registry import Registry
    platform = app.state.platform
    with platform.session() as s, s.begin():
        artist = Registry.in_session(s).add_artist(artist_name, living=True)
        user = auth.create_user(s, email, "correct horse battery", artist_id=artist.id, is_admin=admin)
        key = auth.create_api_key(s, user, "test", rate_per_minute=1000)
        return artist.id, key.secret


def png_bytes(size=(64, 48), color=(200, 80, 40), text: dict[str, str] | None = None) -> bytes:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo
    info = PngInfo()
    for k, v in (text or {}).items():
        info.add_text(k, v)
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG", pnginfo=info)
    return out.getvalue()


A1111 = ("a lighthouse at dawn, by Greg Rutkowski, oil painting\nNegative prompt: blurry\n"
         "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234, Size: 64x48, Model hash: abc123, "
         "Model: sd_xl_base_1.0")


def a1111_png() -> bytes:
    return png_bytes(text={"parameters": A1111})
