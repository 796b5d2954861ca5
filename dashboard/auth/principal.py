"""Who is asking: a role ladder and the identity every request resolves to.

Roles form a ladder (each includes those before it), so a check is one comparison. A kiosk
is not on the ladder: it reads what its token allows and never writes, however it got in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ROLES: tuple[str, ...] = ("viewer", "operator", "supervisor", "admin")
KIOSK = "kiosk"
#: Where a kiosk token may look: one screen, the wall (and its screens), or the tablet.
Scope = Literal["screen", "wall", "tablet"]


@dataclass(frozen=True)
class Principal:
    """The identity of one request.

    ``via`` says how it was established: a login session (writes need CSRF proof), a bearer
    or kiosk token (no CSRF: a browser never sends it on its own), or nobody (anonymous read,
    when the config opens it).
    """

    name: str
    role: str
    via: str  # "session" | "token" | "anonymous"
    screen: int | None = None
    scope: Scope | None = None

    def can(self, role: str) -> bool:
        """True when this identity holds ``role`` or a higher one; kiosks and anonymous never."""
        if self.via == "anonymous" or self.role not in ROLES or role not in ROLES:
            return False
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def is_kiosk(self) -> bool:
        return self.role == KIOSK


ANONYMOUS = Principal(name="anonymous", role="viewer", via="anonymous")
