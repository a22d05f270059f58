"""Influence lineage: who an artist (or work) was influenced by, and whom they influenced, to a depth.

Breadth-first, one query per level (``WHERE source_id IN (frontier)``), rather than a recursive CTE:
the same SQL runs on SQLite and PostgreSQL, a visited set guards against cycles, and the work is
bounded by ``depth`` and ``max_nodes`` even on a dense graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Artist, ArtistInfluence, Work, WorkInfluence
from ._store import ArtistRef, RegistryError, get_work, resolve_artist

MAX_DEPTH = 50
MAX_NODES = 10_000
_IN_CHUNK = 500  # keeps IN lists well under SQLite's bound-parameter limit


@dataclass(frozen=True)
class LineageNode:
    id: int
    name: str
    depth: int  # 1 = direct
    via: int  # the node one step closer to the root through which this one was reached
    note: str | None = None
    source_of_claim: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "depth": self.depth, "via": self.via, "note": self.note,
                "source_of_claim": self.source_of_claim}


@dataclass(frozen=True)
class Lineage:
    """``ancestors``: influenced the root (directly at depth 1); ``descendants``: were influenced by it."""

    kind: str  # "artist" or "work"
    root_id: int
    root_name: str
    depth: int
    ancestors: list[LineageNode] = field(default_factory=list)
    descendants: list[LineageNode] = field(default_factory=list)
    truncated: bool = False  # max_nodes was reached

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "root": {"id": self.root_id, "name": self.root_name}, "depth": self.depth,
                "ancestors": [n.to_dict() for n in self.ancestors],
                "descendants": [n.to_dict() for n in self.descendants], "truncated": self.truncated}


def _walk(session: Session, edge: Any, root: int, upward: bool, depth: int,
          max_nodes: int) -> tuple[list[tuple[int, int, int, str | None, str | None]], bool]:
    """(node, depth, via, note, claim) reached from ``root``; upward follows source -> target."""
    near, far = (edge.source_id, edge.target_id) if upward else (edge.target_id, edge.source_id)
    seen = {root}
    found: list[tuple[int, int, int, str | None, str | None]] = []
    frontier = [root]
    for level in range(1, depth + 1):
        nxt: list[int] = []
        for i in range(0, len(frontier), _IN_CHUNK):
            chunk = frontier[i:i + _IN_CHUNK]
            rows = session.execute(select(near, far, edge.note, edge.source_of_claim)
                                   .where(near.in_(chunk)).order_by(near, far))
            for via, node, note, claim in rows:
                if node in seen:  # cycle or diamond: keep the shortest path only
                    continue
                if len(found) >= max_nodes:
                    return found, True
                seen.add(node)
                found.append((node, level, via, note, claim))
                nxt.append(node)
        if not nxt:
            break
        frontier = nxt
    return found, False


def _check_depth(depth: int) -> int:
    depth = int(depth)
    if not 1 <= depth <= MAX_DEPTH:
        raise RegistryError(f"depth must be between 1 and {MAX_DEPTH}")
    return depth


def _names(session: Session, model: Any, label: Any, ids: set[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    idlist = sorted(ids)
    for i in range(0, len(idlist), _IN_CHUNK):
        rows = session.execute(select(model.id, label).where(model.id.in_(idlist[i:i + _IN_CHUNK])))
        out.update((node_id, name) for node_id, name in rows)
    return out


def _build(session: Session, kind: str, edge: Any, model: Any, label: Any, root_id: int, root_name: str,
           depth: int, max_nodes: int) -> Lineage:
    depth = _check_depth(depth)
    up, cut_up = _walk(session, edge, root_id, True, depth, max_nodes)
    down, cut_down = _walk(session, edge, root_id, False, depth, max_nodes)
    names = _names(session, model, label, {n[0] for n in up + down})

    def nodes(rows: list[tuple[int, int, int, str | None, str | None]]) -> list[LineageNode]:
        return [LineageNode(n, names.get(n) or f"#{n}", d, v, note, claim) for n, d, v, note, claim in rows]

    return Lineage(kind, root_id, root_name, depth, nodes(up), nodes(down), cut_up or cut_down)


def lineage(session: Session, artist: ArtistRef, depth: int = 3, max_nodes: int = MAX_NODES) -> Lineage:
    """Ancestors (influences) and descendants of an artist up to ``depth`` steps; cycles are safe."""
    a = resolve_artist(session, artist)
    return _build(session, "artist", ArtistInfluence, Artist, Artist.name, a.id, a.name, depth, max_nodes)


def work_lineage(session: Session, work_id: int, depth: int = 3, max_nodes: int = MAX_NODES) -> Lineage:
    """The same for works; a work's name is its title (or its location)."""
    w = get_work(session, int(work_id))
    return _build(session, "work", WorkInfluence, Work, Work.title, w.id, w.title or w.location or f"#{w.id}",
                  depth, max_nodes)
