import pytest

from artlineage.matching.artist_names import ArtistEntry, load_artist_names, merge_entries
from artlineage.matching.prompt_guard import (PromptGuard, check_prompt, check_prompts, normalize_text,
                                              overall_decision)

# (prompt, [(artist, matched_as, decision)]) against the bundled starter list (no consent terms there:
# living artists -> warn, dead artists -> allow).
CASES = [
    ("a castle on a hill, art by greg rutkowski, trending on artstation",
     [("Greg Rutkowski", "exact", "warn")]),
    ("portrait, (greg rutkowski:1.2), [artgerm], {alphonse mucha}, ((wlop))",
     [("Greg Rutkowski", "exact", "warn"), ("Artgerm", "exact", "warn"), ("Alphonse Mucha", "exact", "allow"),
      ("WLOP", "exact", "warn")]),
    ("knight, art by greg rutkowsky and artgrem", [("Greg Rutkowski", "fuzzy", "warn"), ("Artgerm", "fuzzy", "warn")]),
    ("in the style of Alfons Mucha", [("Alphonse Mucha", "alias", "allow")]),
    # "mucha" is also an ordinary word (Spanish "much", Polish / Czech "fly"): bare, it only warns
    ("Mucha poster, art nouveau", [("Alphonse Mucha", "alias", "warn")]),
    ("SALVADOR DALI melting clocks", [("Salvador Dalí", "exact", "allow")]),
    ("salvador dalí", [("Salvador Dalí", "exact", "allow")]),
    ("starry night, van gogh style", [("Vincent van Gogh", "alias", "allow")]),
    ("painting by claude monnet", [("Claude Monet", "fuzzy", "allow")]),
    ("greg_rutkowski, 8k", [("Greg Rutkowski", "exact", "warn")]),
    ("Rembrandt lighting, portrait of an old man", [("Rembrandt", "exact", "warn")]),
    ("a stormy sea by Turner", [("J. M. W. Turner", "alias", "allow")]),
    ("eggs and bacon on a plate", [("Francis Bacon", "alias", "warn")]),
    ("a pirate ship, art by N. C. Wyeth", [("N. C. Wyeth", "exact", "allow")]),
    ("Georgia O'Keeffe flowers", [("Georgia O'Keeffe", "exact", "allow")]),
]
NO_MATCH = [
    "a cat sitting on a mat by the window",
    "photo of a mountain lake at sunset, 35mm, bokeh",
    "a money style poster",        # "money" is not "monet"
    "hyper detailed, octane render, unreal engine 5, by the sea",
    "an old man with a grey beard, oil painting",
    "the stalwart knight in the style of the 1980s",
    "",
]


@pytest.mark.parametrize("prompt,expected", CASES)
def test_prompt_table(prompt, expected):
    got = [(m.artist, m.matched_as, m.decision) for m in check_prompt(prompt)]
    assert got == expected


@pytest.mark.parametrize("prompt", NO_MATCH)
def test_ordinary_sentences_do_not_match(prompt):
    assert check_prompt(prompt) == []


def test_spans_weights_triggers_and_confidence():
    p = "portrait, (Greg Rutkowski:1.3), [[artgerm]], ((wlop))"
    r, a, w = check_prompt(p)
    assert p[r.start:r.end] == "Greg Rutkowski" == r.text and r.weight == 1.3 and r.trigger == "weighted"
    assert a.weight == pytest.approx(1 / 1.21, abs=1e-3) and w.weight == pytest.approx(1.21)
    accented = check_prompt("style of Zdzisław Beksiński, dark")[0]
    assert accented.text == "Zdzisław Beksiński" and accented.trigger == "by" and accented.confidence >= 0.9
    lighting = check_prompt("Rembrandt lighting")[0]
    assert lighting.ambiguous and lighting.confidence < 0.5 and lighting.decision == "warn"
    fuzzy = check_prompt("by greg rutkowsky")[0]
    from rapidfuzz import fuzz
    assert fuzzy.matched_as == "fuzzy" and (fuzzy.text, fuzzy.artist) == ("greg rutkowsky", "Greg Rutkowski")
    assert fuzzy.score == round(fuzz.ratio("greg rutkowsky", "greg rutkowski"), 1) == 92.9  # 13 of 14 letters
    assert fuzzy.confidence == 0.84 and fuzzy.decision == "warn"


def test_registry_terms_drive_decisions():
    entries = merge_entries([
        ArtistEntry("Greg Rutkowski", living=True, artist_id=1, style_imitation="not_allowed", source="registry"),
        ArtistEntry("Jane Q. Painter", aliases=("JQP",), living=True, artist_id=2,
                    style_imitation="allowed_with_credit", source="registry"),
        ArtistEntry("Open Artist", living=True, artist_id=3, style_imitation="allowed", source="registry"),
    ], load_artist_names())
    guard = PromptGuard(entries)
    res = guard.check("art by greg rutkowski and jane q painter, (open artist:0.8)")
    assert [(m.artist, m.artist_id, m.decision) for m in res] == [
        ("Greg Rutkowski", 1, "block"), ("Jane Q. Painter", 2, "credit_required"), ("Open Artist", 3, "allow")]
    assert overall_decision(res) == "block"
    assert guard.check("by greg rutkowsky")[0].decision == "block"      # misspelt is still blocked
    assert guard.check("portrait in the style of JQP")[0].decision == "credit_required"
    # ambiguous names never block
    bacon = PromptGuard([ArtistEntry("Francis Bacon", ("Bacon",), False, 9, "not_allowed")])
    assert bacon.check("bacon and eggs")[0].decision == "warn"
    assert bacon.check("a portrait by Francis Bacon")[0].decision == "block"


def test_batch_and_loaders(tmp_path):
    prompts = ["by greg rutkowski", None, "a cat", "klimt style gold"]
    out = list(check_prompts(prompts))
    assert [len(x) for x in out] == [1, 0, 0, 1]
    starter = load_artist_names()
    import json
    from importlib import resources
    bundled = json.loads(resources.files("artlineage.matching").joinpath("data/artists_starter.json").read_text("utf-8"))
    assert [(e.name, e.living) for e in starter] == [(a["name"], a["living"]) for a in bundled["artists"]]
    assert 200 <= len(starter) <= 400 and any(e.living is True for e in starter)
    csv = tmp_path / "names.csv"
    csv.write_text("name,aliases,living\nNina Example,N. Example|Nina Ex,true\n", encoding="utf-8")
    loaded = load_artist_names(csv)
    assert loaded == [ArtistEntry("Nina Example", ("N. Example", "Nina Ex"), True, source="names.csv")]
    assert load_artist_names("name\nSolo Name\n")[0].name == "Solo Name"
    guard = PromptGuard(loaded)
    assert guard.check("poster by nina ex")[0].artist == "Nina Example"
    with pytest.raises(ValueError):
        load_artist_names("title\nx\n")
    assert normalize_text("  Frída  KAHLO! ") == "frida kahlo"


def test_hostile_prompt_finds_nothing():  # its time: benchmarks/bench_hostile_inputs.py
    assert check_prompt(("by " + "a" * 50 + " (") * 2000) == []


# Misspelt names as bare comma-list items, no trigger word: found through the trigram candidates.
BARE_MISSPELLINGS = [
    ("portrait, greg rutkowsky, artstation, 8k", "Greg Rutkowski", "greg rutkowsky"),
    ("alphonse mucah, art nouveau, poster", "Alphonse Mucha", "alphonse mucah"),
    ("anime city, makoto shinkay, 4k wallpaper", "Makoto Shinkai", "makoto shinkay"),
    ("old man, rembrant, dramatic", "Rembrandt", "rembrant"),
    ("dark surreal ruins, beksinsky", "Zdzisław Beksiński", "beksinsky"),
    ("castle, greg_rutkowsky 8k", "Greg Rutkowski", "greg_rutkowsky"),
    ("Greg Rutkowsky, Alphonse Mucah", "Greg Rutkowski", "Greg Rutkowsky"),
]


@pytest.mark.parametrize("prompt,artist,text", BARE_MISSPELLINGS)
def test_misspelt_names_in_bare_lists_are_found(prompt, artist, text):
    found = check_prompt(prompt)
    assert found and found[0].artist == artist and found[0].matched_as == "fuzzy" and found[0].text == text
    assert prompt[found[0].start:found[0].end] == text


def test_two_misspellings_in_one_bare_list():
    assert [m.artist for m in check_prompt("Greg Rutkowsky, Alphonse Mucah")] == ["Greg Rutkowski", "Alphonse Mucha"]


def test_50k_generated_prompts_without_artists_match_nothing():
    import random
    words = ("castle hill portrait young woman cyberpunk city night old fisherman dragon mountains still life fruit "
             "forest spirit spaceship interior cat wearing crown lighthouse storm samurai rain cozy library highly "
             "detailed golden hour octane render trending artstation volumetric light sharp focus concept art oil "
             "canvas matte painting cinematic bokeh sea surrounded flowers soft lighting intricate unreal engine "
             "dramatic sky sergeant general monetary moneyed darkness landscape photography watercolor sketch "
             "illustration character design fantasy medieval futuristic neon glowing ethereal dreamy atmosphere "
             "masterpiece best quality ultra realistic photorealistic hyperrealistic studio ghibli inspired "
             "wallpaper background foreground composition symmetrical centered closeup wide angle lens "
             "depth field mist fog sunrise sunset twilight reflections water river ocean waves beach desert "
             "jungle temple ruins statue marble bronze silver emerald crimson azure violet amber ivory").split()
    rnd = random.Random(5)
    guard = PromptGuard(load_artist_names())
    prompts = [", ".join(" ".join(rnd.sample(words, rnd.randint(1, 3))) for _ in range(rnd.randint(2, 7)))
               for _ in range(50_000)]
    flagged = [(p, [m.text for m in found]) for p, found in zip(prompts, guard.check_many(prompts)) if found]
    assert flagged == []


def test_check_many_batches_agree_with_check_one_by_one():
    # check_many runs the automaton once over batches of joined prompts: a name split across two
    # prompts ("..., greg" then "rutkowski, ...") must not match, and non-ASCII prompts, None and ""
    # in a batch are handled as check() handles them alone.
    base = ["castle, greg", "rutkowski, 8k", "by greg rutkowsky", None, "", "Zdzisław Beksiński, dark",
            "portrait, (artgerm:1.2)", "alphonse mucah, poster", "a cat", "starry night, van gogh style"]
    prompts = [base[i % len(base)] for i in range(700)]        # several batches, names at their edges
    guard = PromptGuard(load_artist_names())
    many = list(guard.check_many(prompts))
    one = [PromptGuard(load_artist_names()).check(p) if p else [] for p in prompts[:len(base)]]
    assert many[:len(base)] == one
    assert all(many[i] == many[i % len(base)] for i in range(len(prompts)))
    assert many[0] == [] and [m.artist for m in many[5]] == ["Zdzisław Beksiński"]
    assert [m.text for m in many[1]] == ["rutkowski"]    # the alias alone, not "greg" from the prompt before


def test_one_guard_shared_by_threads_finds_every_name(monkeypatch):
    """The platform shares one guard between request threads; its caches must not lose matches.

    A tiny cache bound makes every check clear the shared caches, as a big deployment does once
    in a while, and a short switch interval makes the threads interleave inside ``check``.
    """
    import sys
    import threading

    import artlineage.matching.prompt_guard as prompt_guard

    guard = PromptGuard(load_artist_names())
    monkeypatch.setattr(prompt_guard, "_BARE_CACHE_MAX", 4)
    subjects = ["castle", "meadow", "harbour", "citadel", "mountain", "glacier"]
    missed: list[tuple[int, int]] = []

    def work(thread: int) -> None:
        for i in range(300):
            text = f"{subjects[i % 6]} scene, greg rutkowsky, lighthouse number{thread}x{i} tower"
            if [m.artist for m in guard.check(text)] != ["Greg Rutkowski"]:
                missed.append((thread, i))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert missed == []
