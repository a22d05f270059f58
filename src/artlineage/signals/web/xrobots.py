"""``noai`` / ``noimageai`` in X-Robots-Tag headers and HTML ``<meta name="robots">``.

Both forms may be scoped to one agent: ``X-Robots-Tag: otherbot: noai`` or
``<meta name="GPTBot" content="noai">``. A scoped directive counts when it names one of the
checked agents (the AI list, or ``*``-like generic names ``robots``); one naming another crawler
is reported as INFO so the audit still shows it.

HTML is parsed with the standard library's tolerant ``html.parser`` (no dependency needed),
bounded to the first :data:`MAX_HTML_BYTES` and stopped at ``<body>``, because meta tags live in
the head.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Iterable

from .._base import Evidence, Implication, truncate
from .._iptc_vocab import ALL_USES
from ..strengths import strength

MAX_HTML_BYTES = 256 * 1024
MAX_META = 500
OPT_OUT_DIRECTIVES = {"noai": "all media", "noimageai": "images"}
# X-Robots-Tag directives that carry their own "name: value" and so are not agent scopes.
_VALUED_DIRECTIVES = {"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"}
GENERIC_ROBOT_NAMES = {"robots", "*"}


class _MetaCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.metas: list[tuple[str, str]] = []
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if tag == "body":
            self.done = True
            return
        if tag == "meta" and len(self.metas) < MAX_META:
            a = {k.lower(): (v or "") for k, v in attrs}
            if "name" in a and "content" in a:
                self.metas.append((a["name"].strip().lower(), a["content"].strip()))

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.done = True


def html_meta(html: bytes | str) -> list[tuple[str, str]]:
    """(lower-cased name, content) of every ``<meta name content>`` in the document head."""
    if isinstance(html, bytes):
        html = html[:MAX_HTML_BYTES].decode("utf-8", errors="replace")
    else:
        html = html[:MAX_HTML_BYTES]
    parser = _MetaCollector()
    # Feed in pieces so parsing stops soon after </head> on big pages.
    for i in range(0, len(html), 16384):
        if parser.done:
            break
        try:
            parser.feed(html[i:i + 16384])
        except Exception:  # noqa: BLE001 - html.parser is lenient; keep what was collected
            break
    return parser.metas


def parse_x_robots_tag(value: str) -> list[tuple[str | None, str]]:
    """``"otherbot: noai, noimageai"`` -> ``[("otherbot", "noai"), ("otherbot", "noimageai")]``.

    Unscoped directives get scope ``None``. Per Google's syntax, the scope applies to the
    directives after it in the same header value.
    """
    out: list[tuple[str | None, str]] = []
    scope: str | None = None
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        if ":" in part:
            head, rest = part.split(":", 1)
            if head.strip().lower() not in _VALUED_DIRECTIVES:
                scope, part = head.strip(), rest.strip()
                if not part:
                    continue
        out.append((scope, part.lower()))
    return out


def _evidence(reader: str, location: str, field: str, raw: str, scope: str | None, directive: str,
              agents_lower: set[str]) -> Evidence:
    applies = scope is None or scope.lower() in agents_lower or scope.lower() in GENERIC_ROBOT_NAMES
    media = OPT_OUT_DIRECTIVES[directive]
    who = f" for {scope}" if scope else ""
    if not applies:
        return Evidence(reader=reader, location=location, field=field, value=truncate(raw, 300),
                        implies=Implication.INFO, strength=0.0,
                        note=f"'{directive}' is scoped to {scope}, which is not a checked agent",
                        data={"directive": directive, "scope": scope})
    return Evidence(reader=reader, location=location, field=field, value=truncate(raw, 300),
                    implies=Implication.CONSENT_RESERVED, strength=strength("x_robots_noai"),
                    note=f"'{directive}'{who}: AI use of {media} reserved ({field}: {truncate(raw, 120)})",
                    data={"uses": list(ALL_USES), "directive": directive, "scope": scope, "media": media})


def x_robots_evidence(header_values: Iterable[str], agents: Iterable[str], *, location: str) -> list[Evidence]:
    """Evidence from every ``X-Robots-Tag`` header value of a response."""
    agents_lower = {a.lower() for a in agents}
    out: list[Evidence] = []
    for raw in header_values:
        for scope, directive in parse_x_robots_tag(raw):
            if directive in OPT_OUT_DIRECTIVES:
                out.append(_evidence("x-robots-tag", location, "X-Robots-Tag", raw, scope, directive, agents_lower))
    return out


def meta_robots_evidence(metas: Iterable[tuple[str, str]], agents: Iterable[str], *,
                         location: str) -> list[Evidence]:
    """Evidence from ``<meta name="robots">`` and agent-named metas (``<meta name="GPTBot">``)."""
    agents_lower = {a.lower() for a in agents}
    out: list[Evidence] = []
    for name, content in metas:
        directives = [d.strip().lower() for d in content.split(",")]
        for directive in directives:
            if directive not in OPT_OUT_DIRECTIVES:
                continue
            scope = None if name == "robots" else name
            if scope is not None and scope not in agents_lower:
                continue  # e.g. <meta name="description" content="noai">: not a robots meta at all
            out.append(_evidence("meta-robots", location, f'<meta name="{name}">', content, scope, directive,
                                 agents_lower))
    return out
