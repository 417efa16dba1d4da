"""Who may use the bot: roles by Telegram user id, from TRACKER_USERS (Settings.users).

Anyone not listed gets a polite refusal and nothing else. A listed user acts as an `Actor`
named ``telegram:<user id> (<username>)``, the name every event they record carries as
`recorded_by`; whether they may record is the role's business (`Role.can_record`), checked
again by the conversation and by the recorder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from telegram import User

from tracker.config import Role
from tracker.recording import Actor

_UNSAFE = re.compile(r"[\x00-\x1f\x7f()]")


class Access:
    """Roles by Telegram user id; nobody else is let in."""

    def __init__(self, users: Mapping[int, Role]) -> None:
        self._users = dict(users)

    def role(self, user_id: int) -> Role | None:
        return self._users.get(user_id)

    def allows(self, user: User | None) -> bool:
        return user is not None and user.id in self._users

    def actor(self, user: User) -> Actor | None:
        """The user as the tracker sees them, or None when they are not let in."""
        role = self.role(user.id)
        if role is None:
            return None
        return Actor(name=recorded_by(user), role=role)


def recorded_by(user: User) -> str:
    """``telegram:<id> (<username>)``: stable id first, readable name second."""
    label = user.username or user.full_name or "no username"
    # Names are free text chosen by the user: no control characters or parentheses (which
    # would make the id ambiguous to read back), and short.
    clean = " ".join(_UNSAFE.sub(" ", label).split())[:64] or "no username"
    return f"telegram:{user.id} ({clean})"
