"""Spawning's ai.txt: robots.txt syntax at ``/ai.txt`` saying which files may be used for AI.

Typical content (Spawning's generator)::

    User-Agent: *
    Disallow: *.jpg
    Disallow: *.png
    Allow: *.txt

The syntax is robots.txt's, so Protego parses and matches it (``*`` wildcards, ``$`` anchors,
longest match wins, Allow wins ties). Unlike robots.txt, ai.txt is *about* AI use, so a ``*``
group counts as fully as a named one. File-type patterns are matched case-insensitively
(``Disallow: *.jpg`` also covers ``PHOTO.JPG``): the file type is what the author meant.
"""

from __future__ import annotations

from .robots import MAX_ROBOTS_BYTES, RobotsPolicy, parse_robots
from .._base import SignalError
from ..strengths import strength

MAX_AITXT_BYTES = MAX_ROBOTS_BYTES


def parse_aitxt(text: str | bytes):  # -> protego.Protego
    try:
        return parse_robots(text)
    except SignalError as exc:
        raise SignalError(str(exc).replace("robots.txt", "ai.txt")) from exc


class AiTxtPolicy(RobotsPolicy):
    reader = "ai.txt"
    label = "ai.txt"
    generic_strength = strength("aitxt")

    def _allowed(self, url: str, agent: str) -> bool:
        return self.robots.can_fetch(url, agent) and self.robots.can_fetch(url.lower(), agent)
