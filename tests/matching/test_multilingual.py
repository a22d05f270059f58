"""The prompt guard in other scripts and languages: unsegmented text, declined names, style markers,
full-width forms, transliteration between scripts (artlineage.matching._multilingual)."""

import threading

import pytest

from artlineage.matching import _multilingual as ml
from artlineage.matching.artist_names import ArtistEntry, load_artist_names, merge_entries
from artlineage.matching.prompt_guard import PromptGuard, check_prompt, normalize_text

# (prompt, artist, text as written, matched_as, trigger) against the bundled starter list.
FOUND = [
    ("宮崎駿風の風景", "Hayao Miyazaki", "宮崎駿", "alias", "style"),                 # Japanese, no spaces
    ("宫崎骏风格的森林", "Hayao Miyazaki", "宫崎骏", "alias", "style"),               # simplified, from 宮崎駿
    ("以宫崎骏的风格画一座城堡", "Hayao Miyazaki", "宫崎骏", "alias", "style"),
    ("Miyazaki Hayao style forest", "Hayao Miyazaki", "Miyazaki Hayao", "alias", "style"),   # family name first
    ("в стиле Шишкина", "Ivan Shishkin", "Шишкина", "inflected", "by"),                # Russian genitive
    ("картина в стиле Ивана Айвазовского", "Ivan Aivazovsky", "Ивана Айвазовского", "inflected", "by"),
    ("портрет в стиле Кувшинова", "Ilya Kuvshinov", "Кувшинова", "inflected", "by"),
    ("Илья Кувшинов, portrait", "Ilya Kuvshinov", "Илья Кувшинов", "exact", None),  # transliterates to the name
    ("Ivan Shishkin, forest", "Ivan Shishkin", "Ivan Shishkin", "exact", None),
    ("Иван Шишкин, лес", "Ivan Shishkin", "Иван Шишкин", "exact", None),
    ("Кандинский", "Wassily Kandinsky", "Кандинский", "alias", None),                  # -ский meets -sky
    ("w stylu Beksińskiego, ruiny", "Zdzisław Beksiński", "Beksińskiego", "inflected", "by"),  # Polish
    ("w stylu Grega Rutkowskiego", "Greg Rutkowski", "Grega Rutkowskiego", "inflected", "by"),
    ("plakát ve stylu Muchy", "Alphonse Mucha", "Muchy", "inflected", "by"),         # Czech
    ("im Stil von Claude Monet", "Claude Monet", "Claude Monet", "exact", "by"),        # German
    ("à la manière de Monet", "Claude Monet", "Monet", "alias", "by"),                  # French
    ("un castillo al estilo de Goya", "Francisco Goya", "Goya", "alias", "by"),        # Spanish
    ("un paesaggio nello stile di Caravaggio", "Caravaggio", "Caravaggio", "exact", "by"),
    ("ｇｒｅｇ　ｒｕｔｋｏｗｓｋｉ, ８ｋ", "Greg Rutkowski", "ｇｒｅｇ\u3000ｒｕｔｋｏｗｓｋｉ", "exact", None),  # full width
    ("김정기 스타일", "Kim Jung Gi", "김정기", "alias", "style"),                          # Korean, spaced
    ("김정기풍 일러스트", "Kim Jung Gi", "김정기", "alias", "style"),                     # particle attached
    ("ミュシャ風のポスター", "Alphonse Mucha", "ミュシャ", "alias", "style"),               # katakana
    ("梵高风格星空", "Vincent van Gogh", "梵高", "alias", "style"),
    ("北斎風の波", "Katsushika Hokusai", "北斎", "alias", "style"),
]


@pytest.mark.parametrize("prompt,artist,text,how,trigger", FOUND)
def test_names_in_other_scripts_and_languages(prompt, artist, text, how, trigger):
    got = check_prompt(prompt)
    assert [(m.artist, m.text, m.matched_as, m.trigger) for m in got] == [(artist, text, how, trigger)]
    m = got[0]
    assert prompt[m.start:m.end] == text
    assert not m.ambiguous and m.confidence >= 0.75


NOT_FOUND = [
    "宮崎県の海",             # Miyazaki prefecture: 宮崎 alone is not the artist
    "ダリアの花",             # dahlia: ダリ (Dalí) inside a longer katakana word
    "이김정기",               # a Hangul name needs a boundary on its left
    "ヴィンチ",
    "a cat in the garden, 8k",
    "un chat sur le toit, style aquarelle",
    "кот на крыше, акварель",
]


@pytest.mark.parametrize("prompt", NOT_FOUND)
def test_words_that_only_contain_a_name_are_not_matched(prompt):
    assert check_prompt(prompt) == []


@pytest.mark.parametrize("prompt,artist", [
    ("moneta d'oro su un tavolo", "Claude Monet"),     # Italian coin: a declined form of "Monet"
    ("mucha luz, ventana", "Alphonse Mucha"),           # Spanish "much"
    ("北斎", "Katsushika Hokusai"),                      # two Han characters, no style marker
    ("Rutkowskiego", "Greg Rutkowski"),                 # a declined one-word name, no marker
])
def test_ordinary_words_warn_at_low_confidence_at_most(prompt, artist):
    (m,) = check_prompt(prompt)
    assert m.artist == artist and m.ambiguous and m.decision == "warn" and m.confidence < 0.5
    # even when the artist's terms forbid imitation
    guard = PromptGuard(merge_entries([ArtistEntry(artist, living=True, artist_id=1, style_imitation="not_allowed",
                                                   source="registry")], load_artist_names()))
    assert guard.check(prompt)[0].decision == "warn"


def test_registry_terms_apply_to_every_spelling():
    guard = PromptGuard(merge_entries([ArtistEntry("Hayao Miyazaki", living=True, artist_id=7,
                                                   style_imitation="not_allowed", source="registry")],
                                      load_artist_names()))
    for p in ("宮崎駿風の風景", "宫崎骏风格", "Miyazaki Hayao style", "in the style of hayao miyazaki"):
        (m,) = guard.check(p)
        assert (m.artist_id, m.decision) == (7, "block"), p


def test_thai_names_are_found_inside_unsegmented_text():
    guard = PromptGuard([ArtistEntry("Vincent van Gogh", ("แวนโก๊ะ",), living=False)])
    (m,) = guard.check("ภาพวาดสไตล์แวนโก๊ะดอกทานตะวัน")      # "painting, van-gogh style, sunflowers"
    assert m.text == "แวนโก๊ะ" and m.trigger == "by" and m.artist == "Vincent van Gogh"


def test_latin_registry_name_meets_cyrillic_and_back():
    latin = PromptGuard([ArtistEntry("Taras Shevchenko", living=False)])
    (m,) = latin.check("у стилі Тараса Шевченка")                # Ukrainian genitive of both words
    assert (m.text, m.matched_as, m.trigger) == ("Тараса Шевченка", "inflected", "by")
    cyrillic = PromptGuard([ArtistEntry("Архип Куинджи", living=False)])
    (m,) = cyrillic.check("moonlight night by Arkhip Kuindzhi")
    assert (m.artist, m.matched_as) == ("Архип Куинджи", "exact")


def test_folding():
    assert normalize_text("Иван Шишкин") == "ivan shishkin"
    assert normalize_text("ＧＲＥＧ　Ｒｕｔｋｏｗｓｋｉ") == "greg rutkowski"
    assert normalize_text("Zdzisław Beksiński") == "zdzislaw beksinski"
    assert normalize_text("Илья") == "ilya"                   # the soft sign's apostrophe is dropped
    assert normalize_text("宮崎駿 김정기") == "宮崎駿 김정기"     # kept as written


def test_variants_are_bounded_and_generated_per_name():
    assert ml.han_variants("宮崎駿") >= {"宫崎骏"}
    assert "澤" in "".join(ml.han_variants("沢"))
    assert ml.reordered_variants("hayao miyazaki") == {"miyazaki hayao"}
    assert ml.reordered_variants("n c wyeth") == set()
    assert ml.spelling_variants("wassily kandinsky") >= {"wassily kandinskiy", "wassily kandinskii"}
    assert "rutkowsky" not in ml.spelling_variants("rutkowski")     # a Latin misspelling stays fuzzy
    forms = ml.inflected_variants("ivan shishkin")
    assert {"ivan shishkina", "ivana shishkina", "ivan shishkinym"} <= forms and len(forms) < 40
    assert ml.inflected_variants("dali") == set() and ml.inflected_variants("lee") == set()
    assert {"kandinskogo", "kandinskiego"} <= ml.inflected_variants("kandinsky")
    guard = PromptGuard(load_artist_names())
    assert 0 < guard.variant_count < 60 * len(guard.entries)


def test_a_guard_can_be_shared_across_threads():
    guard = PromptGuard(load_artist_names())
    prompts = [p for p, *_ in FOUND] * 5
    expected = [[(m.artist, m.start) for m in guard.check(p)] for p in prompts]
    errors: list[str] = []

    def work():
        for p, want in zip(prompts, expected):
            got = [(m.artist, m.start) for m in guard.check(p)]
            if got != want:
                errors.append(p)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_check_many_batches_other_scripts_exactly_as_check_one_by_one():
    # check_many folds the non-ASCII prompts of a batch and runs the automaton once over them joined;
    # a name must not run across two of them ("..., Ивана" then "Шишкина ..."), and every result (hits,
    # triggers, brackets, bare misspelt list items, nothing) must be the one check() gives alone.
    base = ["宮崎駿風の風景, 高品質", "пейзаж в стиле Шишкина, масло", "кот, Ивана", "Шишкина, акварель",
            "zamek w stylu Beksińskiego, 8k", "eine Burg im Stil von Caspar David Friedrich", None, "",
            "un jardin à la manière de Monet, (best quality:1.2)", "宫崎骏风格的森林, 杰作", "김정기 스타일, 고품질",
            "夕焼けの海辺の猫, 高品質", "ｈｉｇｈ　ｑｕａｌｉｔｙ， ８ｋ", "château, Zdzisław Beksińsky, sombre",
            "(Иван Шишкин:1.3), лес", "a castle by greg rutkowski, 8k", "кот на крыше, акварель, forêt",
            "ミュシャ, ポスター", "alphonse mucah, poster"]
    prompts = [base[i % len(base)] for i in range(600)]        # several batches, names at their edges
    many = list(PromptGuard(load_artist_names()).check_many(prompts))
    alone = PromptGuard(load_artist_names())
    one = [alone.check(p) if p else [] for p in base]
    assert many[:len(base)] == one
    assert all(many[i] == one[i % len(base)] for i in range(len(prompts)))
    assert [m.artist for m in many[1]] == ["Ivan Shishkin"] and many[1][0].trigger == "by"
    assert [m.text for m in many[3]] == ["Шишкина"]        # the declined surname alone, not "Ивана Шишкина"
    assert [m.text for m in many[13]] == ["Zdzisław Beksińsky"] and many[13][0].matched_as == "fuzzy"
    assert many[11] == [] and many[12] == []
