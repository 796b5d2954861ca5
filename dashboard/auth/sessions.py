"""Signed cookies: the login session and the kiosk's token binding.

Signing uses itsdangerous (the library Starlette's own SessionMiddleware and Flask use): HMAC
over the payload with a timestamp, so the server keeps no session table and any worker that
shares the secret can read any cookie. Starlette's SessionMiddleware was not used because it
keeps one cookie for every request and decodes it after routing; the guard here must decide
before Dash sees the request, and needs a second cookie (the kiosk's) with a different life.

The secret comes from ``CITYWALL_SECRET_KEY`` or is generated once and kept in the store, so
every worker on every host signs alike and a restart does not log anybody out.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

from dashboard.auth.maps import NamedMaps

SECRET_ENV = "CITYWALL_SECRET_KEY"
META = "auth:meta"
MAX_COOKIE_CHARS = 4_096


def shared_secret(maps: NamedMaps, environ: dict[str, str] | None = None, kept: str | None = None) -> str:
    """The configured secret, or the one the first worker put in the store (HSETNX: one
    winner): a new one, or ``kept``, the one this worker signed with before the store was
    emptied, so that the workers still running agree again and nobody is logged out."""
    env = os.environ if environ is None else environ
    if env.get(SECRET_ENV):
        return env[SECRET_ENV]
    maps.map_put(META, "secret", kept or secrets.token_urlsafe(48), only_new=True)
    secret = maps.map_get(META, "secret")
    if not secret:
        raise RuntimeError("the store did not keep the session secret")
    return secret


@dataclass(frozen=True)
class Session:
    user: str
    stamp: str  # the user's stamp at login: a password change ends the session
    csrf: str


class CookieSigner:
    def __init__(self, secret: str, session_ttl_s: int) -> None:
        self._sessions = URLSafeTimedSerializer(secret, salt="citywall-session")
        self._kiosks = URLSafeSerializer(secret, salt="citywall-kiosk")
        self.session_ttl_s = session_ttl_s

    def issue_session(self, user: str, stamp: str) -> tuple[str, Session]:
        session = Session(user, stamp, secrets.token_urlsafe(32))
        return self._sessions.dumps([session.user, session.stamp, session.csrf]), session

    def read_session(self, cookie: str | None) -> Session | None:
        if not cookie or len(cookie) > MAX_COOKIE_CHARS:
            return None
        try:
            user, stamp, csrf = self._sessions.loads(cookie, max_age=self.session_ttl_s)
        except (BadSignature, ValueError, TypeError):
            return None
        return Session(str(user), str(stamp), str(csrf))

    def bind_kiosk(self, token_digest: str) -> str:
        """The cookie names the token by its digest, signed so a digest alone forges nothing."""
        return self._kiosks.dumps(token_digest)

    def read_kiosk(self, cookie: str | None) -> str | None:
        if not cookie or len(cookie) > MAX_COOKIE_CHARS:
            return None
        try:
            value = self._kiosks.loads(cookie)
        except (BadSignature, ValueError, TypeError):
            return None
        return value if isinstance(value, str) else None
