"""Script-aware pieces of the prompt guard: per-character folding, word boundaries by script, name
variants generated at index time (inflected Slavic forms, Han character variants, East Asian name
order) and the style markers of each language.

Everything here is used either once per name when a guard is built (variants) or through small
pure, cached functions (folding, character classes), so the Aho-Corasick automaton stays the only
per-prompt pass and a built guard never mutates shared state in ``check`` (``functools.lru_cache``
is thread-safe).

Libraries: ``anyascii`` transliterates Cyrillic, Greek and other alphabets to Latin (one scheme on
both sides, so "Иван Шишкин" and "Ivan Shishkin" meet at "ivan shishkin"), ``opencc-purepy`` maps
Japanese shinjitai, traditional and simplified Han characters (宮崎駿 / 宫崎骏, 沢 / 澤 / 泽). The
inflection suffixes are a hand-written bounded table: the maintained morphology libraries
(pymorphy3 and its dictionaries) cover Russian only, need ~15 MB of dictionaries, and analyse
words at match time, whereas surnames follow a handful of regular endings that can be generated
once per name.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import product

from anyascii import anyascii

# ---- character classes --------------------------------------------------------------------------
# Scripts written without spaces between words (Han, kana, Thai, Lao, Khmer, Myanmar, Tibetan) and
# Hangul, whose words are spaced but take particles attached on their right ("김정기의").
_UNSEGMENTED_RANGES = (
    (0x0E00, 0x0EFF),   # Thai, Lao
    (0x0F00, 0x0FFF),   # Tibetan
    (0x1000, 0x109F),   # Myanmar
    (0x1780, 0x17FF),   # Khmer
    (0x2E80, 0x2FDF),   # CJK radicals
    (0x3005, 0x3007), (0x3021, 0x3029), (0x3038, 0x303B),
    (0x3040, 0x309F),   # Hiragana
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF),   # Han
)
_KATAKANA_RANGES = ((0x30A0, 0x30FF), (0x31F0, 0x31FF))
_HANGUL_RANGES = ((0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F))
_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF))

WORD, KATAKANA, HANGUL, UNSEGMENTED, OTHER = "w", "k", "h", "u", " "


def _in(cp: int, ranges) -> bool:
    return any(a <= cp <= b for a, b in ranges)


@lru_cache(maxsize=8192)
def char_class(ch: str) -> str:
    """The boundary class of one normalised character."""
    if ch.isascii():
        return WORD if ch.isalnum() else OTHER
    cp = ord(ch)
    if _in(cp, _KATAKANA_RANGES):
        return KATAKANA
    if _in(cp, _HANGUL_RANGES):
        return HANGUL
    if _in(cp, _UNSEGMENTED_RANGES):
        return UNSEGMENTED
    return WORD if ch.isalnum() else OTHER


def joins(left: str, right: str, key_is_left: bool) -> bool:
    """Whether two adjacent characters belong to one word, so a name ending (key_is_left) or
    starting (not key_is_left) between them is not a whole-word hit.

    Latin with Latin and katakana with katakana join (a katakana loanword is one run). Han, kana and
    Thai never need a boundary: names sit inside unsegmented text ("宮崎駿風の風景"). A Hangul name
    may take a particle on its right ("김정기의"), not a syllable on its left."""
    a, b = char_class(left), char_class(right)
    if a != b:
        return False
    if a in (WORD, KATAKANA):
        return True
    return a == HANGUL and not key_is_left


def is_unsegmented_key(key: str) -> bool:
    """A name written in a script without spaces, matched as a substring: short ones are risky."""
    return any(char_class(c) in (UNSEGMENTED, KATAKANA, HANGUL) for c in key)


# ---- folding ------------------------------------------------------------------------------------
@lru_cache(maxsize=65536)
def fold_char(c: str) -> str:
    """Normalised form of one prompt character, as the automaton sees it.

    NFKC first (full-width "ｇ" -> "g", "　" -> " "); unsegmented scripts and Hangul are kept as they
    are (decomposing Hangul or kana would only blur them); Latin letters lose their diacritics where
    Unicode decomposes them ("é" -> "e") and go through anyascii where it does not ("ł" -> "l");
    other alphabets (Cyrillic, Greek ...) are transliterated by anyascii. Punctuation becomes one
    space per character; marks inside a transliteration (the soft sign's "'") are dropped."""
    out = []
    for ch in unicodedata.normalize("NFKC", c):
        if ch.isascii():
            out.append(ch.lower() if ch.isalnum() else " ")
            continue
        cls = char_class(ch)
        if cls in (UNSEGMENTED, KATAKANA, HANGUL):
            out.append(ch)
            continue
        if not (ch.isalnum() or unicodedata.category(ch).startswith("M")):
            out.append(" ")
            continue
        d = "".join(x for x in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(x))
        if not d.isascii():
            d = anyascii(d)
        out.append("".join(x for x in d.casefold() if x.isalnum()))
    return "".join(out)


@lru_cache(maxsize=65536)
def fold_run(run: str) -> tuple[str, tuple[int, ...]]:
    """A run of non-ASCII characters folded, with the index in the run of each output character.
    Cached per run: prompts in other languages repeat their fragments ("高品質", "в стиле") as
    English ones repeat tags, and a cached run costs one look-up instead of a loop per character."""
    parts = [fold_char(c) for c in run]
    return "".join(parts), tuple(i for i, part in enumerate(parts) for _ in part)


# ---- style markers ------------------------------------------------------------------------------
# Words that say "in the manner of" before a name, in their folded (transliterated, lowercased)
# form, so one list serves "в стиле" (v stile), "à la manière de" (a la maniere de) and the rest.
STYLE_BEFORE_FOLDED = (
    "by", "style of", "manner of", "inspired by", "a la", "from",
    "im stil von", "im stil", "im stile von", "nach art von", "in der art von",           # de
    "a la maniere de", "dans le style de", "facon",                                        # fr
    "al estilo de", "estilo de", "a la manera de",                                         # es
    "nello stile di", "alla maniera di", "stile di",                                       # it
    "no estilo de", "ao estilo de", "estilo de",                                           # pt
    "in de stijl van", "i stil med", "i stilen til", "tyyliin",                           # nl, sv, da/no
    "w stylu", "na wzor", "ve stylu", "v stylu", "v style", "u stylu",                     # pl, cs, sk, sl
    "v stile", "v manere", "u stili", "u stylu", "stilem", "po motivam",                   # ru, uk
    "tarzinda", "stilinde",                                                                # tr
    "仿", "模仿",                                                                            # zh "imitating"
    "สไตล์", "สไตล", "แบบ",                                                                          # th "style", "like"
)
STYLE_AFTER_FOLDED = (
    "style", "art style", "artstyle", "aesthetic", "inspired", "stil", "stijl", "styl",
    "風", "风", "風格", "风格", "画风", "畫風", "画風", "スタイル", "タッチ", "っぽい", "式",
    "스타일", "풍", "화풍",
)
# "の" / "的" / "의" link a name to the marker in Japanese, Chinese, Korean ("宮崎駿の画風").
_LINKS = ("の", "的", "의")


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


_LATIN_BEFORE = [w for w in STYLE_BEFORE_FOLDED if w.isascii()]
_OTHER_BEFORE = [w for w in STYLE_BEFORE_FOLDED if not w.isascii()]
STYLE_BEFORE_RE = re.compile(r"(?:(?<![a-z0-9])(?:%s)|(?:%s))\s{0,3}$" % (_alternation(_LATIN_BEFORE),
                                                                         _alternation(_OTHER_BEFORE)))
_LATIN_AFTER = [w for w in STYLE_AFTER_FOLDED if w.isascii()]
_OTHER_AFTER = [w for w in STYLE_AFTER_FOLDED if not w.isascii()]
STYLE_AFTER_RE = re.compile(r"^\s{0,3}(?:(?:%s)(?![a-z0-9])|(?:%s)?(?:%s))" % (
    _alternation(_LATIN_AFTER), _alternation(_LINKS), _alternation(_OTHER_AFTER)))


# ---- name variants --------------------------------------------------------------------------------
# Surname endings in languages that decline names (Russian, Ukrainian, Belarusian, Polish, Czech,
# Slovak, Slovene, Croatian, Serbian; German genitive "s"), on the folded Latin form, which is also
# what anyascii makes of Cyrillic ("Кандинского" -> "kandinskogo"). Each rule: (ending matched,
# replaced by). Tokens shorter than MIN_INFLECT_CHARS are left alone: short stems plus a suffix
# make ordinary words.
MIN_INFLECT_CHARS = 4
_SKI = re.compile(r"(?<=[sc]k|dz)(?:i|y|iy|ii|ij|yi|yy|yj)$")           # Kandinsky, Rutkowski, -cký
_SKA = re.compile(r"(?<=[sc]k)(?:a|aya|aia|aja)$")                      # -ska, -skaya
# Nominative spellings of -ski / -sky: the Cyrillic transliterations ("Кандинский" folds to
# "kandinskii") meet the Latin spellings; not an inflection, so reported as a spelling of the name.
_SKI_NOMINATIVE = ("iy", "ii", "ij", "yi", "yy", "yj")
_SKI_FORMS = ("ogo", "omu", "im", "om", "iego", "iemu", "ich", "ym", "ego",
              "emu", "eho", "oho")
_SKA_FORMS = ("a", "aya", "aia", "oi", "oy", "oj", "iej", "a", "u", "oyu", "oiu", "e", "ou")
_A_FORMS = ("y", "i", "e", "u", "ou", "oy", "oi", "oj", "ie", "ia")       # Mucha -> Muchy, Kupka -> Kupkou
_O_FORMS = ("a", "u", "ovi", "owi", "em", "om")                           # Shevchenko -> Shevchenka, Picasso -> Picassa
_CONS_FORMS = ("a", "u", "e", "om", "em", "ym", "im", "ovi", "owi", "iem", "ie", "s")   # Repin -> Repina, Monet -> Moneta
# The genitive, the case of "в стиле X" / "w stylu X" / "ve stylu X" / "у стилі X", for every token of
# a full name at once ("Ивана Шишкина", "Grega Rutkowskiego").
_SKI_GEN = ("ogo", "iego", "eho", "oho")
_SKA_GEN = ("oy", "oi", "iej", "e")
_A_GEN = ("y", "i")
_O_GEN = ("a",)
_CONS_GEN = ("a",)


def _token_forms(token: str, genitive: bool) -> tuple[str, ...]:
    """Inflected forms of one folded name token (never the token itself)."""
    if len(token) < MIN_INFLECT_CHARS or not token.isascii() or not token.isalpha():
        return ()
    m = _SKI.search(token)
    if m:
        stem = token[:m.start()]
        forms = _SKI_GEN if genitive else _SKI_FORMS
    elif _SKA.search(token):
        stem = token[:_SKA.search(token).start()]
        forms = _SKA_GEN if genitive else _SKA_FORMS
    elif token.endswith("a"):
        stem, forms = token[:-1], (_A_GEN if genitive else _A_FORMS)
    elif token.endswith("o"):
        stem, forms = token[:-1], (_O_GEN if genitive else _O_FORMS)
    elif token[-1] in "aeiouy":
        return ()                                   # Dali, Hokusai, Rossetti: not declined
    else:
        stem, forms = token, (_CONS_GEN if genitive else _CONS_FORMS)
    return tuple(f for f in dict.fromkeys(stem + s for s in forms) if f != token)


def inflected_variants(key: str) -> set[str]:
    """Declined forms of a folded name: every form of its last word (first words as written), and
    the genitive of every word at once. Bounded: at most ~25 + 4^words forms per key, words <= 3."""
    tokens = key.split()
    if not tokens or len(tokens) > 3:
        return set()
    out = {" ".join(tokens[:-1] + [f]) for f in _token_forms(tokens[-1], genitive=False)}
    if len(tokens) > 1:
        per_token = [(t,) + _token_forms(t, genitive=True) for t in tokens]
        for combo in product(*per_token):
            out.add(" ".join(combo))
    out.discard(key)
    return out


def spelling_variants(key: str) -> set[str]:
    """Other nominative spellings of a last word in -ski / -sky / -skiy ...: a Latin spelling meets
    the Cyrillic transliterations and back, not the other Latin one ("rutkowsky" stays a misspelling
    of "rutkowski" for the fuzzy pass to judge)."""
    tokens = key.split()
    if not tokens or not tokens[-1].isascii():
        return set()
    m = _SKI.search(tokens[-1])
    if not m or len(tokens[-1]) < MIN_INFLECT_CHARS:
        return set()
    stem = tokens[-1][:m.start()]
    ends = _SKI_NOMINATIVE if len(m.group()) == 1 else _SKI_NOMINATIVE + ("i", "y")
    return {" ".join(tokens[:-1] + [stem + e]) for e in ends} - {key}


def reordered_variants(key: str) -> set[str]:
    """Family-name-first order of two-word romanised names ("hayao miyazaki" <-> "miyazaki hayao"),
    as Japanese, Chinese, Korean and Hungarian names are written in their own order."""
    tokens = key.split()
    if len(tokens) == 2 and all(t.isascii() and t.isalpha() and len(t) >= 2 for t in tokens):
        return {f"{tokens[1]} {tokens[0]}"}
    return set()


@lru_cache(maxsize=1)
def _han_converters():
    try:
        from opencc_purepy import OpenCC
    except ImportError:        # the guard still works on the spellings it was given
        return ()
    return tuple(OpenCC(c) for c in ("jp2t", "t2s", "s2t", "t2jp"))


def han_variants(key: str) -> set[str]:
    """The same name in Japanese shinjitai, traditional and simplified characters (宮崎駿 / 宫崎骏)."""
    if not any(_in(ord(c), _HAN_RANGES) for c in key):
        return set()
    conv = _han_converters()
    if not conv:
        return set()
    jp2t, t2s, s2t, t2jp = conv
    trad = jp2t.convert(key)
    simp = t2s.convert(trad)
    out = {trad, simp, s2t.convert(key), t2s.convert(key), t2jp.convert(s2t.convert(key))}
    out.discard(key)
    return out
