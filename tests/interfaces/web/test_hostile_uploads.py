from __future__ import annotations

import struct
import zlib

import pytest

from .conftest import make_user, png_bytes


def _chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def bomb_png(w: int = 100_000, h: int = 100_000) -> bytes:
    """A tiny PNG whose header claims 10^10 pixels (never decoded by the platform)."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HOSTILE = {
    "bomb": (bomb_png(), 413, "decompression bomb"),
    "html_appended": (png_bytes() + b"<html><script>alert(1)</script></html>", 415, "markup"),
    "trailing_after_iend": (png_bytes() + b"PK\x03\x04zipdata", 415, "after the PNG end"),
    "script_first": (b"<script>alert(1)</script>" + png_bytes(), 415, "markup"),
    "svg_with_script": (SVG, 415, "markup"),
    "svg_plain": (b'<svg xmlns="http://www.w3.org/2000/svg"/>', 415, "markup"),
    "not_an_image": (b"hello world, not an image", 415, "not a PNG"),
    "oversized": (b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024 + 10), 413, "larger than"),
    "truncated_png": (png_bytes()[:60], 400, "image failed verification"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_upload_refused_by_verdict_and_works(client, app, name):
    data, status, words = HOSTILE[name]
    r = client.post("/v1/verdict", files={"file": ("x.png", data, "image/png")})
    assert r.status_code == status, r.text
    assert words.lower() in r.json()["detail"].lower()
    _aid, key = make_user(app, f"{name}@example.org", f"Artist {name}")
    r = client.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                    files={"file": ("x.png", data, "image/png")})
    assert r.status_code >= 400
    assert client.get("/v1/works").json()["items"] == []


def test_served_images_are_reencoded_with_nosniff(client, app):
    _aid, key = make_user(app, "a@example.org", "Alice Example")
    original = png_bytes(text={"Comment": "secret original metadata"})
    card = client.post("/v1/works", headers={"Authorization": f"Bearer {key}"},
                       files={"file": ("x.png", original, "text/html")}).json()
    for url, ctype in ((card["media"]["thumb"], "image/webp"), (card["media"]["display"], "image/png")):
        r = client.get(url)
        assert r.status_code == 200
        assert r.headers["content-type"] == ctype
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.content != original and b"secret original metadata" not in r.content


def test_png_with_a_corrupt_ztxt_chunk_gets_a_verdict_not_a_500(client):
    data = png_bytes()
    iend = data.rindex(b"IEND") - 4
    data = data[:iend] + _chunk(b"zTXt", b"parameters\x00\x00this is not zlib") + data[iend:]
    r = client.post("/v1/verdict", files={"file": ("bad.png", data, "image/png")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"]["origin"] == "unknown"
    assert any("unreadable PNG zTXt chunk: not zlib data" in w for w in body["warnings"])
