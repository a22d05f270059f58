"""Opt-out signals the platform publishes for its artists, following each artist's consent terms.

From the registry's terms (scopes ``ai_training``, ``generative_training``, ``data_mining``) one
PLUS Data Mining code is chosen per artist or work; everything else follows from it:

* HTTP headers on the artist's pages and images: ``X-Robots-Tag: noai, noimageai``, TDMRep
  ``tdm-reservation: 1`` and ``tdm-policy`` (a URL of the artist's terms), or ``tdm-reservation: 0``
  when the artist allowed every AI use;
* ``/.well-known/tdmrep.json``: one rule per artist who allowed, then a catch-all reservation;
* ``robots.txt``: AI crawlers disallowed everywhere except the pages of artists who allowed;
* XMP (``plus:DataMining`` + ``Iptc4xmpExt:DataMining``) stamped into every image file served.

Unknown terms: silence is not consent, so by default (``reserve_unknown=True``) the platform reserves
AI training for artists who stated nothing; scanners read that as a reservation.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from xml.sax.saxutils import escape

PLUS_VOCAB = "http://ns.useplus.org/ldf/vocab/"
DMI_ALLOWED = "DMI-ALLOWED"
DMI_UNSPECIFIED = "DMI-UNSPECIFIED"
DMI_PROHIBITED = "DMI-PROHIBITED"
DMI_PROHIBITED_AI = "DMI-PROHIBITED-AIMLTRAINING"
DMI_PROHIBITED_GENAI = "DMI-PROHIBITED-GENAIMLTRAINING"
_ALLOWING = ("allowed", "allowed_with_credit")

# AI crawlers and dataset builders named in the platform's robots.txt (product tokens as published).
AI_CRAWLERS: tuple[str, ...] = (
    "GPTBot", "ChatGPT-User", "OAI-SearchBot", "CCBot", "Google-Extended", "GoogleOther", "ClaudeBot",
    "anthropic-ai", "Claude-Web", "Applebot-Extended", "Bytespider", "PerplexityBot", "meta-externalagent",
    "Meta-ExternalFetcher", "FacebookBot", "Amazonbot", "cohere-ai", "cohere-training-data-crawler", "Diffbot",
    "Omgilibot", "Timpibot", "YouBot", "AI2Bot", "ImagesiftBot", "img2dataset",
)


def ai_crawlers() -> tuple[str, ...]:
    """The consent helper's agent list when present (one list for reading and writing opt-outs)."""
    try:
        from ...signals.web.agents import DEFAULT_AI_AGENTS
    except ImportError:  # the web-signals part is optional
        return AI_CRAWLERS
    seen = {a.lower() for a in DEFAULT_AI_AGENTS}
    return tuple(DEFAULT_AI_AGENTS) + tuple(a for a in AI_CRAWLERS if a.lower() not in seen)


@dataclass(frozen=True)
class OptOut:
    """The opt-out one set of terms calls for."""

    dmi: str  # PLUS Data Mining code
    reserved: bool  # AI training / mining reserved
    reason: str

    @property
    def dmi_uri(self) -> str:
        return PLUS_VOCAB + self.dmi


def optout_for(scopes: Mapping[str, str | None], *, reserve_unknown: bool = True) -> OptOut:
    """Choose the Data Mining code from consent scopes (``scope -> allowed|not_allowed|...|None``)."""
    if scopes.get("data_mining") == "not_allowed":
        return OptOut(DMI_PROHIBITED, True, "artist's terms: data mining not allowed")
    if scopes.get("ai_training") == "not_allowed":
        return OptOut(DMI_PROHIBITED_AI, True, "artist's terms: AI training not allowed")
    if scopes.get("generative_training") == "not_allowed":
        return OptOut(DMI_PROHIBITED_GENAI, True, "artist's terms: generative AI training not allowed")
    if all(scopes.get(s) in _ALLOWING for s in ("ai_training", "generative_training", "data_mining")):
        return OptOut(DMI_ALLOWED, False, "artist's terms allow AI training and data mining")
    if reserve_unknown:
        return OptOut(DMI_PROHIBITED_AI, True, "no complete terms recorded: the platform reserves AI training")
    return OptOut(DMI_UNSPECIFIED, False, "no terms recorded")


PLATFORM_DEFAULT = OptOut(DMI_PROHIBITED_AI, True, "pages showing several artists: the platform reserves AI training")


def optout_headers(optout: OptOut, policy_url: str | None = None) -> dict[str, str]:
    if not optout.reserved:
        return {"tdm-reservation": "0"}
    headers = {"X-Robots-Tag": "noai, noimageai", "tdm-reservation": "1"}
    if policy_url:
        headers["tdm-policy"] = policy_url
    return headers


def robots_txt(allowed_paths: Iterable[str] = (), agents: Iterable[str] | None = None) -> str:
    """AI crawlers: disallowed from everything but ``allowed_paths`` (pages of artists who allowed)."""
    agents = tuple(agents) if agents is not None else ai_crawlers()
    lines = ["# AI training and text-and-data mining are reserved on this site unless an artist allowed it.",
             "# Per-artist terms: /.well-known/tdmrep.json", ""]
    for agent in agents:
        lines.append(f"User-agent: {agent}")
    for path in allowed_paths:
        lines.append(f"Allow: {path}")
    lines += ["Disallow: /", "", "User-agent: *", "Disallow: /account", "Disallow: /v1/", "Allow: /", ""]
    return "\n".join(lines)


def tdmrep_rules(allowed: Iterable[str], policy_url: str) -> list[dict[str, Any]]:
    """TDMRep rules: first match wins, so per-artist allowances come before the catch-all reservation."""
    rules: list[dict[str, Any]] = [{"location": loc, "tdm-reservation": 0} for loc in allowed]
    rules.append({"location": "/*", "tdm-reservation": 1, "tdm-policy": policy_url})
    return rules


def xmp_packet(optout: OptOut, *, creator: str | None = None, rights: str | None = None,
               web_statement: str | None = None) -> bytes:
    """An XMP packet with the PLUS / IPTC Extension Data Mining field (and creator, rights)."""
    dmi = escape(optout.dmi_uri)
    extra = ""
    if creator:
        extra += f"<dc:creator><rdf:Seq><rdf:li>{escape(creator)}</rdf:li></rdf:Seq></dc:creator>"
    if rights:
        extra += (f"<dc:rights><rdf:Alt><rdf:li xml:lang=\"x-default\">{escape(rights)}</rdf:li></rdf:Alt>"
                  "</dc:rights>")
    if web_statement:
        extra += f"<xmpRights:WebStatement>{escape(web_statement)}</xmpRights:WebStatement>"
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/"'
        ' xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/">'
        f"<plus:DataMining>{dmi}</plus:DataMining><Iptc4xmpExt:DataMining>{dmi}</Iptc4xmpExt:DataMining>"
        f"{extra}</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"
    )
    return packet.encode("utf-8")


def encode_with_xmp(image: Any, fmt: str, xmp: bytes, **save_options: Any) -> bytes:
    """Save a Pillow image as PNG/JPEG/WEBP with the XMP packet embedded (PNG: iTXt
    ``XML:com.adobe.xmp``, JPEG: APP1, WebP: XMP chunk)."""
    out = io.BytesIO()
    if fmt == "PNG":
        from PIL.PngImagePlugin import PngInfo
        info = PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"), zip=False)
        image.save(out, "PNG", pnginfo=info, optimize=False, **save_options)
    else:
        image.save(out, fmt, xmp=xmp, **save_options)
    return out.getvalue()
