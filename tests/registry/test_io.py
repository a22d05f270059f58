import json

import pytest

from artlineage.registry import Registry, RegistryImportError


def populate(reg):
    a = reg.add_artist("Hilma af Klint", sort_name="Klint, Hilma af", living=False, birth_year=1862,
                       death_year=1944, links=["https://example.org/hilma"],
                       aliases=[("Hilma af Klínt", "misspelling"), ("Хильма аф Клинт", "transliteration")])
    b = reg.add_artist("Agnes Pelton, \"the\" painter", living=None, aliases=["A. Pelton"])
    w1 = reg.add_work(a.id, title="The Ten Largest, No. 7", location="/art/ten7.png", sha256="0a" * 32,
                      phash64=(1 << 64) - 5, pdq256="f0" * 32, origin="human_declared",
                      verdict={"origin": "human_declared", "confidence": 0.9, "evidence": [{"x": [1, 2]}]})
    w2 = reg.add_work(b.id, title="Light, with\nnewline", location="https://example.org/p.jpg")
    reg.set_terms(a.id, ai_training="not_allowed", valid_from="2023-01-01", note="estate, v1")
    reg.set_terms(a.id, data_mining="allowed_with_credit", valid_from="2024-03-01", source="https://example.org/t")
    reg.set_terms(a.id, work=w1.id, ai_training="allowed", valid_from="2024-05-01")
    reg.add_influence(b.id, a.id, note="theosophy", source_of_claim="artist statement")
    reg.add_work_influence(w2.id, w1.id, note="echo")
    return a, b, w1, w2


def test_json_round_trip(tmp_path, registry):
    populate(registry)
    first = registry.export_json(tmp_path / "reg.json")
    with Registry(tmp_path / "copy.sqlite") as copy:
        counts = copy.import_json(tmp_path / "reg.json")
        assert counts == {"artists": 2, "works": 2, "terms": 3, "influences": 2}
        assert copy.export_document() == first
        assert copy.find_artist("hilma af klint").birth_year == 1862
        assert copy.current_terms("Hilma af Klint", work=1).value("ai_training") == "allowed"
        assert copy.get_work(1).phash == (1 << 64) - 5
    assert json.loads((tmp_path / "reg.json").read_text())["format"] == "artlineage-registry"


def test_csv_round_trip(tmp_path, registry):
    populate(registry)
    first = registry.export_csv(tmp_path / "csv")
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == \
        ["artists.csv", "influences.csv", "terms.csv", "works.csv"]
    with Registry(tmp_path / "copy.sqlite") as copy:
        copy.import_csv(tmp_path / "csv")
        assert copy.export_document() == first
        assert [n.name for n in copy.lineage("hilma af klint", depth=1).descendants] == ['Agnes Pelton, "the" painter']


def test_import_is_all_or_nothing_and_rejects_bad_documents(tmp_path, registry):
    a, *_ = populate(registry)
    doc = registry.export_document()
    doc["terms"][0]["ai_training"] = "perhaps"
    with Registry(tmp_path / "copy.sqlite") as copy:
        with pytest.raises(RegistryImportError, match="terms\\[0\\]"):
            copy.import_document(doc)
        assert copy.list_artists() == []  # rolled back
        with pytest.raises(RegistryImportError):
            copy.import_document({"format": "something else"})
        bad_ref = registry.export_document()
        bad_ref["works"][0]["artist_id"] = 999
        with pytest.raises(RegistryImportError, match="not an artist"):
            copy.import_document(bad_ref)
        nested = tmp_path / "nested.json"
        nested.write_text("[" * 100_000 + "]" * 100_000)
        with pytest.raises(RegistryImportError):
            copy.import_json(nested)


def test_import_appends_to_a_populated_registry_with_new_ids(tmp_path, registry):
    populate(registry)
    doc = registry.export_document()
    registry.import_document(doc)
    artists = registry.list_artists()
    assert len(artists) == 4 and len(registry.list_works()) == 4
    [_, second] = registry.find_artists("hilma af klint")
    assert len(registry.terms_history(second.id, all_levels=True)) == 3
    assert [n.name for n in registry.lineage(second.id, depth=1).descendants] == ['Agnes Pelton, "the" painter']
