"""Name normalisation for search: case-, accent- and punctuation-insensitive."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_LENGTH = 512
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_name(name: str) -> str:
    """``"Hokusai, Katsushika"`` and ``"hokusai katsushika"`` match; so do ``"Frida Kahlo"`` and
    ``"FRÍDA  kahlo"``. NFKD splits accents off their letters, which are then dropped; ``casefold``
    handles ß and friends. Letters with no decomposition (ø, ł) are kept as they are."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", stripped.casefold()).strip()


def clean_name(name: str) -> str:
    """A display name: trimmed, inner whitespace collapsed, bounded; empty names are refused."""
    text = " ".join(str(name).split())
    if not text or not normalize_name(text):
        raise ValueError("an artist name needs at least one letter or digit")
    if len(text) > MAX_NAME_LENGTH:
        raise ValueError(f"name longer than {MAX_NAME_LENGTH} characters")
    return text
