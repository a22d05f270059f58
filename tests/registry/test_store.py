import datetime as dt

import pytest

from artlineage.registry import (SCOPES, AmbiguousArtistError, NotFoundError, RegistryError, normalize_name,
                                 phash_from_db, phash_to_db)

D = dt.date


def test_names_match_ignoring_case_accents_and_punctuation(registry):
    frida = registry.add_artist("Frida Kahlo", aliases=[("Frída Kahlo de Rivera", "spelling"), "Magdalena Carmen"])
    registry.add_artist("Hokusai", aliases=[("葛飾北斎", "transliteration"), ("Hokusia", "misspelling")])
    assert registry.find_artist("FRÍDA   kahlo").id == frida.id
    assert registry.find_artist("frida kahlo de rivera").id == frida.id
    assert registry.find_artist("magdalena-carmen").id == frida.id
    assert registry.find_artist("hokusia").name == "Hokusai"
    assert registry.find_artist("葛飾北斎").name == "Hokusai"
    assert registry.find_artist("Diego Rivera") is None
    assert normalize_name("Ｈｏｋｕｓａｉ,  Katsushika") == "hokusai katsushika"  # NFKD folds full-width


def test_all_artist_names_lists_main_names_and_every_alias(registry):
    a = registry.add_artist("Hokusai", aliases=[("葛飾北斎", "transliteration")])
    b = registry.add_artist("Rembrandt", aliases=["Rembrandt van Rijn"])
    names = set(registry.all_artist_names())
    assert names == {(a.id, "Hokusai", "name"), (a.id, "葛飾北斎", "transliteration"),
                     (b.id, "Rembrandt", "name"), (b.id, "Rembrandt van Rijn", "alias")}


def test_resolve_refuses_ambiguous_names_and_accepts_ids(registry):
    one = registry.add_artist("John Smith")
    two = registry.add_artist("John Smith", birth_year=1950)
    with pytest.raises(AmbiguousArtistError):
        registry.get_artist("john smith")
    assert registry.get_artist(f"#{two.id}").birth_year == 1950
    assert registry.get_artist(one.id).id == one.id
    with pytest.raises(NotFoundError):
        registry.get_artist("nobody")
    with pytest.raises(RegistryError):
        registry.add_artist("  ...  ")
    with pytest.raises(RegistryError):
        registry.add_artist("X", aliases=[("Y", "nickname")])


def test_terms_history_is_kept_and_current_resolves_by_date(registry):
    a = registry.add_artist("Ana Mendieta")
    first = registry.set_terms(a.id, ai_training="not_allowed", data_mining="allowed", valid_from="2023-01-01",
                               source="https://example.org/terms-v1")
    second = registry.set_terms(a.id, data_mining="not_allowed", style_imitation="allowed_with_credit",
                                valid_from=D(2024, 6, 1))
    history = registry.terms_history(a.id)
    assert [t.id for t in history] == [first.id, second.id]
    assert history[0].valid_to == D(2024, 6, 1) and history[1].valid_to is None  # closed, not overwritten
    assert history[0].data_mining == "allowed" and history[0].source == "https://example.org/terms-v1"
    now = registry.current_terms(a.id)
    # ai_training was not restated: it carries over from the previous terms
    assert {s: now.value(s) for s in SCOPES} == {"ai_training": "not_allowed", "generative_training": None,
                                                "data_mining": "not_allowed", "style_imitation": "allowed_with_credit"}
    assert now.scopes["data_mining"].terms_id == second.id
    past = registry.current_terms(a.id, at="2023-12-31")
    assert past.value("data_mining") == "allowed" and past.value("style_imitation") is None
    assert past.scopes["data_mining"].terms_id == first.id
    assert registry.current_terms(a.id, at=D(2022, 1, 1)).value("ai_training") is None  # before any terms
    assert registry.current_terms(a.id, at=D(2024, 6, 1)).scopes["data_mining"].terms_id == second.id
    with pytest.raises(RegistryError):  # history is append-only in time
        registry.set_terms(a.id, ai_training="allowed", valid_from="2020-01-01")
    with pytest.raises(RegistryError):
        registry.set_terms(a.id, ai_training="maybe")
    with pytest.raises(TypeError, match="face_swapping"):  # the scopes are explicit parameters
        registry.set_terms(a.id, face_swapping="allowed")


def test_work_terms_override_artist_terms_scope_by_scope(registry):
    a = registry.add_artist("Käthe Kollwitz")
    other = registry.add_artist("Someone Else")
    w = registry.add_work(a.id, title="Self-portrait", location="https://example.org/w1.jpg", sha256="ab" * 32)
    artist_row = registry.set_terms(a.id, ai_training="not_allowed", data_mining="not_allowed",
                                    valid_from="2024-01-01")
    work_row = registry.set_terms(a.id, work=w.id, data_mining="allowed_with_credit", valid_from="2024-02-01")
    r = registry.current_terms(a.id, work=w.id)
    assert (r.value("data_mining"), r.scopes["data_mining"].level, r.scopes["data_mining"].terms_id) == \
        ("allowed_with_credit", "work", work_row.id)
    assert (r.value("ai_training"), r.scopes["ai_training"].level, r.scopes["ai_training"].terms_id) == \
        ("not_allowed", "artist", artist_row.id)
    assert r.scopes["style_imitation"].level is None
    before = registry.current_terms(a.id, work=w.id, at="2024-01-15")  # work terms not yet in force
    assert before.value("data_mining") == "not_allowed" and before.scopes["data_mining"].level == "artist"
    assert registry.current_terms(a.id).value("data_mining") == "not_allowed"  # artist level unchanged
    assert len(registry.terms_history(a.id, all_levels=True)) == 2
    with pytest.raises(RegistryError):  # a work belongs to one artist
        registry.set_terms(other.id, work=w.id, ai_training="allowed")


def test_explicit_unknown_clears_a_scope_and_same_day_change_wins(registry):
    a = registry.add_artist("Artist")
    registry.set_terms(a.id, ai_training="allowed", valid_from="2024-01-01")
    registry.set_terms(a.id, ai_training="unknown", style_imitation="not_allowed", valid_from="2024-01-01")
    r = registry.current_terms(a.id, at="2024-01-01")
    assert r.value("ai_training") is None and r.value("style_imitation") == "not_allowed"
    assert len(registry.terms_history(a.id)) == 2


def test_work_hashes_keep_all_64_bits_and_duplicates_are_not_added(registry):
    a = registry.add_artist("Hasher")
    w = registry.add_work(a.id, title="t", sha256="CD" * 32)
    again = registry.add_work(a.id, title="other title", sha256="cd" * 32)
    assert again.id == w.id and len(registry.list_works(a.id)) == 1
    top = (1 << 64) - 1
    registry.set_work_hashes(w.id, phash64=top, pdq256=bytes(range(32)))
    got = registry.get_work(w.id)
    assert got.phash64 == -1 and got.phash == top
    assert got.pdq256 == bytes(range(32)).hex()
    registry.set_work_hashes(w.id, phash64=1 << 63)  # pdq256 left out: unchanged
    [h] = registry.works_with_hashes()
    assert (h.work_id, h.artist_id, h.phash64, h.pdq256) == (w.id, a.id, 1 << 63, bytes(range(32)).hex())
    with pytest.raises(RegistryError):
        registry.set_work_hashes(w.id, phash64=1 << 64)
    with pytest.raises(RegistryError):
        registry.set_work_hashes(w.id, pdq256="xyz")
    assert [phash_from_db(phash_to_db(v)) for v in (0, 1, (1 << 63) - 1, 1 << 63, top)] == \
        [0, 1, (1 << 63) - 1, 1 << 63, top]


def test_deleting_an_artist_cascades(registry):
    from artlineage.registry import Artist, ConsentTerms, Work
    from sqlalchemy import func, select

    a = registry.add_artist("Gone", aliases=["G"])
    w = registry.add_work(a.id, title="x")
    registry.set_terms(a.id, work=w.id, ai_training="allowed")
    with registry.session() as s:
        s.delete(s.get(Artist, a.id))
    with registry.session() as s:
        assert s.scalar(select(func.count()).select_from(Work)) == 0
        assert s.scalar(select(func.count()).select_from(ConsentTerms)) == 0
    assert list(registry.all_artist_names()) == []


def test_work_hash_stats_count_and_largest_id_of_hashed_works(registry):
    assert registry.work_hash_stats() == (0, 0)
    registry.add_artist("Stat Artist")
    registry.add_work("Stat Artist", title="a", phash64=1 << 63)
    registry.add_work("Stat Artist", title="unhashed")
    w = registry.add_work("Stat Artist", title="c", phash64=5)
    assert registry.work_hash_stats() == (2, w.id)


def test_match_index_folder_defaults_next_to_a_sqlite_file(tmp_path):
    from artlineage.registry.api import Registry, default_match_index_dir
    assert default_match_index_dir(f"sqlite:///{tmp_path}/r.sqlite") == tmp_path / "r.sqlite.index"
    assert default_match_index_dir("sqlite://") is None
    assert default_match_index_dir("postgresql+psycopg://u@h/db") is None
    with Registry(tmp_path / "r.sqlite", match_index=tmp_path / "elsewhere") as reg:
        assert reg.match_index_dir == tmp_path / "elsewhere"
