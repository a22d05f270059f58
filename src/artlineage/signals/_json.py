"""Bounded JSON loading for every reader that parses JSON taken from a file or a web response.

Size and bracket-nesting depth are checked before ``json.loads`` runs, so hostile input (huge
texts, deep nesting) becomes a :class:`SignalError` naming ``what`` instead of a hang or a
RecursionError. One place for the generator readers, the C2PA manifest store and tdmrep.json.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from ._base import SignalError

MAX_JSON_CHARS = 8 * 1024 * 1024
MAX_JSON_DEPTH = 100

# One JSON string, or an unterminated one running to the end of the text. Possessive quantifiers
# keep this linear: a pattern that could fail would be retried from every later quote (quadratic).
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.S)
_OPEN = np.array([ord("["), ord("{")], dtype=np.uint8)
_CLOSE = np.array([ord("]"), ord("}")], dtype=np.uint8)


def json_nesting_depth(text: str) -> int:
    """Deepest bracket nesting in a JSON text, computed without recursion.

    ``json.loads`` recurses once per level; measuring first lets hostile input be rejected with
    a clear message instead of a RecursionError. Strings are cut out (their brackets do not
    count), then the remaining brackets are summed with numpy, so 8 MB takes milliseconds.
    """
    skeleton = _JSON_STRING.sub("", text)
    if not skeleton:
        return 0
    codes = np.frombuffer(skeleton.encode("ascii", "replace"), dtype=np.uint8)
    steps = np.isin(codes, _OPEN).astype(np.int32) - np.isin(codes, _CLOSE).astype(np.int32)
    return int(np.cumsum(steps).max(initial=0))


def load_json(text: str | bytes, what: str, *, max_chars: int = MAX_JSON_CHARS,
              max_depth: int | None = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` with size and depth limits; :class:`SignalError` names ``what`` on failure.

    Bytes must be UTF-8. ``max_depth=None`` leaves only Python's own recursion limit (reported as
    nested too deeply), for documents whose legitimate depth has no fixed bound.
    """
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SignalError(f"{what}: JSON is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    if len(text) > max_chars:
        raise SignalError(f"{what}: JSON of {len(text)} characters is above the {max_chars} limit")
    if max_depth is not None:
        depth = json_nesting_depth(text)
        if depth > max_depth:
            raise SignalError(f"{what}: JSON nested {depth} levels deep, above the limit of {max_depth}")
    try:
        return json.loads(text)
    except RecursionError:
        raise SignalError(f"{what}: JSON is nested too deeply") from None
    except ValueError as exc:
        raise SignalError(f"{what}: malformed JSON: {exc}") from None


def load_json_object(text: str | bytes, what: str, **limits: Any) -> dict[str, Any]:
    """:func:`load_json` that also requires the top level to be a JSON object."""
    value = load_json(text, what, **limits)
    if not isinstance(value, dict):
        raise SignalError(f"{what}: expected a JSON object, found {type(value).__name__}")
    return value
