"""Who may change what: an artist's account edits only its own artist record and works; admins edit any."""

from __future__ import annotations

from ...errors import PermissionDenied
from .models import User


class PermissionsMixin:
    @staticmethod
    def can_edit_artist(user: User | None, artist_id: int) -> bool:
        return user is not None and (user.is_admin or user.artist_id == artist_id)

    def require_artist(self, user: User | None, artist_id: int) -> None:
        if user is None:
            raise PermissionError("sign in or use an API key")
        if not self.can_edit_artist(user, artist_id):
            raise PermissionDenied(f"you may edit only your own artist record (#{user.artist_id})")
