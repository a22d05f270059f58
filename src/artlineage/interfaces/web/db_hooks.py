"""Database hooks of the platform: its sessions mark when a commit wrote anything, and the commit then
bumps the platform's data version (``Platform.changed``), so every write path invalidates the caches."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session


class PlatformSession(Session):
    """Sessions of the platform: a commit that wrote anything bumps the platform's data version (see
    ``Platform.changed``), so every write path invalidates the caches, whether or not its handler
    remembers to, and only once the data is visible to other connections."""


def _mark_written(session: Session, *_args: Any) -> None:
    session.info["wrote"] = True


def _mark_bulk_write(state: Any) -> None:
    if not state.is_select:
        state.session.info["wrote"] = True


def _bump_after_commit(session: Session) -> None:
    if session.info.pop("wrote", False):
        platform = session.info.get("platform")
        if platform is not None:
            platform.changed()


def _forget_writes(session: Session, *_args: Any) -> None:
    session.info.pop("wrote", None)


event.listen(PlatformSession, "after_flush", _mark_written)
event.listen(PlatformSession, "do_orm_execute", _mark_bulk_write)
event.listen(PlatformSession, "after_commit", _bump_after_commit)
event.listen(PlatformSession, "after_rollback", _forget_writes)
