"""The identity service one app owns: users, tokens, cookies, and who a request is.

Created by the app factory (no module globals), handed to the guard middleware and the login
routes, and found by the FastAPI dependencies on ``app.state``. Lookups that every request
makes (a token's revocation, a session user's stamp) are cached per worker for a few seconds
at most, so a revoked token or a changed password takes effect within ``CACHE_S`` everywhere.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from dashboard.auth.csrf import COOKIE as CSRF_COOKIE
from dashboard.auth.maps import FileMaps, IdentityStore
from dashboard.auth.principal import ANONYMOUS, KIOSK, Principal
from dashboard.auth.sessions import CookieSigner, Session, shared_secret
from dashboard.auth.throttle import LoginThrottle
from dashboard.auth.tokens import Token, TokenStore, digest
from dashboard.auth.users import User, UserStore
from dashboard.config import Auth as AuthConfig
from dashboard.store.redis_store import StoreUnavailable, is_outage

SESSION_COOKIE = "citywall_session"
KIOSK_COOKIE = "citywall_kiosk"
#: Browsers cap a cookie's life at 400 days; the kiosk page renews it on every load.
KIOSK_COOKIE_S = 400 * 86_400
CACHE_S = 3.0
#: Sessions ended by a logout, by ``session_id``, each until its cookie would have expired anyway.
ENDED = "auth:ended"
CACHE_MAX = 4_096

T = TypeVar("T")


@dataclass(frozen=True)
class Resolved:
    """Who a request is, and what the guard must know besides."""

    principal: Principal | None
    session: Session | None = None
    kiosk_cookie: str | None = None  # set on the response: the request came with ?token=


class NeedsLookup(Exception):
    """An identity that memory cannot answer for now: the store must be asked."""


class _TtlCache:
    """A tiny per-worker cache; cleared whole when full, so a flood of bad tokens stays bounded.

    While the store is away an answer it already has stands past its time: the store's
    outage must not log every operator out or blank every kiosk, and asking the store again
    on every request only waited on a dead connection. An identity it never had is an
    outage (``StoreUnavailable``), for the guard to answer 503."""

    def __init__(self, ttl_s: float, max_entries: int) -> None:
        self.ttl_s, self.max_entries = ttl_s, max_entries
        self._data: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, load: Callable[[], T], reachable: bool = True, ask: bool = True) -> T:
        """``ask`` false: answer from memory or raise ``NeedsLookup``, never touching the store."""
        now = time.monotonic()
        with self._lock:
            hit = self._data.get(key)
        if hit is not None and (hit[0] > now or not reachable):
            return hit[1]
        if not reachable:
            raise StoreUnavailable("the store is away and this identity was not looked up before")
        if not ask:
            raise NeedsLookup(key)
        try:
            value = load()
        except Exception as exc:
            if hit is not None and is_outage(exc):
                return hit[1]
            raise
        with self._lock:
            if len(self._data) >= self.max_entries:
                self._data.clear()
            self._data[key] = (now + self.ttl_s, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def drop(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


class AuthService:
    def __init__(
        self,
        config: AuthConfig,
        store: IdentityStore,
        *,
        environ: dict[str, str] | None = None,
        allowed_origins: Sequence[str] = (),
        store_ok: Callable[[], bool] = lambda: True,
    ) -> None:
        self.config = config
        #: Whether the store answers now (``dashboard.health.StoreHealth.ok``): while it does
        #: not, identities are answered from what was looked up before (``_TtlCache``).
        self.store_ok = store_ok
        #: Public origins besides the request's own (``server.allowed_origins``, one list for
        #: every layer that checks an Origin: the CSRF check here and the web-security limits).
        self.allowed_origins = list(allowed_origins)
        self.users = UserStore(FileMaps(config.users_file) if config.users_file else store)
        self._users_in_file = bool(config.users_file)
        self.tokens = TokenStore(store)
        self._store, self._environ = store, environ
        self._secret = shared_secret(store, environ)
        self.signer = CookieSigner(self._secret, config.session_ttl_h * 3_600)
        self.throttle = LoginThrottle(store)
        self._counters = store
        self._cache = _TtlCache(CACHE_S, CACHE_MAX)

    def restore_secret(self) -> None:
        """The store came back empty (``StoreHealth.on_reset``): its session secret went with
        it, and a worker started since signed with a new one, so a session cookie worked on
        one worker and not on the next. This worker puts back the secret it signs with, or,
        when another worker's is there first, signs with that one from now on."""
        secret = shared_secret(self._store, self._environ, kept=self._secret)
        if secret != self._secret:
            self._secret = secret
            self.signer = CookieSigner(secret, self.config.session_ttl_h * 3_600)
        self._cache.clear()  # users and tokens went with the store too

    # --- resolving a request ---------------------------------------------------------------
    def resolve(
        self, headers: Mapping[str, str], cookies: Mapping[str, str], query_token: str | None, from_memory: bool = False
    ) -> Resolved:
        """Bearer token, then a ``?token=`` in the URL, then the session, then the kiosk cookie,
        then anonymous reading if the config allows it. A credential that does not check out
        is ignored, never an error by itself: the route decides whether nobody may pass.
        ``from_memory``: never ask the store; ``NeedsLookup`` when the answer is not in memory.

        Only a kiosk token may come in the URL and stay as the kiosk cookie. Any other (an
        operator's or a supervisor's API token) rides in the Authorization header: as a cookie
        it would write without the CSRF proof a session needs, for the cookie's 400 days,
        through every logout in that browser."""
        bearer = _bearer(headers.get("authorization"))
        if bearer is not None:
            token = self._token(digest(bearer), from_memory) if len(bearer) <= 128 else None
            return Resolved(token.principal() if token else None)
        if query_token:
            hashed = digest(query_token) if len(query_token) <= 128 else ""
            token = self._token(hashed, from_memory) if hashed else None
            if token is not None and token.role == KIOSK:
                return Resolved(token.principal(), kiosk_cookie=self.signer.bind_kiosk(hashed))
        session = self.signer.read_session(cookies.get(SESSION_COOKIE))
        if session is not None:
            user = self._user(session.user, from_memory)
            if user is not None and user.stamp == session.stamp and not self._ended(session, from_memory):
                return Resolved(Principal(name=user.name, role=user.role, via="session"), session=session)
        hashed_cookie = self.signer.read_kiosk(cookies.get(KIOSK_COOKIE))
        if hashed_cookie:
            token = self._token(hashed_cookie, from_memory)
            if token is not None and token.role == KIOSK:
                return Resolved(token.principal())
        return Resolved(ANONYMOUS if self.config.anonymous_read else None)

    def _token(self, hashed: str, from_memory: bool = False) -> Token | None:
        return self._cache.get("t:" + hashed, lambda: self.tokens.lookup_digest(hashed), self.store_ok(), not from_memory)

    def _user(self, name: str, from_memory: bool = False) -> User | None:
        # users kept in a file are read from it whatever the store's state
        reachable = self.store_ok() or self._users_in_file
        return self._cache.get("u:" + name, lambda: self.users.get(name), reachable, not from_memory)

    def _ended(self, session: Session, from_memory: bool = False) -> bool:
        ended = session_id(session)
        return self._cache.get("e:" + ended, lambda: self._counters.counted(ENDED, ended) > 0, self.store_ok(), not from_memory)

    def end_session(self, session: Session) -> None:
        """Logging out ends the session itself, not only this browser's copy of its cookie: a
        copy taken before (a shared desk, a saved cookie jar) is refused from then on, within
        ``CACHE_S`` on the other workers. The mark lasts as long as the cookie could."""
        ended = session_id(session)
        self._counters.count_up(ENDED, ended, ttl_s=self.signer.session_ttl_s)
        self._cache.drop("e:" + ended)

    # --- logging in ------------------------------------------------------------------------
    def login(self, name: str, password: str) -> tuple[User, str, Session] | None:
        user = self.users.authenticate(name, password)
        if user is None:
            return None
        cookie, session = self.signer.issue_session(user.name, user.stamp)
        return user, cookie, session

    def session_cookies(self, cookie: str, session: Session, secure: bool) -> list[str]:
        ttl = self.config.session_ttl_h * 3_600
        return [
            _cookie(SESSION_COOKIE, cookie, ttl, http_only=True, secure=secure),
            _cookie(CSRF_COOKIE, session.csrf, ttl, http_only=False, secure=secure),
        ]

    def logout_cookies(self, secure: bool) -> list[str]:
        return [
            _cookie(SESSION_COOKIE, "", 0, http_only=True, secure=secure),
            _cookie(CSRF_COOKIE, "", 0, http_only=False, secure=secure),
            _cookie(KIOSK_COOKIE, "", 0, http_only=True, secure=secure),  # a shared desk once opened a kiosk URL
        ]

    def kiosk_cookie(self, value: str, secure: bool) -> str:
        return _cookie(KIOSK_COOKIE, value, KIOSK_COOKIE_S, http_only=True, secure=secure)


def session_id(session: Session) -> str:
    """A session's name in the store: a digest of its CSRF token, which is new for every login
    and must not be stored as it is."""
    return hashlib.sha256(session.csrf.encode()).hexdigest()[:32]


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, credential = value.partition(" ")
    return credential.strip() if scheme.lower() == "bearer" else None


def _cookie(name: str, value: str, max_age: int, *, http_only: bool, secure: bool) -> str:
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age}", "SameSite=Lax"]
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)
