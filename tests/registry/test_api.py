"""The one registry API: ``Registry`` on its own sessions, and the same methods inside a caller's
session (``Registry.in_session``), where the caller's commit or rollback decides."""

import datetime as dt
import importlib
import sys

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from artlineage.errors import RegistryError, TermsConflict
from artlineage.registry import Artist, ConsentTerms, NotFoundError, Registry


def test_a_bound_registry_commits_with_the_callers_transaction(registry):
    with Session(registry.engine) as s, s.begin():
        bound = Registry.in_session(s)
        a = bound.add_artist("Mira Okonkwo", aliases=["M. Okonkwo"])
        bound.set_terms(a.id, ai_training="not_allowed")
        # seen inside the caller's session before any commit ...
        assert bound.current_terms("m okonkwo").value("ai_training") == "not_allowed"
        assert registry.find_artist("Mira Okonkwo") is None  # ... and not outside it yet
    assert registry.current_terms("Mira Okonkwo").value("ai_training") == "not_allowed"


def test_a_bound_registry_is_rolled_back_with_the_callers_transaction(registry):
    with pytest.raises(RuntimeError), Session(registry.engine) as s, s.begin():
        Registry.in_session(s).add_artist("Rolled Back")
        raise RuntimeError("the caller's own step failed")
    assert registry.find_artist("Rolled Back") is None
    with Session(registry.engine) as s:
        assert s.scalar(select(func.count()).select_from(Artist)) == 0


def test_closing_a_bound_registry_leaves_the_callers_engine_open(registry):
    with Session(registry.engine) as s:
        bound = Registry.in_session(s)
        bound.close()
        assert bound.engine is registry.engine
        assert "password" not in bound.url or "***" in bound.url
    assert registry.add_artist("Still Open").name == "Still Open"


def test_update_artist_changes_only_the_fields_given_and_validates_them(registry):
    a = registry.add_artist("Hokusai", birth_year=1760, links=["https://example.org/a"])
    changed = registry.update_artist(a.id, name="Katsushika Hokusai", death_year=1849)
    assert (changed.name, changed.normalized, changed.birth_year, changed.death_year, changed.links) == \
        ("Katsushika Hokusai", "katsushika hokusai", 1760, 1849, ["https://example.org/a"])
    assert registry.find_artist("katsushika hokusai").id == a.id
    cleared = registry.update_artist(a.id, birth_year=None, links=None)
    assert (cleared.birth_year, cleared.links) == (None, [])
    with pytest.raises(RegistryError, match="at most 100 links"):
        registry.update_artist(a.id, links=[f"https://example.org/{i}" for i in range(101)])
    with pytest.raises(NotFoundError):
        registry.update_artist(999, name="Nobody")


def test_update_work_sets_and_clears_the_title(registry):
    a = registry.add_artist("Ada")
    w = registry.add_work(a.id, title="Old title", sha256="ab" * 32)
    assert registry.update_work(w.id, title="New title").title == "New title"
    assert registry.update_work(w.id).title == "New title"  # nothing given, nothing changed
    assert registry.update_work(w.id, title=None).title is None
    assert [x.id for x in registry.find_works_by_sha256("AB" * 32)] == [w.id]


def test_suggest_artists_matches_whole_words_only(registry):
    hokusai = registry.add_artist("Katsushika Hokusai")
    registry.add_artist("Hokusaiko")
    assert registry.find_artists("hokusai") == []
    assert [a.id for a in registry.suggest_artists("Hokusai")] == [hokusai.id]


def test_withdraw_terms_reopens_the_previous_entry_and_refuses_older_ones(registry):
    a = registry.add_artist("Ada")
    first = registry.set_terms(a.id, ai_training="allowed", valid_from="2024-01-01")
    mistake = registry.set_terms(a.id, ai_training="not_allowed", valid_from="2030-01-01")
    with pytest.raises(TermsConflict, match="not the latest"):
        registry.withdraw_terms(a.id, first.id)
    assert registry.withdraw_terms(a.id, mistake.id).id == mistake.id
    history = registry.terms_history(a.id)
    assert [(t.id, t.valid_to) for t in history] == [(first.id, None)]
    # an entry in force for longer than the grace period is part of the record
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)
    with pytest.raises(TermsConflict, match="in force since 2024-01-01"):
        registry.withdraw_terms(a.id, first.id, now=later)
    with pytest.raises(NotFoundError):
        registry.withdraw_terms(a.id, 999)
    with Session(registry.engine) as s:
        assert s.scalar(select(func.count()).select_from(ConsentTerms)) == 1


def test_the_old_store_module_still_imports_but_warns():
    sys.modules.pop("artlineage.registry.store", None)
    with pytest.warns(DeprecationWarning, match="Registry.in_session"):
        old = importlib.import_module("artlineage.registry.store")
    from artlineage.registry import _store
    assert old.add_artist is _store.add_artist and old.ResolvedTerms is _store.ResolvedTerms
