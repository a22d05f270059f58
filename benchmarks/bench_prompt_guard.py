"""Prompts per second: the prompt guard vs a loop of regexes (one compiled regex per name).

    .venv/bin/python benchmarks/bench_prompt_guard.py [--prompts 1000000] [--baseline-prompts 20000]

Prompts are generated from templates and a vocabulary so nearly all are distinct; about a third
name an artist (some misspelt, some in weighting brackets, some accented). The baseline is what a
careful script would do: one ``re.compile(r"\\b" + re.escape(name) + r"\\b", re.I)`` per name and
alias of the same starter list, searched in turn on each prompt (no accents folding, no fuzzy).
It is timed on a subset (it is slow) and compared as prompts/s. Target: guard >= 50x.
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

SUBJECTS = ["a castle on a hill", "portrait of a young woman", "a cyberpunk city at night", "an old fisherman",
            "a dragon over the mountains", "still life with fruit", "a forest spirit", "a spaceship interior",
            "a cat wearing a crown", "a lighthouse in a storm", "a samurai in the rain", "a cozy library"]
MODIFIERS = ["highly detailed", "golden hour", "octane render", "8k", "trending on artstation", "volumetric light",
             "sharp focus", "concept art", "oil on canvas", "matte painting", "cinematic", "bokeh", "by the sea",
             "surrounded by flowers", "soft lighting", "intricate", "unreal engine 5", "dramatic sky"]


def make_prompts(n: int, names: list[str], seed: int = 0) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        parts = [rnd.choice(SUBJECTS)] + rnd.sample(MODIFIERS, rnd.randint(2, 6)) + [f"seed {i}"]
        r = rnd.random()
        if r < 0.33:
            name = rnd.choice(names)
            style = rnd.random()
            if style < 0.15 and len(name) > 6:   # a typo
                j = rnd.randrange(1, len(name) - 1)
                name = name[:j] + name[j + 1] + name[j] + name[j + 2:]
            if style > 0.8:
                parts.append(f"({name}:{rnd.choice(['1.1', '1.2', '0.8'])})")
            else:
                parts.append(rnd.choice(["art by ", "in the style of ", "by "]) + name)
        rnd.shuffle(parts)
        out.append(", ".join(parts))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=1_000_000)
    ap.add_argument("--baseline-prompts", type=int, default=20_000)
    args = ap.parse_args()
    entries = load_artist_names()
    names = [n for e in entries for n, _ in e.all_names()]
    prompts = make_prompts(args.prompts, [e.name for e in entries])

    t0 = time.perf_counter()
    guard = PromptGuard(entries)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    flagged = sum(1 for found in guard.check_many(prompts) if found)
    guard_s = time.perf_counter() - t0

    regexes = [re.compile(r"\b" + re.escape(n) + r"\b", re.I) for n in names]
    sub = prompts[:args.baseline_prompts]
    t0 = time.perf_counter()
    base_flagged = 0
    for p in sub:
        hits = [rx for rx in regexes if rx.search(p)]
        base_flagged += bool(hits)
    base_s = time.perf_counter() - t0

    g_rate, b_rate = len(prompts) / guard_s, len(sub) / base_s
    print(f"{len(entries)} artists, {len(names)} names+aliases; guard built in {build * 1e3:.0f} ms")
    print(f"prompt guard  : {len(prompts):>9,} prompts in {guard_s:7.2f}s = {g_rate:>10,.0f} prompts/s, "
          f"{flagged / len(prompts):.1%} flagged (exact + fuzzy)")
    print(f"regex loop    : {len(sub):>9,} prompts in {base_s:7.2f}s = {b_rate:>10,.0f} prompts/s, "
          f"{base_flagged / len(sub):.1%} flagged (exact only)")
    print(f"ratio         : {g_rate / b_rate:.0f}x  (target >= 50x)")


if __name__ == "__main__":
    main()
