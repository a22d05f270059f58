"""Names of AI image generators as they appear in metadata strings, shared by the readers.

EXIF ``Software``/``Make``/``Model``, XMP ``CreatorTool``/``AISystemUsed`` and C2PA claim
generators / software agents all name the tool that wrote the file; one list serves them all so a
tool is recognised (and named) the same way whichever field carries it.

Matching is by word, never by bare substring, and needs a qualifier where the plain word is an
ordinary one: "Leonardo" alone is a painting app and a person, "Kandinsky" a painter, "Imagen"
Spanish for "image", "Runway" a word. Bare vendor names ("Google", "Adobe", "Microsoft",
"OpenAI" aside, whose only image products are generators) never count: their cameras and editors
write metadata too. No package ships such a list, so it is a table here.
"""

from __future__ import annotations

import re

# (tool name, pattern), first match wins: more specific entries come before broader ones
# (AUTOMATIC1111's "stable-diffusion-webui" before "Stable Diffusion").
_AI_TOOL_TABLE: list[tuple[str, str]] = [
    ("NovelAI", r"\bnovel\s*ai\b"),
    ("Midjourney", r"\bmid[\s-]?journey\b"),
    ("DALL-E", r"\bdall[\s·.-]*e\b"),
    # OpenAI's manifests name ChatGPT / "OpenAI-API" as claim generator and the model ("GPT-4o",
    # "gpt-image-1") as the created action's software agent.
    ("OpenAI", r"\bgpt[\s-]?image\b|\bgpt[\s-]?[45](?:o|\.\d)?\b|\bchatgpt\b|\bsora\b|\bopenai\b"),
    ("Adobe Firefly", r"\bfirefly\b"),
    ("ComfyUI", r"\bcomfy\s*ui\b"),
    ("InvokeAI", r"\binvoke\s*ai\b"),
    ("Fooocus", r"\bfooocus\b"),
    ("Draw Things", r"\bdraw\s*things\b"),
    ("SwarmUI", r"\b(?:stable\s*)?swarm\s*ui\b"),
    ("Leonardo.Ai", r"\bleonardo(?:\.ai\b|\s+ai\b)"),
    ("AUTOMATIC1111", r"\bautomatic\s*1111\b|\ba1111\b|\bstable[\s-]*diffusion[\s-]*web[\s-]*ui\b"),
    ("Stable Diffusion", r"\bstable[\s-]*diffusion\b|\bsdxl\b|\bdream\s*studio\b|\bstability\s*ai\b"),
    ("FLUX", r"\bflux\.1\b|\bflux[\s-]+(?:dev|schnell|pro|kontext)\b|\bblack\s+forest\s+labs\b"),
    ("Ideogram", r"\bideogram\b"),
    ("Google Imagen", r"\bimagen\s*\d|\bgoogle\s+imagen\b"),
    ("Google Gemini", r"\bgoogle\s+gemini\b|\bgemini[\s/-]*(?:\d|pro\b|flash\b|ultra\b|nano\b)"),
    ("Bing Image Creator", r"\bbing\s+image\s+creator\b|\bimage\s+creator\s+from\s+designer\b"),
    # The claim generator of Bing Image Creator / Designer / Copilot C2PA manifests.
    ("Microsoft Designer", r"\bresponsible\s+ai\s+image\s+provenance\b"),
    ("Microsoft Designer", r"\bmicrosoft\s+designer\b"),
    ("Microsoft Copilot", r"\bcopilot\b"),
    ("Meta AI", r"\bmeta\s+ai\b|\bimagine\s+with\s+meta\b"),
    ("Craiyon", r"\bcraiyon\b"),
    ("NightCafe", r"\bnight\s*cafe\b"),
    ("Playground AI", r"\bplayground\s*(?:ai|v\d)\b"),
    ("DiffusionBee", r"\bdiffusion\s*bee\b"),
    ("Easy Diffusion", r"\beasy\s*diffusion\b"),
    ("Diffusers", r"\bdiffusers\b"),
    ("Krea", r"\bkrea(?:\.ai|\s+ai)\b"),
    ("Runway", r"\brunway\s*(?:ml|ai|gen[\s-]?\d)\b"),
    ("Artbreeder", r"\bartbreeder\b"),
    ("Wombo Dream", r"\bwombo\b"),
    ("Kandinsky", r"\bkandinsky\s*\d"),
    ("Civitai", r"\bcivitai\b"),
    ("PixAI", r"\bpixai\b"),
    ("SeaArt", r"\bseaart\b"),
    ("Tensor.Art", r"\btensor\.art\b"),
]
AI_TOOL_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern, re.IGNORECASE)) for name, pattern in _AI_TOOL_TABLE]


def match_ai_tool(text: str | None) -> str | None:
    """The AI generator a metadata string names (``"Adobe_Firefly/0.1"`` -> ``"Adobe Firefly"``), or ``None``.

    Underscores count as spaces: ``\\b`` treats ``_`` as a letter, and C2PA claim generators
    write ``Adobe_Firefly``.
    """
    if not text:
        return None
    text = text.replace("_", " ")
    return next((name for name, pattern in AI_TOOL_PATTERNS if pattern.search(text)), None)


# Credit lines platforms write into IPTC Credit (XMP photoshop:Credit, IIM 2:110) to label AI images:
# Google ("Made with Google AI" for Pixel Studio / Gemini images, "Edited with Google AI" for Magic
# Editor / Magic Eraser / Zoom Enhance edits, beside a digital source type), Meta ("Imagined with AI").
# Worded declarations, not vocabulary codes: matched as whole phrases only.
_AI_CREDIT_LINES: list[tuple[re.Pattern[str], bool, str | None]] = [
    (re.compile(r"\b(?:edited|modified|enhanced)\s+with\s+google\s+ai\b", re.IGNORECASE), True, "Google AI"),
    (re.compile(r"\b(?:made|created|generated)\s+with\s+google\s+ai\b", re.IGNORECASE), False, "Google AI"),
    (re.compile(r"\bimagined\s+with\s+ai\b", re.IGNORECASE), False, "Meta AI"),
    (re.compile(r"\b(?:edited|modified)\s+with\s+meta\s+ai\b", re.IGNORECASE), True, "Meta AI"),
    (re.compile(r"\b(?:made|created|generated)\s+with\s+meta\s+ai\b", re.IGNORECASE), False, "Meta AI"),
]


def ai_credit_line(text: str | None) -> tuple[bool, str | None] | None:
    """``(edited, generator)`` when a credit line labels the image as made or edited with AI, else None."""
    if not text:
        return None
    for pattern, edited, generator in _AI_CREDIT_LINES:
        if pattern.search(text):
            return edited, generator
    return None
