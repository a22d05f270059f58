"""The artists' registry: artists and their names, works (sha256 and perceptual hashes), consent
terms with history, influence lineage; SQLite or PostgreSQL, schema managed by Alembic.

Quick use::

    reg = Registry("registry.sqlite")
    a = reg.add_artist("Hokusai", aliases=["Katsushika Hokusai", ("葛飾北斎", "transliteration")])
    reg.set_terms(a.id, ai_training="not_allowed")
    reg.current_terms("katsushika hokusai").value("ai_training")  # 'not_allowed'

Inside a session you own (one unit of work with your own rows), the same methods:
``Registry.in_session(session).set_terms(...)``.
"""

from .api import AddedWork, Registry
from .io import RegistryImportError
from .lineage import Lineage, LineageNode
from .migrate import make_registry_engine, registry_url, upgrade_registry
from .models import (SCOPES, Artist, ArtistInfluence, ArtistName, ConsentTerms, NameKind, Permission,
                     RegistryBase, Work, WorkInfluence, phash_from_db, phash_to_db)
from .names import normalize_name
from ._store import (ArtistRef, AmbiguousArtistError, NotFoundError, RegistryError, ResolvedTerms, ScopeTerm, TermsConflict, WorkHashes,
                    set_work_hashes, works_with_hashes)

__all__ = [
    "Registry", "AddedWork", "ArtistRef", "RegistryError", "NotFoundError", "AmbiguousArtistError", "RegistryImportError",
    "TermsConflict",
    "Lineage", "LineageNode", "ResolvedTerms", "ScopeTerm", "WorkHashes",
    "upgrade_registry", "make_registry_engine", "registry_url",
    "RegistryBase", "Artist", "ArtistName", "Work", "ConsentTerms", "ArtistInfluence", "WorkInfluence",
    "NameKind", "Permission", "SCOPES", "phash_to_db", "phash_from_db", "normalize_name",
    "set_work_hashes", "works_with_hashes",
]
