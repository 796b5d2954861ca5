"""Access tokens: read-only kiosk tokens for unattended screens, and API tokens for integrations.

A token is 32 random bytes; only its SHA-256 is stored. For a value with that much entropy a
fast hash is enough (nobody can guess their way to a preimage), and a lookup stays one map
read, cheap enough to check revocation on every request. Tokens never expire: a screen on a
wall must not log out. They end when revoked.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass

from dashboard.auth.maps import NamedMaps
from dashboard.auth.principal import KIOSK, ROLES, Principal, Scope

TOKENS = "auth:tokens"
TOKEN_ROLES: tuple[str, ...] = (KIOSK, *ROLES)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
#: A token longer than this is not one of ours; refused before hashing anything.
MAX_TOKEN_CHARS = 128


class TokenError(ValueError):
    """A token command that cannot be done."""


@dataclass(frozen=True)
class Token:
    """What is stored for a token: never the token itself."""

    id: str  # the first 12 hex digits of the hash, for listing and revoking
    name: str
    role: str
    scope: Scope | None
    screen: int | None
    created: float

    def principal(self) -> Principal:
        return Principal(name=self.name, role=self.role, via="token", screen=self.screen, scope=self.scope)

    def describe_scope(self) -> str:
        if self.scope == "screen":
            return f"screen {self.screen}"
        return self.scope or ("everything" if self.role == KIOSK else "api")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class TokenStore:
    def __init__(self, maps: NamedMaps) -> None:
        self.maps = maps

    def create(
        self, role: str, *, scope: Scope | None = None, screen: int | None = None, name: str | None = None
    ) -> tuple[Token, str]:
        """A new token and its secret value, which is shown once and never stored."""
        if role not in TOKEN_ROLES:
            raise TokenError(f"unknown role {role!r} (token roles: {', '.join(TOKEN_ROLES)})")
        if scope is not None and role != KIOSK:
            raise TokenError("--screen, --wall and --tablet are for kiosk tokens")
        if (scope == "screen") != (screen is not None):
            raise TokenError("a screen scope needs a screen number")
        taken = {t.name for t in self.list()}
        if name is None:
            name = self._free_name(_default_name(role, scope, screen), taken)
        elif not NAME_RE.match(name):
            raise TokenError(f"invalid token name {name[:64]!r}: 1-64 letters, digits or . _ @ -")
        elif name in taken:
            raise TokenError(f"a token named {name!r} exists (revoke it first or pick another name)")
        secret = secrets.token_urlsafe(32)
        hashed = digest(secret)
        token = Token(hashed[:12], name, role, scope, screen, time.time())
        self.maps.map_put(TOKENS, hashed, json.dumps(asdict(token), separators=(",", ":")))
        return token, secret

    def lookup(self, secret: str) -> Token | None:
        if not secret or len(secret) > MAX_TOKEN_CHARS:
            return None
        return self.lookup_digest(digest(secret))

    def lookup_digest(self, hashed: str) -> Token | None:
        raw = self.maps.map_get(TOKENS, hashed)
        return None if raw is None else Token(**json.loads(raw))

    def list(self) -> list[Token]:
        return sorted((Token(**json.loads(raw)) for raw in self.maps.map_all(TOKENS).values()), key=lambda t: (t.created, t.name))

    def revoke(self, name_or_id: str) -> builtins.list[Token]:
        """Revoke by name or by id; returns what was revoked (empty when nothing matched)."""
        gone = []
        for hashed, raw in self.maps.map_all(TOKENS).items():
            token = Token(**json.loads(raw))
            if name_or_id in (token.name, token.id) and self.maps.map_delete(TOKENS, hashed):
                gone.append(token)
        return gone

    @staticmethod
    def _free_name(base: str, taken: set[str]) -> str:
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        return name


def _default_name(role: str, scope: Scope | None, screen: int | None) -> str:
    if scope == "screen":
        return f"screen-{screen}"
    return scope or ("kiosk" if role == KIOSK else f"api-{role}")
