"""The AI crawlers whose opt-outs artlineage honours, and artlineage's own identity.

The list is data, not logic: callers pass ``agents=`` to replace it, ``extra_agents=`` to add to
it, or set ``ARTLINEAGE_AI_AGENTS`` (comma-separated) to replace it for a whole run. A site that
disallows any of these tokens in robots.txt / ai.txt / agent-scoped X-Robots-Tag has said, in a
machine-readable way, that its content is not for AI training or mining.
"""

from __future__ import annotations

from typing import Iterable

from ...settings import current as current_settings

USER_AGENT = "artlineage/0.1 (+https://github.com/artlineage/artlineage)"
OWN_AGENT_TOKEN = "artlineage"

# Product tokens as the operators publish them (case is irrelevant to matching).
DEFAULT_AI_AGENTS: tuple[str, ...] = (
    "GPTBot", "ChatGPT-User", "OAI-SearchBot",  # OpenAI
    "CCBot",  # Common Crawl (LAION and most open datasets start here)
    "Google-Extended", "GoogleOther", "Google-CloudVertexBot",  # Google AI training / other
    "ClaudeBot", "anthropic-ai", "Claude-Web", "Claude-SearchBot", "Claude-User",  # Anthropic
    "Applebot-Extended",  # Apple AI training
    "Bytespider",  # ByteDance
    "PerplexityBot", "Perplexity-User",
    "meta-externalagent", "Meta-ExternalFetcher", "FacebookBot",  # Meta
    "Amazonbot",
    "cohere-ai", "cohere-training-data-crawler",
    "Diffbot", "Omgilibot", "Omgili", "Timpibot", "YouBot", "AI2Bot", "Ai2Bot-Dolma",
    "ImagesiftBot", "PetalBot", "Scrapy", "DuckAssistBot", "MistralAI-User", "webzio-extended",
    "img2dataset",  # the LAION image downloader's own token
)


def ai_agents(agents: Iterable[str] | None = None, extra_agents: Iterable[str] = (),
              own_agent: str | None = OWN_AGENT_TOKEN) -> tuple[str, ...]:
    """The agent tokens to check: ``agents`` (or the env override, or the default) + extras + own.

    Order is kept and duplicates (case-insensitive) dropped; the user's own agent is always last.
    """
    if agents is None:
        agents = current_settings().ai_agents or DEFAULT_AI_AGENTS  # ARTLINEAGE_AI_AGENTS
    seen: set[str] = set()
    out: list[str] = []
    for token in [*agents, *extra_agents, *([own_agent] if own_agent else [])]:
        key = token.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(token.strip())
    return tuple(out)
