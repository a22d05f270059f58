"""Prompts per second: the prompt guard vs a loop of regexes (one compiled regex per name).

    .venv/bin/python benchmarks/bench_prompt_guard.py [--prompts 1000000] [--baseline-prompts 20000]

Prompts are tag lists shaped like real generator prompts: a subject built from a combinatorial
vocabulary (so most subjects are distinct) plus tags drawn Zipf-like from a list of common ones
("masterpiece", "8k", "trending on artstation", "(best quality:1.2)", "by the sea" ...), as real
corpora repeat tags massively. The mix: 80% name no artist, 15% name one exactly (by X, in the style
of X, X style, (X:1.2), bare X, accented or not) and 5% misspell one (a swapped letter pair; bare in
the list or after "by"). With ``--multilingual 0.1`` (the default) 10% of all prompts are instead
written in another language or script (Japanese, Chinese, Korean, Russian, Polish, German, French,
Spanish), half of them naming an artist in that language's form (宮崎駿風, в стиле Шишкина, w stylu
Beksińskiego ...), which the regex loop mostly cannot find.

The baseline is what a careful script would do: one ``re.compile(r"\\b" + re.escape(name) + r"\\b",
re.I)`` per name and alias of the same starter list, each searched on each prompt (no accent
folding, no fuzzy). Both are timed in the same run on the same prompts: the guard on all of them,
the regex loop (it is slow) on an evenly spaced sample of them, which the guard is also timed on
alone for comparison. Times are CPU seconds of the process (``time.process_time``), i.e. per core.
Target: guard >= 50x the regex loop in prompts/s.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from artlineage.matching.artist_names import load_artist_names  # noqa: E402
from artlineage.matching.prompt_guard import PromptGuard  # noqa: E402

ADJECTIVES = ["a young", "an old", "a lonely", "a giant", "a tiny", "a mysterious", "a cute", "a majestic", "a ruined",
              "a glowing", "a haunted", "a futuristic", "a medieval", "an ancient", "a steampunk", "a cozy", "a dark",
              "a colorful", "an abandoned", "a floating", "a crystal", "a wooden", "a golden", "a frozen", "a burning"]
NOUNS = ["castle", "woman", "fisherman", "dragon", "cat", "lighthouse", "samurai", "library", "robot", "knight",
         "forest spirit", "spaceship", "city", "temple", "wizard", "fox", "girl", "warrior", "village", "tree",
         "owl", "ship", "astronaut", "mermaid", "tower", "garden", "train station", "cathedral", "witch", "bear"]
PLACES = ["on a hill", "at night", "in the rain", "under the stars", "in a forest", "on the moon", "in the desert",
          "near a river", "in the snow", "at sunset", "in a cave", "in space", "on a cliff", "in the clouds",
          "underwater", "in a market", "at dawn", "in ruins", "on a beach", "in a meadow"]
TAGS = ["masterpiece", "best quality", "highly detailed", "8k", "trending on artstation", "octane render",
        "concept art", "sharp focus", "digital painting", "4k", "cinematic lighting", "volumetric light",
        "ultra realistic", "intricate", "illustration", "unreal engine 5", "golden hour", "matte painting",
        "oil on canvas", "bokeh", "dramatic sky", "soft lighting", "hdr", "photorealistic", "artstation",
        "smooth", "elegant", "fantasy", "studio quality", "depth of field", "wide angle", "award winning",
        "(masterpiece:1.2)", "((best quality))", "[blurry]", "(ultra detailed:1.1)", "by the sea",
        "surrounded by flowers", "hyperrealistic", "epic composition", "vibrant colors", "dynamic pose",
        "anime style", "watercolor", "film grain", "35mm", "f/1.8", "symmetrical", "centered", "full body"]
TAG_WEIGHTS = [1 / (r + 1) ** 0.8 for r in range(len(TAGS))]


def _clock() -> float:
    """CPU seconds of this process: prompts per second *per core*, and honest on a shared machine
    where wall time depends on what else runs (both sides are timed the same way)."""
    return time.process_time()


def _subject(rnd: random.Random) -> str:
    s = f"{rnd.choice(ADJECTIVES)} {rnd.choice(NOUNS)}"
    return s if rnd.random() < 0.3 else f"{s} {rnd.choice(PLACES)}"


def _misspell(rnd: random.Random, name: str) -> str:
    j = rnd.randrange(1, len(name) - 2)
    return name[:j] + name[j + 1] + name[j] + name[j + 2:]


# Prompts in other languages: (template with {} for the name, name forms) and name-free subjects.
ML_NAMED = [
    ("{}風の風景, 高品質", ["宮崎駿", "新海誠", "ミュシャ", "北斎"]),
    ("{}风格的森林, 杰作", ["宫崎骏", "梵高", "毕加索"]),
    ("{} 스타일, 고품질 일러스트", ["김정기", "피카소"]),
    ("пейзаж в стиле {}, масло", ["Шишкина", "Айвазовского", "Кандинского", "Ивана Шишкина"]),
    ("zamek w stylu {}, 8k", ["Beksińskiego", "Rutkowskiego", "Grega Rutkowskiego"]),
    ("eine Burg im Stil von {}", ["Caspar David Friedrich", "Claude Monet"]),
    ("un jardin à la manière de {}", ["Monet", "Renoir"]),
    ("un castillo al estilo de {}", ["Goya", "Sorolla"]),
]
ML_FREE = ["夕焼けの海辺の猫, 高品質", "雨中的古老城市, 杰作", "바닷가의 고양이, 고품질", "кот на крыше, акварель",
           "zamek na wzgórzu o zachodzie słońca", "eine Katze auf dem Dach, Aquarell", "un chat sur le toit",
           "un gato en la ventana, acuarela", "ｈｉｇｈ　ｑｕａｌｉｔｙ， ８ｋ"]


def make_prompts(n: int, names: list[str], seed: int = 0, multilingual: float = 0.0) -> list[str]:
    """Tag-list prompts: 80% artist-free, 15% with a name written exactly, 5% with a misspelt one; a
    ``multilingual`` share of them replaced by prompts in other languages (half naming an artist)."""
    rnd = random.Random(seed)
    long_names = [x for x in names if len(x) >= 9 and " " in x]   # misspelt ones that a reader would still get
    out = []
    for _ in range(n):
        if multilingual and rnd.random() < multilingual:
            if rnd.random() < 0.5:
                template, forms = rnd.choice(ML_NAMED)
                out.append(template.format(rnd.choice(forms)) + f", {rnd.choice(TAGS)}")
            else:
                out.append(f"{rnd.choice(ML_FREE)}, {rnd.choice(TAGS)}")
            continue
        parts = [_subject(rnd)] + list(dict.fromkeys(rnd.choices(TAGS, TAG_WEIGHTS, k=rnd.randint(3, 9))))
        r = rnd.random()
        if r < 0.15:
            name = rnd.choice(names)
            form = rnd.choice(["by {}", "art by {}", "in the style of {}", "{} style", "({}:1.2)", "{}", "[{}]"])
            parts.insert(rnd.randint(1, len(parts)), form.format(name))
        elif r < 0.20:
            name = _misspell(rnd, rnd.choice(long_names))
            form = rnd.choice(["{}", "{}", "by {}", "art by {}"])
            parts.insert(rnd.randint(1, len(parts)), form.format(name.lower() if rnd.random() < 0.5 else name))
        out.append(", ".join(parts))
    return out


# Words of other languages for list prompts whose items rarely repeat (real prompts in other
# languages are less uniform than ML_NAMED / ML_FREE): each item is new to the guard's caches.
ML_WORDS = ("кот крыше акварель пейзаж масло замок горе закате солнца вечер старый город дождь лес река "
            "zamek wzgórzu zachodzie słońca katze dach aquarell chat toit gato ventana acuarela château forêt "
            "夕焼け 海辺 猫 高品質 雨中 古老 城市 杰作 바닷가의 고양이 고품질 일러스트").split()


def distinct_multilingual_prompts(n: int, seed: int = 1) -> list[str]:
    """Comma lists of three items of 2-5 words of other languages, the items mostly distinct."""
    rnd = random.Random(seed)
    items = list(dict.fromkeys(" ".join(rnd.choices(ML_WORDS, k=rnd.randint(2, 5))) for _ in range(n * 3 // 2)))
    return [", ".join(rnd.sample(items, 3)) for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=1_000_000)
    ap.add_argument("--baseline-prompts", type=int, default=20_000)
    ap.add_argument("--multilingual", type=float, default=0.1, help="share of prompts in other languages")
    ap.add_argument("--distinct-prompts", type=int, default=20_000,
                    help="prompts in other languages whose items rarely repeat (timed apart)")
    args = ap.parse_args()
    entries = load_artist_names()
    names = [n for e in entries for n, _ in e.all_names()]
    prompts = make_prompts(args.prompts, [e.name for e in entries], multilingual=args.multilingual)
    step = max(1, len(prompts) // args.baseline_prompts)
    sample = prompts[::step][:args.baseline_prompts]

    t0 = _clock()
    guard = PromptGuard(entries)
    build = _clock() - t0
    t0 = _clock()
    flagged = sum(1 for found in guard.check_many(prompts) if found)
    guard_s = _clock() - t0

    t0 = _clock()
    fresh = PromptGuard(entries)                       # cold caches: the sample alone
    sample_flagged = sum(1 for found in fresh.check_many(sample) if found)
    guard_sample_s = _clock() - t0

    regexes = [re.compile(r"\b" + re.escape(n) + r"\b", re.I) for n in names]
    t0 = _clock()
    base_flagged = 0
    for p in sample:
        hits = [rx for rx in regexes if rx.search(p)]
        base_flagged += bool(hits)
    base_s = _clock() - t0

    g_rate, gs_rate, b_rate = len(prompts) / guard_s, len(sample) / guard_sample_s, len(sample) / base_s
    print(f"{len(entries)} artists, {len(names)} names+aliases, {getattr(guard, 'variant_count', 0)} generated spellings; "
          f"guard built in {build * 1e3:.0f} ms; {args.multilingual:.0%} of prompts in other languages")
    print(f"prompt guard  : {len(prompts):>9,} prompts in {guard_s:7.2f}s = {g_rate:>10,.0f} prompts/s, "
          f"{flagged / len(prompts):.1%} flagged (exact + fuzzy; 20% name an artist)")
    print(f"  on sample   : {len(sample):>9,} prompts in {guard_sample_s:7.2f}s = {gs_rate:>10,.0f} prompts/s "
          f"(cold caches), {sample_flagged / len(sample):.1%} flagged")
    print(f"regex loop    : {len(sample):>9,} prompts in {base_s:7.2f}s = {b_rate:>10,.0f} prompts/s, "
          f"{base_flagged / len(sample):.1%} flagged (exact only)")
    print(f"ratio         : {g_rate / b_rate:.0f}x over all prompts, {gs_rate / b_rate:.0f}x on the sample alone "
          f"(target >= 50x)")

    distinct = distinct_multilingual_prompts(args.distinct_prompts)
    t0 = _clock()
    fresh = PromptGuard(entries)
    d_flagged = sum(1 for found in fresh.check_many(distinct) if found)
    d_s = _clock() - t0
    d_sample = distinct[:max(1, len(distinct) // 4)]
    t0 = _clock()
    for p in d_sample:
        any(rx.search(p) for rx in regexes)
    db_s = _clock() - t0
    print(f"other scripts : {len(distinct):>9,} list prompts with items that rarely repeat: guard "
          f"{len(distinct) / d_s:,.0f} prompts/s (cold caches, {d_flagged} flagged), regex loop "
          f"{len(d_sample) / db_s:,.0f} prompts/s: {len(distinct) / d_s / (len(d_sample) / db_s):.0f}x")


if __name__ == "__main__":
    main()
