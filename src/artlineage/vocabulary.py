"""The one consent-use vocabulary: the uses a consent statement can reserve or allow, the names other
vocabularies give them (registry scopes, C2PA training-mining entries), and validation.

Uses nest in generality order: reserving ``data_mining`` reserves ``training``, which reserves
``generative_training`` (the IPTC PLUS DataMining vocabulary is built the same way). The artists'
registry calls training ``ai_training`` (its scope column); :func:`normalize_use` maps every accepted
name onto the canonical one and refuses anything else with a :class:`ConfigurationError` listing the
accepted names, so a typo never silently excludes nothing.
"""

from __future__ import annotations

from enum import Enum
from typing import Iterable

from .errors import ConfigurationError

__all__ = ["ConsentUse", "ALL_USES", "USE_ALIASES", "REGISTRY_SCOPE_OF_USE", "normalize_use", "normalize_uses",
           "use_of_name"]


class ConsentUse(str, Enum):
    TRAINING = "training"
    GENERATIVE_TRAINING = "generative_training"
    DATA_MINING = "data_mining"


ALL_USES: tuple[str, ...] = tuple(u.value for u in ConsentUse)

# Every name accepted for a use (lower case) -> the canonical use.
USE_ALIASES: dict[str, str] = {
    "training": "training", "ai_training": "training",
    "generative_training": "generative_training", "ai_generative_training": "generative_training",
    "data_mining": "data_mining", "tdm": "data_mining", "mining": "data_mining",
}
# The artists' registry's scope column for each use.
REGISTRY_SCOPE_OF_USE: dict[str, str] = {"training": "ai_training", "generative_training": "generative_training",
                                         "data_mining": "data_mining"}


def use_of_name(name: object) -> str | None:
    """The canonical use a name stands for, or None (no error: for reading other vocabularies' data)."""
    if isinstance(name, ConsentUse):
        return name.value
    return USE_ALIASES.get(str(name).strip().lower())


def normalize_use(name: object) -> str:
    """The canonical use for ``name``; :class:`ConfigurationError` for an unknown one."""
    use = use_of_name(name)
    if use is None:
        raise ConfigurationError(f"unknown consent use {name!r}; accepted: {', '.join(sorted(USE_ALIASES))}")
    return use


def normalize_uses(names: Iterable[object]) -> tuple[str, ...]:
    """Canonical uses, duplicates removed, in the given order; refuses a bare string (a common slip)."""
    if isinstance(names, (str, ConsentUse)):
        raise ConfigurationError(f"expected a sequence of consent uses, got the single value {names!r}")
    return tuple(dict.fromkeys(normalize_use(n) for n in names))
