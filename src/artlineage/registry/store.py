"""Deprecated home of the registry's session functions; use :class:`artlineage.registry.Registry`
(``Registry.in_session(session)`` inside a session you own). Kept so old imports keep working."""

import warnings

from ._store import *  # noqa: F403 - the old public names
from ._store import ArtistRef, ResolvedTerms, ScopeTerm, WorkHashes  # noqa: F401 - re-exported

warnings.warn("artlineage.registry.store is deprecated: use artlineage.registry.Registry "
              "(Registry.in_session(session) inside your own session)", DeprecationWarning, stacklevel=2)
