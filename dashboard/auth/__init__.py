"""Stand-in for the identity package (branch ``identity`` replaces this file wholesale).

It offers exactly the names of the identity contract so the operations code runs before
identity lands. A principal comes from the ``X-Stand-In-Principal: name/role`` header; this
stand-in is never shipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request

ROLES: tuple[str, ...] = ("viewer", "operator", "supervisor", "admin")


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    via: str
    screen: int | None = None

    def can(self, role: str) -> bool:
        if self.role not in ROLES or role not in ROLES:
            return False
        return ROLES.index(self.role) >= ROLES.index(role)


def principal_of(request: Any) -> Principal | None:
    raw = (getattr(request, "headers", None) or {}).get("x-stand-in-principal")
    if not raw or "/" not in raw:
        return None
    name, role = raw.split("/", 1)
    return Principal(name=name, role=role, via="token")


def reader() -> Callable[..., Principal]:
    def dependency(request: Request) -> Principal:
        return principal_of(request) or Principal("anonymous", "viewer", "anonymous")

    return dependency


def writer(role: str) -> Callable[..., Principal]:
    def dependency(request: Request) -> Principal:
        who = principal_of(request)
        if who is None:
            raise HTTPException(401, "sign in first")
        if not who.can(role):
            raise HTTPException(403, f"needs the {role} role")
        return who

    return dependency
