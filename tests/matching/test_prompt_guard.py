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
    ("Mucha poster, art nouveau", [("Alphonse Mucha", "alias", "allow")]),
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
    assert fuzzy.matched_as == "fuzzy" and 85 < fuzzy.score < 100 and fuzzy.confidence < 0.9


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


def test_hostile_prompt_is_bounded():
    import time
    t0 = time.perf_counter()
    res = check_prompt(("by " + "a" * 50 + " (") * 2000)
    assert time.perf_counter() - t0 < 2.0 and res == []
