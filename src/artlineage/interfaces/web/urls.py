"""Where a work's renditions live on disk and under which URL they are served.

A rendition's bytes are fixed by the original's sha256, the artist and the opt-out code stamped in its
XMP, and its file is named by them; the URL carries the same name
(``/media/{artist}/{work}/{sha256}-{DMI code}.thumb.webp``), so it can be cached for a year: when the
artist's terms change, pages link a new URL. The ``/media/{artist}/`` prefix is kept for the
per-artist robots.txt and TDMRep rules.
"""

from __future__ import annotations

import re
from pathlib import Path

from .media import EXTENSIONS

DISPLAY_EXT = {"JPEG": "jpg", "WEBP": "webp"}  # other formats: PNG display copies
RENDITION_TYPES = {".webp": "image/webp", ".jpg": "image/jpeg", ".png": "image/png"}
# The file name part of a rendition URL: sha256 of the original, opt-out code, kind and extension.
RENDITION_NAME = re.compile(r"^([0-9a-f]{64})-(DMI-[A-Z]{1,20}(?:-[A-Z]{1,30})?)\.(thumb\.webp|display\.(?:jpg|png|webp))$")


class UrlsMixin:
    media_dir: Path

    def original_path(self, sha256: str, fmt: str) -> Path:
        return self.media_dir / "originals" / sha256[:2] / f"{sha256}.{EXTENSIONS[fmt].lower()}"

    def rendition_path(self, sha256: str, artist_id: int, dmi: str, suffix: str) -> Path:
        """``suffix``: ``thumb.webp`` or ``display.{jpg,png,webp}``."""
        return self.media_dir / "renditions" / sha256[:2] / f"{sha256}-a{artist_id}-{dmi}.{suffix}"

    @staticmethod
    def rendition_suffix(kind: str, fmt: str) -> str:
        return "thumb.webp" if kind == "thumb" else f"display.{DISPLAY_EXT.get(fmt, 'png')}"

    @classmethod
    def media_url(cls, artist_id: int, work_id: int, sha256: str, fmt: str, dmi: str, kind: str) -> str:
        return f"/media/{artist_id}/{work_id}/{sha256}-{dmi}.{cls.rendition_suffix(kind, fmt)}"
