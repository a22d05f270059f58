"""Prompt guard: find artist names in text prompts and decide from the artists' terms.

Exact matching is one Aho-Corasick pass (pyahocorasick) over a normalised copy of the prompt
(NFKD, accents dropped, casefolded, every non-alphanumeric character turned into a space, one output
character per input character on the ASCII path so spans map back for free), with word-boundary
checks, so the cost does not grow with the number of names. Fuzzy matching (rapidfuzz) runs only on
*candidate spans* — text after "by" / "style of", before "style", inside weighting brackets — and
only against names sharing character trigrams with the span (an inverted index), with results cached
per span string, so misspellings like "greg rutkowsky" are caught without a loop over all names.
Bare comma-list items ("portrait, greg rutkowsky, 8k") are candidates too, under a stricter cutoff;
items known to hold no name are remembered in a bounded set, so a prompt made of known items costs
one C-level ``issuperset``, and a new item is first bounded by one multi-key LCS call (fuzz.ratio is
200 * LCS / total length), which rejects most items before any per-window work.

``check_many`` runs the automaton once per batch of ASCII prompts joined by newlines; most prompts
(no name, no trigger word) then cost the bare-list set check and nothing else.

Names that are also ordinary words ("Turner", "Bacon", "Hopper") or that name a technique in context
("Rembrandt lighting") are reported with low confidence and decision ``warn``, never ``block``.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from dataclasses import asdict, dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Iterable, Iterator, Sequence

import ahocorasick
import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

from . import _multilingual as ml
from .artist_names import ArtistEntry, load_artist_names

MAX_PROMPT_CHARS = 20_000     # longer prompts are checked on their first 20k characters
FUZZY_CUTOFF = 84.0           # rapidfuzz ratio; "artgrem" vs "artgerm" scores 85.7, "money" vs "monet" 80
MIN_FUZZY_CHARS = 5
# Bare comma lists ("portrait, greg rutkowsky, 8k") have no trigger word to point at a name, so
# every short segment is a candidate: stricter there. A window must score >= BARE_CUTOFF and be
# several words or one word of >= BARE_MIN_WORD_CHARS ("sargent" vs "sergeant" is 93, but 7 chars).
BARE_CUTOFF = 88.0
BARE_MIN_WORD_CHARS = 8
BARE_MAX_TOKENS = 6           # longer segments are descriptions, not list items
# ratio = 200 LCS / (|w| + |k|) >= BARE_CUTOFF needs LCS >= _LCS_NEED (|w| + |k|), so |k| / |w| within
# [_LEN_LO, _LEN_HI] (LCS <= the shorter length); bounds widened by a hair against float rounding.
_LCS_NEED = BARE_CUTOFF / 200 - 1e-9
_LEN_LO = BARE_CUTOFF / (200 - BARE_CUTOFF) - 1e-9     # 0.7857
_LEN_HI = (200 - BARE_CUTOFF) / BARE_CUTOFF + 1e-9     # 1.2727
_WORDS = re.compile(r"[^\W_]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")        # _WORDS on lowercased ASCII
# What any acceptable bare window needs: a word of >= 8 letters, or two letter-only words in a row.
# One C-level search rejects most segments ("8k", "seed 42", "cat") before any Python work.
_BARE_CANDIDATE = re.compile(r"[^\W\d_]{8}|(?<![^\W_])[^\W\d_]+[\s_\-.']+[^\W\d_]+(?![^\W_])")
_BARE_CACHE_MAX = 200_000
_BATCH_PROMPTS = 256         # prompts per automaton pass in check_many

class PromptDecision(StrEnum):
    """What to do with a prompt naming an artist, strictest last (the order ``overall_decision`` uses).
    A StrEnum, so it compares, prints and serialises as its value (``"block"``)."""

    ALLOW = "allow"
    WARN = "warn"
    CREDIT_REQUIRED = "credit_required"
    BLOCK = "block"


ALLOW, WARN, CREDIT, BLOCK = (PromptDecision.ALLOW, PromptDecision.WARN, PromptDecision.CREDIT_REQUIRED,
                              PromptDecision.BLOCK)

# Single-word names that are also common words or brands: a bare mention is probably not the artist.
COMMON_WORD_NAMES = frozenset({
    "turner", "bacon", "constable", "whistler", "homer", "munch", "bosch", "pollock", "hopper", "raphael",
    "titian", "rockwell", "moebius", "sargent", "church", "wood", "cole", "blake", "miller", "lee",
    # ordinary words in other languages: "mucha" (es much, pl/cs fly), "klee" (de clover), "miro" (es/it I look)
    "mucha", "klee", "miro",
})
# Names followed by these words name a technique, not an imitation of the artist ("Rembrandt lighting").
TECHNIQUE_CONTEXTS = {
    "rembrandt": ("lighting", "light", "lit", "portrait lighting"),
    "caravaggio": ("lighting", "light", "lit"),
    "vermeer": ("lighting", "light"),
    "titian": ("hair", "haired", "red", "blonde"),
    "escher": ("staircase", "stairs", "loop"),
    "moebius": ("strip", "band", "loop"),
}

_ASCII_TABLE = {i: (chr(i).lower() if chr(i).isalnum() else " ") for i in range(128)}
_ASCII_BYTES = bytes(ord(_ASCII_TABLE[i]) for i in range(128)) + b" " * 128   # bytes.translate: ~5x str.translate
# Trigger words, found by the same automaton pass as the names: a fuzzy name is looked for in the
# words after "by" / "style of" and before "style".
TRIGGERS_BEFORE = ("by", "style of", "manner of", "inspired by") + tuple(
    w for w in ml.STYLE_BEFORE_FOLDED if w.isascii() and " " in w and w not in ("a la",))
TRIGGERS_AFTER = ("style", "art style", "artstyle")
_ASCII_RUNS = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]+")
_UNTIL_HARD_DELIM = re.compile(r"[^.;:\n()\[\]{}|<>]{0,160}")
# Style markers around a name, on the raw text for ASCII prompts (the common case, no folding) and
# on the folded context for the others (any language: "в стиле" is "v stile" there, see _multilingual).
_TRIGGER_BEFORE = re.compile(r"(?:\bby|\bstyle of|\bmanner of|\binspired by|\bà la|\bfrom|\bim stil(?: von)?|"
                             r"\bal estilo de|\bnello stile di|\bno estilo de|\bw stylu|\bve stylu|"
                             r"\bdans le style de|\bin de stijl van)\W{0,3}$", re.I)
_TRIGGER_AFTER = re.compile(r"^\W{0,3}(?:art\s?style|style|aesthetic|inspired|stil|stijl)\b", re.I)
_WEIGHT_AFTER = re.compile(r"^\s*:\s*(-?\d+(?:\.\d+)?)")
_SPAN_DELIMS = ",.;:\n()[]{}|<>"
_SPAN_BRACKET = re.compile(r"[(\[{]+\s*([^()\[\]{}:\n]{2,80}?)\s*(?::\s*-?[\d.]+)?\s*[)\]}]+")
_SEGMENT_SPLIT = re.compile(r",|&|\band\b|\bwith\b|\+", re.I)


def _list_segments(text: str, s: int, e: int) -> Iterator[tuple[int, int]]:
    """Up to 4 comma / "and" segments of text[s:e], lazily: the caller usually stops at the first
    ("by the sea, 8k, ..." holds no name, so the rest of the list is never split)."""
    pos = s
    for n, sep in enumerate(_SEGMENT_SPLIT.finditer(text, s, e), 1):
        yield pos, sep.start()
        pos = sep.end()
        if n == 4:
            return
    yield pos, e


def normalize_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """(normalised text, offsets) where offsets[i] is the index in ``text`` of normalised char i;
    offsets is None on the ASCII path, where the mapping is the identity."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_BYTES).decode("ascii"), None
    out: list[str] = []
    offsets: list[int] = []
    for run in _ASCII_RUNS.finditer(text):   # ASCII runs in C; only non-ASCII characters one by one
        a, b = run.span()
        if run.group().isascii():
            out.append(run.group().encode("ascii").translate(_ASCII_BYTES).decode("ascii"))
            offsets.extend(range(a, b))
            continue
        folded, local = ml.fold_run(run.group())
        out.append(folded)
        offsets.extend(map(a.__add__, local))
    return "".join(out), offsets


def _fold_only(text: str) -> str:
    """``normalize_with_offsets(text)[0]`` without building the offsets: the batch pass of
    ``check_many`` needs the offsets only for the few non-ASCII prompts the automaton finds something
    in (or that hold brackets), so the others skip the per-character offset list."""
    return "".join(run.encode("ascii").translate(_ASCII_BYTES).decode("ascii") if run.isascii()
                   else ml.fold_run(run)[0] for run in _ASCII_RUNS.findall(text))


def normalize_text(text: str) -> str:
    """Normalised form of a name: accents dropped, casefolded, punctuation -> single spaces."""
    return " ".join(normalize_with_offsets(text)[0].split())


def _trigrams(s: str) -> set[str]:
    p = f" {s} "
    return {p[i:i + 3] for i in range(len(p) - 2)}


@dataclass(frozen=True)
class PromptMatch:
    text: str                 # as written in the prompt
    start: int                # span in the prompt (Python slice)
    end: int
    artist: str               # canonical name
    artist_id: int | None
    matched_as: str           # "exact" | "alias" | "fuzzy"
    score: float              # 100 for exact/alias, rapidfuzz ratio for fuzzy
    trigger: str | None       # "by", "style", "weighted" ... or None
    weight: float | None      # prompt weight from (x:1.2) / ((x)) / [x] syntax
    confidence: float
    decision: PromptDecision  # allow | warn | credit_required | block
    reason: str
    living: bool | None
    ambiguous: bool = False

    def to_dict(self) -> dict:
        return {**asdict(self), "decision": self.decision.value}


def decide(entry: ArtistEntry, ambiguous: bool) -> tuple[PromptDecision, str]:
    """Decision from the artist's style_imitation terms (registry), else from whether they live."""
    if ambiguous:
        return WARN, "name is also an ordinary word or technique here; check the context"
    terms = entry.style_imitation
    if terms == "not_allowed":
        return BLOCK, "artist's terms: style imitation not allowed"
    if terms == "allowed_with_credit":
        return CREDIT, "artist's terms: style imitation allowed with credit"
    if terms == "allowed":
        return ALLOW, "artist's terms: style imitation allowed"
    if entry.living is False:
        return ALLOW, "no recorded terms; the artist is not living"
    if entry.living is None:
        return WARN, "no recorded terms; living status unknown"
    return WARN, "no recorded terms for a living artist"


class PromptGuard:
    """Built once from artist entries; ``check`` is then cheap per prompt."""

    def __init__(self, entries: Sequence[ArtistEntry]):
        self.entries = list(entries)
        self._entry_by_name = {e.name: e for e in reversed(self.entries)}    # the first of a name wins
        by_key: dict[str, list[tuple[int, str]]] = {}
        for i, e in enumerate(self.entries):
            for name, kind in e.all_names():
                # The collapsed form ("n c wyeth") and, for names with punctuation, the one-space-per-
                # character form the prompt side produces for the name written as is ("n  c  wyeth").
                key = normalize_text(name)
                for k in {key, normalize_with_offsets(" ".join(name.split()))[0].strip()}:
                    if len(k) >= 2 and (i, kind) not in by_key.setdefault(k, []):
                        by_key[k].append((i, kind))
        self._by_key = by_key
        self._automaton = ahocorasick.Automaton()
        for key, vals in by_key.items():
            # Prefer a canonical-name hit over an alias when two artists share a string.
            vals.sort(key=lambda v: v[1] != "name")
            self._automaton.add_word(key, (len(key), tuple(vals), None, None))
        # Other spellings of each key, generated once here so the automaton pass stays the only
        # per-prompt work: Han character variants, family-name-first order, declined forms. They map
        # back to their key (for the context rules) and never enter the fuzzy index (_keys).
        variants: dict[str, tuple[str, str, list]] = {}
        for key, vals in by_key.items():
            for form, spellings in (("script", ml.han_variants(key) | ml.spelling_variants(key)),
                                    ("reordered", ml.reordered_variants(key)),
                                    ("inflected", ml.inflected_variants(key))):
                for v in spellings:
                    if len(v) < 2 or v in by_key:
                        continue       # a real name or alias wins over a generated spelling
                    if v not in variants:
                        variants[v] = (key, form, [])
                    base, _f, vv = variants[v]
                    vv.extend(x for x in vals if x not in vv)
        for v, (base, form, vals) in variants.items():
            vals.sort(key=lambda x: x[1] != "name")
            self._automaton.add_word(v, (len(v), tuple(vals), None, (base, form)))
        self.variant_count = len(variants)
        for kind, words in (("before", TRIGGERS_BEFORE), ("after", TRIGGERS_AFTER)):
            for w in words:
                if w not in by_key and w not in variants:
                    self._automaton.add_word(w, (len(w), (), kind, None))
        if by_key:
            self._automaton.make_automaton()
        self._keys = list(by_key)
        self._postings: dict[str, list[int]] = {}
        for k, key in enumerate(self._keys):
            for g in _trigrams(key):
                self._postings.setdefault(g, []).append(k)
        # Keys a bare window (>= MIN_FUZZY_CHARS) could reach BARE_CUTOFF against, for _bare_viable_keys.
        self._bare_keys = [k for k in self._keys if len(k) * _LEN_HI >= MIN_FUZZY_CHARS]
        self._bare_key_len = np.array([len(k) for k in self._bare_keys], dtype=np.int32)
        self._bare_key_need = self._bare_key_len * _LEN_LO - 1e-6
        self._fuzzy = lru_cache(maxsize=200_000)(self._fuzzy_uncached)
        self._segment = lru_cache(maxsize=200_000)(self._segment_uncached)
        self._bare_negative: set[str] = set()                       # list items holding no name
        self._bare_hits: dict[str, tuple[int, int, int, float]] = {}  # list items holding one

    # ---- public -----------------------------------------------------------------------------
    def entry_named(self, name: str) -> ArtistEntry | None:
        """The entry a match's ``artist`` names (its terms, living flag, registry id)."""
        return self._entry_by_name.get(name)

    def check(self, text: str) -> list[PromptMatch]:
        if not text or not self._keys:
            return []
        text = text[:MAX_PROMPT_CHARS]
        norm, offsets = normalize_with_offsets(text)
        return self._check_scanned(text, norm, offsets, self._scan(norm, self._automaton.iter(norm)))

    def check_many(self, prompts: Iterable[str | None]) -> Iterator[list[PromptMatch]]:
        """Like ``check`` per prompt, with the automaton run once over a batch of ASCII prompts joined
        by newlines: most prompts then cost a bisect-free skip plus a set look-up (``_check_batch``)."""
        if not self._keys:
            for _ in prompts:
                yield []
            return
        batch: list[str | None] = []
        for p in prompts:
            batch.append(p)
            if len(batch) == _BATCH_PROMPTS:
                yield from self._check_batch(batch)
                batch = []
        if batch:
            yield from self._check_batch(batch)

    def _check_batch(self, batch: list[str | None]) -> Iterator[list[PromptMatch]]:
        texts = [p[:MAX_PROMPT_CHARS] if p else "" for p in batch]
        ascii_ok = [t.isascii() for t in texts]
        # The separator becomes a space like any punctuation, so a word boundary at each prompt's
        # edge is seen exactly as in a lone prompt; a hit running across two prompts is dropped.
        norm = "\n".join(t if ok else "" for t, ok in zip(texts, ascii_ok)).encode("ascii") \
            .translate(_ASCII_BYTES).decode("ascii")
        outputs = self._batch_outputs(norm, [len(t) if ok else 0 for t, ok in zip(texts, ascii_ok)])
        # Prompts in other languages get their own joined pass over their folded forms (folding can
        # change lengths, so their local normalised text is cut by its own length).
        ml_norms = {i: _fold_only(t) for i, t in enumerate(texts) if t and not ascii_ok[i]}
        ml_outputs: dict[int, list] = {}
        if ml_norms:
            order = list(ml_norms)
            found_at = self._batch_outputs(" ".join(ml_norms[i] for i in order),
                                           [len(ml_norms[i]) for i in order])
            ml_outputs = {order[j]: found for j, found in found_at.items()}
        starts = 0
        for i, t in enumerate(texts):
            base, starts = starts, starts + (len(t) if ascii_ok[i] else 0) + 1
            if not t:
                yield []
            elif not ascii_ok[i]:
                local = ml_norms[i]
                if i in ml_outputs or "(" in t or "[" in t or "{" in t:
                    # The offsets back to the raw text are needed only here (hits, triggers, brackets).
                    local, offsets = normalize_with_offsets(t)
                    yield self._check_scanned(t, local, offsets, self._scan(local, ml_outputs.get(i, ())))
                else:
                    yield self._check_scanned(t, local, None, ([], []))
            elif i in outputs:
                local = norm[base:base + len(t)]
                yield self._check_scanned(t, local, None, self._scan(local, outputs[i]))
            else:                    # the common case: no name and no trigger word anywhere
                found = self._fuzzy_spans(t, [], [], None) if ("(" in t or "[" in t or "{" in t) else []
                bare = self._bare_list(t, found)
                if bare:
                    found.extend(bare)
                    found.sort(key=lambda m: m.start)
                yield found

    def _batch_outputs(self, joined: str, lengths: list[int]) -> dict[int, list]:
        """The automaton run once over texts joined by one separator character each: for text number
        i, its outputs (end relative to the text, value), hits across two texts dropped."""
        starts: list[int] = []
        pos = 0
        for n in lengths:
            starts.append(pos)
            pos += n + 1
        outputs: dict[int, list] = {}
        i, next_start = 0, (starts[1] if len(starts) > 1 else pos + 1)
        for end, val in self._automaton.iter(joined):
            if end >= next_start:   # outputs come in order of end: move to the text holding this end
                i = bisect_right(starts, end) - 1
                next_start = starts[i + 1] if i + 1 < len(starts) else pos + 1
            base = starts[i]
            if end - val[0] + 1 >= base:
                outputs.setdefault(i, []).append((end - base, val))
        return outputs

    def _check_scanned(self, text: str, norm: str, offsets: list[int] | None,
                       scanned: tuple[list, list]) -> list[PromptMatch]:
        hits, triggers = scanned
        found = self._exact(text, norm, offsets, hits) if hits else []
        if triggers or "(" in text or "[" in text or "{" in text:
            found.extend(self._fuzzy_spans(text, found, triggers, offsets))
        bare = self._bare_list(text, found)
        if bare:
            found.extend(bare)
        if len(found) > 1:
            found.sort(key=lambda m: m.start)
        return found

    # ---- exact ------------------------------------------------------------------------------
    @staticmethod
    def _scan(norm: str, outputs: Iterable) -> tuple[list, list]:
        """Name hits (start, end, vals) and trigger hits (start, end, kind) among the automaton's
        outputs (end, value) over ``norm``, keeping those at word boundaries of the normalised text."""
        hits, triggers = [], []
        n = len(norm)
        for end, (klen, vals, trig, variant) in outputs:
            start = end - klen + 1
            if start > 0:
                # Script-aware: Latin inside Latin or katakana inside katakana is part of a longer
                # word; Han, kana and Thai have no spaces to look for (see _multilingual.joins).
                # ASCII on both sides (the hot path) is plain isalnum.
                c = norm[start - 1]
                if c != " " and c.isalnum() and ((c.isascii() and norm[start].isascii())
                                                 or ml.joins(c, norm[start], False)):
                    continue
            if end + 1 < n:
                c = norm[end + 1]
                if c != " " and c.isalnum() and ((c.isascii() and norm[end].isascii())
                                                 or ml.joins(norm[end], c, True)):
                    continue
            if trig is None:
                hits.append((start, end + 1, vals, variant))
            else:
                triggers.append((start, end + 1, trig))
        return hits, triggers

    def _exact(self, text: str, norm: str, offsets: list[int] | None, hits: list) -> list[PromptMatch]:
        if len(hits) > 1:   # keep the longest of overlapping hits ("alphonse mucha" over "mucha")
            hits.sort(key=lambda h: (h[0] - h[1], h[0]))
            kept: list[tuple[int, int, tuple, tuple | None]] = []
            for h in hits:
                if all(h[1] <= k[0] or h[0] >= k[1] for k in kept):
                    kept.append(h)
            hits = kept
        out = []
        for s, e, vals, variant in hits:
            os_, oe = (s, e) if offsets is None else (offsets[s], offsets[e - 1] + 1)
            idx, kind = vals[0]
            how = "exact" if kind == "name" else "alias"
            key = norm[s:e]
            if variant is not None:
                key, form = variant
                how = "inflected" if form == "inflected" else ("alias" if form == "reordered" else how)
            folded = None if offsets is None else (norm[max(0, s - 40):s], norm[e:e + 48])
            out.append(self._make(text, os_, oe, key, idx, how, 100.0, shared=len({v[0] for v in vals}) > 1,
                                  folded=folded))
        return out

    # ---- context and decision ---------------------------------------------------------------
    def _make(self, text: str, start: int, end: int, key: str, idx: int, how: str, score: float,
              shared: bool = False, folded: tuple[str, str] | None = None) -> PromptMatch:
        """``folded``: the normalised text before and after the match when the caller has it (the
        exact pass), so a non-ASCII prompt's context is not folded a second time."""
        entry = self.entries[idx]
        before, after = text[max(0, start - 24):start], text[end:end + 32]
        trigger = None
        if _TRIGGER_BEFORE.search(before):
            trigger = "by"
        elif _TRIGGER_AFTER.match(after):
            trigger = "style"
        elif not (before.isascii() and after.isascii()):    # another language: its markers, folded
            fb, fa = folded or (normalize_with_offsets(before)[0], normalize_with_offsets(after)[0])
            if ml.STYLE_BEFORE_RE.search(" ".join(fb.split())):
                trigger = "by"
            elif ml.STYLE_AFTER_RE.match(" ".join(fa.split())):
                trigger = "style"
        weight = None
        stripped = before.rstrip()
        if stripped and stripped[-1] in "([{":
            depth = len(stripped) - len(stripped.rstrip("([{"))
            m = _WEIGHT_AFTER.match(after)
            if m:
                weight = float(m.group(1))
            elif stripped[-1] == "(":
                weight = round(1.1 ** depth, 4)
            elif stripped[-1] == "[":
                weight = round(1.1 ** -depth, 4)
            else:
                weight = round(1.05 ** depth, 4)
            trigger = trigger or "weighted"
        technique = False
        if key in TECHNIQUE_CONTEXTS:
            after_words = " ".join(normalize_with_offsets(after)[0].split())
            technique = any(after_words.startswith(w) for w in TECHNIQUE_CONTEXTS[key])
        marked = trigger in ("by", "style")
        common = key in COMMON_WORD_NAMES and not marked
        # A name of one or two Han / kana / Thai characters found inside unsegmented text, or a
        # declined form of a one-word name, is as likely an ordinary word: warn at most, unless a
        # style marker says it is meant as an artist.
        short_unsegmented = not marked and len(key) <= 2 and ml.is_unsegmented_key(key)
        weak_inflection = how == "inflected" and not marked and (" " not in key or key in COMMON_WORD_NAMES)
        ambiguous = technique or common or short_unsegmented or weak_inflection
        if ambiguous:
            confidence = 0.3 if technique else 0.35
        elif how == "inflected":
            confidence = 0.9 if marked else 0.75
        elif how == "fuzzy":
            confidence = round(0.85 * score / 100 + (0.05 if trigger else 0.0), 3)
        else:
            single_word = " " not in key
            confidence = (0.9 if how == "exact" else 0.8 if single_word else 0.88) + (0.05 if trigger else 0.0)
            if key in COMMON_WORD_NAMES:
                confidence = 0.75
        if shared:
            confidence = min(confidence, 0.5)
        decision, reason = decide(entry, ambiguous)
        if short_unsegmented:
            reason = "short name found inside unsegmented text without a style marker; check the context"
        elif weak_inflection:
            reason = "declined form of a one-word name without a style marker; check the context"
        return PromptMatch(text=text[start:end], start=start, end=end, artist=entry.name, artist_id=entry.artist_id,
                           matched_as=how, score=score, trigger=trigger, weight=weight,
                           confidence=round(min(confidence, 0.99), 3), decision=decision, reason=reason,
                           living=entry.living, ambiguous=ambiguous)

    # ---- fuzzy ------------------------------------------------------------------------------
    def _fuzzy_uncached(self, window: str) -> tuple[int, float] | None:
        """Best (key number, score) for a normalised window, among keys sharing trigrams with it."""
        grams = _trigrams(window)
        counts: Counter[int] = Counter()
        for g in grams:
            counts.update(self._postings.get(g, ()))
        need = max(2, int(0.3 * len(grams)))
        cands = [k for k, c in counts.items() if c >= need]
        if not cands:
            return None
        best = process.extractOne(window, [self._keys[k] for k in cands], scorer=fuzz.ratio,
                                  score_cutoff=FUZZY_CUTOFF)
        if best is None:
            return None
        return cands[best[2]], float(best[1])

    def _candidate_windows(self, text: str, triggers: list, offsets: list[int] | None
                           ) -> Iterator[tuple[int, int, bool]]:
        """(start, end, is_list) spans of text likely to hold a name; is_list spans (after "by") are
        split into comma/and segments and checked until one segment matches nothing."""
        for ts, te, kind in triggers:
            if kind == "before":
                pos = te if offsets is None else offsets[te - 1] + 1
                end = _UNTIL_HARD_DELIM.match(text, pos).end()
                if end - pos >= 2:
                    yield pos, end, True
            else:
                # "X style": walk back from the keyword to the previous delimiter.
                end = ts if offsets is None else offsets[ts]
                lo = max(0, end - 80)
                start = max(max(text.rfind(c, lo, end) for c in _SPAN_DELIMS) + 1, lo)
                if end - start >= 2:
                    yield start, end, False
        if "(" in text or "[" in text or "{" in text:
            for m in _SPAN_BRACKET.finditer(text):
                yield m.start(1), m.end(1), False

    def _fuzzy_spans(self, text: str, exact: list[PromptMatch], triggers: list,
                     offsets: list[int] | None) -> list[PromptMatch]:
        taken = [(m.start, m.end) for m in exact]
        out: list[PromptMatch] = []
        for s, e, is_list in self._candidate_windows(text, triggers, offsets):
            for ss, se in (_list_segments(text, s, e) if is_list else ((s, e),)):
                if taken and any(ss < b and se > a for a, b in taken):
                    continue  # this segment already holds a match
                m = self._best_window(text, ss, se, is_list)
                if m is None:
                    if is_list:
                        break
                    continue
                out.append(m)
                taken.append((m.start, m.end))
        return out

    def _best_window(self, text: str, s: int, e: int, leading: bool) -> PromptMatch | None:
        hit = self._segment(text[s:e], leading)
        if hit is None:
            return None
        rs, re_, key_no, score = hit
        key = self._keys[key_no]
        idx, _kind = self._by_key[key][0]
        return self._make(text, s + rs, s + re_, key, idx, "fuzzy", score)

    def _segment_uncached(self, segment: str, leading: bool) -> tuple[int, int, int, float] | None:
        """Best fuzzy name among token windows of 1..4 words at the start (after "by") or end (before
        "style") of a segment: (start, end relative to the segment, key number, score). Cached per
        segment string, since prompt datasets repeat the same fragments ("by the sea") endlessly."""
        tokens = [(t.start(), t.end()) for t in re.finditer(r"\S+", segment)]
        best = None
        for k in range(min(4, len(tokens)), 0, -1):
            ws, we = (tokens[0][0], tokens[k - 1][1]) if leading else (tokens[-k][0], tokens[-1][1])
            window = normalize_text(segment[ws:we])
            if len(window) < MIN_FUZZY_CHARS:
                continue
            hit = self._fuzzy(window)
            if hit and (best is None or hit[1] > best[3]):
                best = (ws, we, hit[0], round(hit[1], 1))
        return best


    def _bare_list(self, text: str, found: list[PromptMatch]) -> list[PromptMatch]:
        """Fuzzy names that are whole items of a comma list, with or without a trigger word.

        Cheap because every item found to hold no name is remembered (datasets repeat "8k",
        "masterpiece", "trending on artstation" ...), so a prompt made only of known items costs one
        C-level ``issuperset``; a new item reaches rapidfuzz only through the length-bounded trigram
        pre-check and the trigram index (``_bare_uncached``)."""
        segs = text.split(",")
        negative = self._bare_negative
        out: list[PromptMatch] = []
        if negative.issuperset(segs):
            return out
        hits = self._bare_hits
        candidate = _BARE_CANDIDATE.search
        missing = set(segs).difference(negative)     # in C: usually one new item ("seed 1234", a subject)
        if len(negative) + len(hits) + len(missing) >= _BARE_CACHE_MAX:   # bounded: unique items grow it
            negative.clear()
            hits.clear()
        # This call's hits are kept apart from the shared caches: the guard is shared by request
        # threads, and another thread may clear the caches (the bound above) between the two loops.
        # The caches only ever save work; a result never depends on what they still hold.
        named: dict[str, tuple[int, int, int, float]] = {}
        for seg in missing:
            hit = hits.get(seg)
            if hit is None:
                hit = self._bare_uncached(seg) if candidate(seg) else None
                if hit is None or hit[3] >= 100.0:   # an exact name: the automaton pass reports it
                    negative.add(seg)
                    continue
                hits[seg] = hit
            named[seg] = hit
        if not named:
            return out
        for i, seg in enumerate(segs):              # rare: only prompts with an item holding a name
            hit = named.get(seg)
            if hit is None:
                continue
            start = sum(len(x) for x in segs[:i]) + i
            s, e = start + hit[0], start + hit[1]
            if any(s < m.end and e > m.start for m in found) or any(s < m.end and e > m.start for m in out):
                continue   # already matched (exactly, or by the trigger / bracket spans)
            key = self._keys[hit[2]]
            out.append(self._make(text, s, e, key, self._by_key[key][0][0], "fuzzy", hit[3]))
        return out

    def _bare_uncached(self, segment: str) -> tuple[int, int, int, float] | None:
        """Best (start, end, key number, score) among windows of 1..4 words of a short segment."""
        if segment.isascii():
            # ASCII: a window's normal form is its lowercased words joined by single spaces, so the
            # words are found once; no per-window normalisation.
            low = segment.lower()
            tokens = [(m.start(), m.end(), m.group()) for m in _ASCII_WORD.finditer(low)]
        else:
            tokens = [(m.start(), m.end(), m.group()) for m in _WORDS.finditer(segment)]
        if not tokens or len(tokens) > BARE_MAX_TOKENS:
            return None
        # Other scripts: every window's normal form is a substring of the whole segment's (folding is
        # per character, whitespace only collapses), so the segment's bound holds for its windows too.
        ascii_seg = segment.isascii()
        ok_lens = self._bare_window_lengths(" ".join(t[2] for t in tokens) if ascii_seg
                                            else normalize_text(segment))
        if not ok_lens:
            return None
        alpha = [w[2].isalpha() for w in tokens]
        ends = [0]                     # ends[i] = letters in the first i words: window lengths, no join
        for w in tokens:
            ends.append(ends[-1] + len(w[2]))
        best = None
        for k in range(min(4, len(tokens)), 0, -1):
            for i in range(len(tokens) - k + 1):
                if ascii_seg and ends[i + k] - ends[i] + k - 1 not in ok_lens:
                    continue   # no key can score >= BARE_CUTOFF against a window of this length here
                if not all(alpha[i:i + k]):
                    continue   # "8k", "seed 42", "1.2": names have no digits
                words = tokens[i:i + k]
                ws, we = words[0][0], words[-1][1]
                window = " ".join(w[2] for w in words) if ascii_seg else normalize_text(segment[ws:we])
                if len(window) < (BARE_MIN_WORD_CHARS if k == 1 else MIN_FUZZY_CHARS):
                    continue
                if not ascii_seg and len(window) not in ok_lens:
                    continue
                hit = self._fuzzy(window)
                if hit and hit[1] >= BARE_CUTOFF and (best is None or hit[1] > best[3]):
                    best = (ws, we, hit[0], round(hit[1], 1))
        return best

    def _bare_window_lengths(self, joined: str) -> set[int]:
        """Window lengths that could reach BARE_CUTOFF against some key, given the segment's words
        in normal form joined by single spaces (every window's normal form is a substring of it).

        fuzz.ratio is 200 * LCS / (|w| + |k|), so window w reaches the cutoff against key k only if
        LCS(w, k) >= 0.44 (|w| + |k|), which needs |w| / |k| within [0.786, 1.273]; and as w is a
        substring of the segment's words, LCS(w, k) <= LCS(segment, k). One multi-key LCS call
        (rapidfuzz cdist, in C) bounds every window of the segment at once; most segments ("a young
        castle on a hill") leave no length at all, and the rest only reach ``_fuzzy`` for windows of
        the lengths kept here."""
        if len(joined) < MIN_FUZZY_CHARS:
            return set()
        lcs = process.cdist([joined], self._bare_keys, scorer=LCSseq.similarity, dtype=np.int32)[0]
        lengths: set[int] = set()
        for j in np.flatnonzero(lcs >= self._bare_key_need).tolist():
            lk, common = int(self._bare_key_len[j]), int(lcs[j])
            lo = max(math.ceil(lk * _LEN_LO), MIN_FUZZY_CHARS)
            hi = min(math.floor(lk * _LEN_HI), math.floor(common / _LCS_NEED) - lk)
            lengths.update(range(lo, hi + 1))
        return lengths


_default_guard: PromptGuard | None = None


def default_guard() -> PromptGuard:
    """A guard over the bundled starter list (no consent terms: decisions from living/dead only)."""
    global _default_guard
    if _default_guard is None:
        _default_guard = PromptGuard(load_artist_names())
    return _default_guard


def _guard_for(names: PromptGuard | Sequence[ArtistEntry] | None) -> PromptGuard:
    if names is None:
        return default_guard()
    return names if isinstance(names, PromptGuard) else PromptGuard(names)


def check_prompt(text: str, names: PromptGuard | Sequence[ArtistEntry] | None = None) -> list[PromptMatch]:
    """Artist names found in one prompt. ``names``: a PromptGuard (reuse it across calls), a list of
    ArtistEntry (a guard is built: prefer passing a PromptGuard in loops), or None for the starter list."""
    return _guard_for(names).check(text)


def check_prompts(prompts: Iterable[str | None],
                  names: PromptGuard | Sequence[ArtistEntry] | None = None) -> Iterator[list[PromptMatch]]:
    """One list of matches per prompt, lazily, with one guard built for the whole batch."""
    return _guard_for(names).check_many(prompts)


def overall_decision(matches: Iterable[PromptMatch]) -> PromptDecision:
    """The strictest decision among matches (block > credit_required > warn > allow)."""
    order = {d: i for i, d in enumerate(PromptDecision)}
    return max((PromptDecision(m.decision) for m in matches), key=order.__getitem__, default=PromptDecision.ALLOW)
