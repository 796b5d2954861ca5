"""User accounts: name, role and an Argon2 hash, kept where every web worker sees them.

A user record also carries a ``stamp``, a random value renewed whenever the password
changes. Sessions carry the stamp they were issued with, so changing a password (or
removing the user) ends every session of that user on every worker, without a session table.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import asdict, dataclass

from dashboard.auth import passwords
from dashboard.auth.maps import NamedMaps
from dashboard.auth.principal import ROLES

USERS = "auth:users"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class UserError(ValueError):
    """A user command that cannot be done; the message says why and never holds a password."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    hash: str
    stamp: str
    created: float


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise UserError(f"invalid user name {name[:64]!r}: 1-64 letters, digits or . _ @ -, starting with a letter or digit")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    return role


class UserStore:
    """Accounts on a ``NamedMaps`` (the state store or a ``FileMaps``)."""

    def __init__(self, maps: NamedMaps) -> None:
        self.maps = maps

    def add(self, name: str, role: str, password: str) -> User:
        check_name(name)
        check_role(role)
        user = User(name, role, _hash(password), secrets.token_urlsafe(12), time.time())
        if not self.maps.map_put(USERS, name, _dump(user), only_new=True):
            raise UserError(f"user {name!r} exists (use 'users passwd' to change the password)")
        return user

    def passwd(self, name: str, password: str) -> User:
        """A new hash and a new stamp: every session of this user ends."""
        user = self._existing(name)
        changed = User(user.name, user.role, _hash(password), secrets.token_urlsafe(12), user.created)
        self.maps.map_put(USERS, name, _dump(changed))
        return changed

    def set_role(self, name: str, role: str) -> User:
        """A new stamp too: sessions must not keep the old role."""
        user = self._existing(name)
        changed = User(user.name, check_role(role), user.hash, secrets.token_urlsafe(12), user.created)
        self.maps.map_put(USERS, name, _dump(changed))
        return changed

    def remove(self, name: str) -> bool:
        return self.maps.map_delete(USERS, name)

    def get(self, name: str) -> User | None:
        if not NAME_RE.match(name):
            return None
        raw = self.maps.map_get(USERS, name)
        return None if raw is None else _load(raw)

    def list(self) -> list[User]:
        return sorted((_load(raw) for raw in self.maps.map_all(USERS).values()), key=lambda u: u.name)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when the password matches; the same work (one Argon2 verify) when not.

        A hash made with older parameters is made again, and written only if the record is
        still the one read: a password changed (or a user removed) during the verify, some
        50-100 ms, was undone by the rehash's write of the old password."""
        raw = self.maps.map_get(USERS, name) if len(name) <= 64 and NAME_RE.match(name) else None
        user = None if raw is None else _load(raw)
        if not passwords.verify(user.hash if user else None, password):
            return None
        assert user is not None and raw is not None
        if passwords.needs_rehash(user.hash):
            again = User(user.name, user.role, passwords.hash_password(password), user.stamp, user.created)
            self.maps.map_put(USERS, name, _dump(again), replacing=raw)
        return user

    def _existing(self, name: str) -> User:
        user = self.get(name)
        if user is None:
            raise UserError(f"no user named {name[:64]!r}")
        return user


def _hash(password: str) -> str:
    try:
        return passwords.hash_password(password)
    except passwords.PasswordRejected as exc:
        raise UserError(str(exc)) from None


def _dump(user: User) -> str:
    return json.dumps(asdict(user), separators=(",", ":"))


def _load(raw: str) -> User:
    return User(**json.loads(raw))
