"""Artist name lists for the prompt guard: the bundled starter list, CSV/JSON imports, registry rows.

The bundled ``data/artists_starter.json`` is a *starter list* (~270 well-known names with aliases and
a living flag), not a source of consent terms. Terms come from the artists' registry; see
``artlineage.matching.match.guard_entries_from_registry``.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Iterable

MAX_NAMES = 2_000_000   # a names file is data we did not write: bound it
MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class ArtistEntry:
    """One artist as the prompt guard sees it."""

    name: str                                  # canonical display name
    aliases: tuple[str, ...] = ()
    living: bool | None = None                 # None = unknown
    artist_id: int | None = None               # registry id when it came from the registry
    style_imitation: str | None = None         # registry terms: allowed / allowed_with_credit / not_allowed / None
    source: str = "starter"
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def all_names(self) -> list[tuple[str, str]]:
        """(name, kind) with kind "name" for the canonical one and "alias" for the others."""
        return [(self.name, "name")] + [(a, "alias") for a in self.aliases]


def _parse_living(value) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    v = str(value).strip().casefold()
    if v in ("1", "true", "yes", "y", "living", "alive"):
        return True
    if v in ("0", "false", "no", "n", "dead", "deceased"):
        return False
    return None


def _entry(name: str, aliases: Iterable[str], living, source: str) -> ArtistEntry | None:
    name = " ".join(str(name).split())[:MAX_NAME_CHARS]
    if not name:
        return None
    clean = tuple(dict.fromkeys(" ".join(a.split())[:MAX_NAME_CHARS] for a in aliases if a and a.strip()))
    return ArtistEntry(name=name, aliases=clean, living=_parse_living(living), source=source)


def load_artist_names(path_or_csv: str | os.PathLike[str] | None = None) -> list[ArtistEntry]:
    """Load artist names.

    ``None`` -> the bundled starter list. A path to a ``.json`` file in the starter-list shape
    (``{"artists": [{"name", "aliases", "living"}]}`` or a bare list), a path to a CSV file, or CSV
    text itself (anything containing a newline). CSV columns: ``name`` (required), ``aliases``
    (separated by ``|`` or ``;``), ``living`` (true/false/empty).
    """
    if path_or_csv is None:
        text = resources.files("artlineage.matching").joinpath("data/artists_starter.json").read_text("utf-8")
        return _from_json(json.loads(text), "starter")
    if isinstance(path_or_csv, str) and "\n" in path_or_csv:
        return _from_csv(io.StringIO(path_or_csv), "csv")
    path = Path(path_or_csv)
    if path.suffix.lower() == ".json":
        return _from_json(json.loads(path.read_text("utf-8")), path.name)
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return _from_csv(fh, path.name)


def _from_json(doc, source: str) -> list[ArtistEntry]:
    rows = doc.get("artists", []) if isinstance(doc, dict) else doc
    if not isinstance(rows, list) or len(rows) > MAX_NAMES:
        raise ValueError("artist names JSON: expected a list of at most %d artists" % MAX_NAMES)
    out = []
    for r in rows:
        if isinstance(r, str):
            r = {"name": r}
        if not isinstance(r, dict) or not isinstance(r.get("name"), str):
            raise ValueError(f"artist names JSON: bad row {str(r)[:80]!r}")
        e = _entry(r["name"], [a for a in r.get("aliases") or [] if isinstance(a, str)], r.get("living"), source)
        if e:
            out.append(e)
    return out


def _from_csv(fh, source: str) -> list[ArtistEntry]:
    reader = csv.DictReader(fh)
    if not reader.fieldnames or "name" not in [f.strip().casefold() for f in reader.fieldnames]:
        raise ValueError("artist names CSV needs a 'name' column")
    out = []
    for i, row in enumerate(reader):
        if i >= MAX_NAMES:
            raise ValueError(f"artist names CSV: more than {MAX_NAMES} rows")
        row = {(k or "").strip().casefold(): (v or "") for k, v in row.items()}
        aliases = row.get("aliases", "").replace(";", "|").split("|")
        e = _entry(row["name"], aliases, row.get("living") or None, source)
        if e:
            out.append(e)
    return out


def merge_entries(*lists: Iterable[ArtistEntry]) -> list[ArtistEntry]:
    """Merge lists; an entry whose canonical name matches an earlier one (normalised) is folded into
    it: aliases are united, and the earlier entry's registry facts win. Put the registry first."""
    from .prompt_guard import normalize_text

    by_key: dict[str, ArtistEntry] = {}
    for entries in lists:
        for e in entries:
            key = normalize_text(e.name)
            prev = by_key.get(key)
            if prev is None:
                by_key[key] = e
                continue
            by_key[key] = replace(prev, aliases=tuple(dict.fromkeys(prev.aliases + e.aliases)),
                                  living=prev.living if prev.living is not None else e.living)
    return list(by_key.values())
