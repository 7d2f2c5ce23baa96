"""Who acts: the acting-user type every service takes as an argument.

Services never read ``flask.request`` or ``current_user``; the view, API
endpoint, CLI command or worker that calls them says who acts and from where.
The user is whatever the accounts layer loaded (anything with the
:class:`ActingUser` attributes), so this module depends on nothing above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class ActingUser(Protocol):
    """What the layers below accounts may rely on in a logged-in user."""

    id: int
    email: str
    district_id: int | None

    @property
    def roles(self) -> frozenset[str]: ...

    @property
    def district_scope(self) -> int | None: ...

    def can(self, permission: str, obj: object = None) -> bool: ...


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where.  Services take it as an argument so that they
    run the same from a view, the API, the CLI or a worker."""

    user: ActingUser | None = None
    client_addr: str | None = None
    label: str | None = None

    @property
    def display(self) -> str:
        if self.user is not None:
            return self.user.email
        return self.label or "public"

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(None, None, label)
