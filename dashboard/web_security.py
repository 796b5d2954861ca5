"""What every HTTP and websocket request meets first: security headers and size limits.

One plain ASGI middleware (not Starlette's ``BaseHTTPMiddleware``, which buffers responses
and does not see websockets), installed outermost by the app factory:

* **Headers** on every HTTP response: a Content-Security-Policy, ``X-Content-Type-Options:
  nosniff``, ``Referrer-Policy: no-referrer`` and ``X-Frame-Options: DENY`` (the header
  form of ``frame-ancestors 'none'`` for older browsers).
* **Request bodies** are refused with 413 past ``server.max_body_bytes`` (and past the
  smaller ``server.max_callback_bytes`` for Dash callbacks, which only ever carry a few
  ids and small values), whether the client announced the length or not.
* **Responses** past ``server.max_response_bytes`` are replaced by a 500 before a byte is
  sent, when their length is known, and cut off otherwise: one request must not make the
  server ship tens of megabytes.
* **Origins.** A browser sends ``Origin`` with websocket handshakes and with writes; one
  that is neither this host nor in ``server.allowed_origins`` is refused (403), so another
  site cannot drive a screen's connection from a visitor's browser. Requests without an
  ``Origin`` (scripts, probes) pass: they gain nothing a browser would lend them. Behind a
  reverse proxy, "this host" is the one in ``X-Forwarded-Host`` when the proxy sends it
  (see ``_public_host``), so ``proxy_set_header Host $host`` does not break the websocket.
* **Dash's own routes** answer a request they cannot serve with 400, 404 or 415 and the
  reason (``KnownRoutes``, inside the login, so only someone signed in learns which
  callbacks exist): a callback the app does not have, or whose outputs, inputs or states do
  not match the ones it declared (``dashboard.callback_shape``), a callback body not sent as
  JSON, and a script of a package or a file Dash does not serve. Dash answered each with a
  bare 500 and logged nothing, which would also hide a real fault among them.
* **Websocket connections** are counted per client address and in total; past either
  limit the handshake is refused. Each open page holds one, so the limit per client must
  stay above the number of screens one controller shows (24 on the reference wall).

The CSP: ``script-src`` lists ``'self'`` plus the SHA-256 of each inline script Dash
writes into its page (the renderer's start line and the clientside callbacks, as given by
``Dash.csp_hashes()``), so no other inline script runs. ``_dash-config`` is JSON, not
script, and needs no hash. ``style-src`` keeps ``'unsafe-inline'``: Plotly inserts
``<style>`` elements for each figure at run time and Dash components carry ``style``
attributes, and neither can be hashed in advance; styles cannot run code.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from dash.fingerprint import check_fingerprint
from starlette.routing import Match

from dashboard.callback_shape import callback_refusal

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CALLBACK_PATHS = ("/_dash-update-component",)
#: Where Dash serves the scripts of its component packages: ``<package>/<file>``.
SCRIPTS_PATH = "/_dash-component-suites/"
API_PATH = "/api/"
API_DOC_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def content_security_policy(script_hashes: Iterable[str]) -> str:
    """The policy for every page; ``script_hashes`` are ``'sha256-...'`` source expressions."""
    scripts = " ".join(["'self'", *script_hashes])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


@dataclass
class Limits:
    max_body_bytes: int = 1024 * 1024
    max_callback_bytes: int = 256 * 1024
    max_response_bytes: int = 32 * 1024 * 1024
    max_connections_per_client: int = 48
    max_connections: int = 200
    allowed_origins: frozenset[str] = field(default_factory=frozenset)
    #: answered 404 here, or Dash's catch-all page route would serve its page for them
    blocked_paths: frozenset[str] = field(default_factory=frozenset)


class _TooLarge(Exception):
    pass


class WebSecurity:
    """The middleware; ``open_sockets`` (per client) is what the load benchmark reads."""

    def __init__(self, app: ASGIApp, *, csp: str, limits: Limits) -> None:
        self.app = app
        self.limits = limits
        self.open_sockets: dict[str, int] = {}
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = _public_host(scope)
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    # --- http -----------------------------------------------------------------------------
    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        if scope["path"] in self.limits.blocked_paths:
            await self._plain(send, 404, "not found")
            return
        if scope["method"] in _UNSAFE_METHODS and not self._origin_ok(headers):
            await self._plain(send, 403, "origin not allowed")
            return
        limit = self.limits.max_callback_bytes if scope["path"].startswith(CALLBACK_PATHS) else self.limits.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._plain(send, 413, f"request body over {limit} bytes")
            return
        body = await _read_body(receive, limit)  # bounded, so buffering it costs at most the limit
        if body is None:
            await self._plain(send, 413, f"request body over {limit} bytes")
            return
        started = False
        sent = 0
        cap = self.limits.max_response_bytes

        async def guarded_send(message: Message) -> None:
            nonlocal started, sent
            if message["type"] == "http.response.start":
                length = dict(message.get("headers", [])).get(b"content-length")
                if length is not None and length.isdigit() and int(length) > cap:
                    raise _TooLarge  # nothing sent yet: answered below
                message["headers"] = [*message.get("headers", []), *self.headers]
                started = True
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
                if sent > cap:
                    raise _TooLarge
            await send(message)

        try:
            await self.app(scope, replaying(body, receive), guarded_send)
        except _TooLarge:
            if started:  # the length was not announced: all that is left is to cut it off
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await self._plain(send, 500, f"response over {cap} bytes refused")

    async def _plain(self, send: Send, status: int, text: str) -> None:
        await send_json(send, status, {"error": text}, self.headers)

    # --- websocket ------------------------------------------------------------------------
    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = (scope.get("client") or ("?", 0))[0]
        refused = self._socket_refusal(scope, client)
        if refused is not None:
            await receive()  # websocket.connect
            await refuse_websocket(scope, send, *refused, key="error")
            return
        self.open_sockets[client] = self.open_sockets.get(client, 0) + 1
        try:
            await self.app(scope, receive, send)
        finally:
            left = self.open_sockets[client] - 1
            if left:
                self.open_sockets[client] = left
            else:
                del self.open_sockets[client]

    def _socket_refusal(self, scope: Scope, client: str) -> tuple[int, str] | None:
        """Why a websocket handshake is refused (its status and reason), or None."""
        if not self._origin_ok(_headers(scope)):
            return 403, "origin not allowed"
        if self.open_sockets.get(client, 0) >= self.limits.max_connections_per_client:
            return 429, "too many connections from this address"
        if sum(self.open_sockets.values()) >= self.limits.max_connections:
            return 503, "too many connections"
        return None

    def _origin_ok(self, headers: dict[str, str]) -> bool:
        origin = headers.get("origin")
        if origin is None:
            return True
        if origin in self.limits.allowed_origins:
            return True
        return _netloc(origin).lower() == headers.get("host", "").lower()


def _netloc(origin: str) -> str:
    """The host and port an ``Origin`` names; "" for one that is no URL at all (``http://[``
    made ``urlsplit`` raise, and any visitor's write a 500 with a traceback in the log)."""
    try:
        return urlsplit(origin).netloc
    except ValueError:
        return ""


async def refuse_websocket(scope: Scope, send: Send, status: int, reason: str, key: str = "detail", code: int = 1008) -> None:
    """Refuse a websocket's upgrade: with the server's denial-response extension (uvicorn has
    it) the handshake gets a real status and the reason as JSON, as HTTP routes do; otherwise
    a close before accept, which the server turns into a bare 403."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": code})
        return
    body = json.dumps({key: reason}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": body})


def replaying(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the app inside, once a middleware has read the whole body: the body
    first, in one message, and whatever the client sends after it (a disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it passes ``limit`` (or the client left)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _public_host(scope: Scope) -> Scope:
    """The host the browser asked for, when a reverse proxy passes it in ``X-Forwarded-Host``.

    A proxy configured with ``proxy_set_header Host $host`` drops the port from Host, so the
    browser's ``Origin: http://wall.example:8080`` no longer equals it and every origin check
    (this middleware's, the login's, Dash's own websocket check) would refuse the page's
    websocket. The forwarded host (its first value: the proxy nearest the browser) replaces
    Host for everything inside. Trusting it is safe for what Host decides here: a browser
    cannot set ``X-Forwarded-Host`` on a websocket handshake, nor on a cross-site request
    without a CORS preflight this server never grants, and a non-browser client could send
    any Host (and any Origin) anyway.
    """
    headers = scope.get("headers", [])
    forwarded = next((v for k, v in headers if k.lower() == b"x-forwarded-host"), None)
    if not forwarded:
        return scope
    public = forwarded.split(b",", 1)[0].strip()
    if not public:
        return scope
    rest = [(k, v) for k, v in headers if k.lower() != b"host"]
    return {**scope, "headers": [(b"host", public), *rest]}


class KnownRoutes:
    """Inside the login: a path under ``/api/`` that no API route takes (with this method),
    and a component script Dash does not serve, answer 404 with the reason; a callback
    request the app cannot serve (``callback_refusal``), 400.

    Dash's page route takes every path nobody else does, so a typo in a script's URL got
    200 and a page's HTML; and Dash answered a script it does not have with a bare 500.
    Routes, scripts and callbacks are read when a request asks, so those added later count
    too. A callback's body was read whole by ``WebSecurity`` outside, within its limit: it
    comes here in one message, and is handed on the same way."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Callable[[], Iterable[Any]],
        scripts: Callable[[], Mapping[str, Any]],
        callbacks: Callable[[], Mapping[str, Any]],
    ) -> None:
        self.app = app
        self.routes = routes
        self.scripts = scripts
        self.callbacks = callbacks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if scope["method"] == "POST" and path.startswith(CALLBACK_PATHS):
                if not _headers(scope).get("content-type", "").startswith("application/json"):
                    # Dash reads the body only then: any other type was a 500
                    await send_json(send, 415, {"error": "a Dash callback request is sent as application/json"})
                    return
                body = await _read_body(receive, sys.maxsize)  # bounded outside: see the docstring
                if body is None:
                    return  # the client left
                refused = callback_refusal(body, self.callbacks())
                if refused is not None:
                    await send_json(send, 400, {"error": f"not a Dash callback request: {refused}"})
                    return
                receive = replaying(body, receive)
            if path.startswith(API_PATH) and not self._api_takes(scope):
                await send_json(send, 404, {"detail": "no such API route (or not with this method)"})
                return
            if path.startswith(SCRIPTS_PATH) and not self._serves_script(path[len(SCRIPTS_PATH) :]):
                await send_json(send, 404, {"error": "no such component script"})
                return
        await self.app(scope, receive, send)

    def _api_takes(self, scope: Scope) -> bool:
        return any(
            getattr(route, "path", "").startswith(API_PATH) and route.matches(scope)[0] is Match.FULL for route in self.routes()
        )

    def _serves_script(self, rest: str) -> bool:
        """Whether Dash serves ``<package>/<file>`` (a file's name may carry a version)."""
        package, _, file = rest.partition("/")
        return check_fingerprint(file)[0] in self.scripts().get(package, ())


async def send_json(send: Send, status: int, body: dict[str, Any], extra: Iterable[tuple[bytes, bytes]] = ()) -> None:
    """A whole JSON answer, from a middleware that answers for the app (a refusal, a 404, a 503)."""
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def quiet_validation_errors(server: Any) -> None:
    """A refused API request is told where and why, without what it sent.

    FastAPI's own 422 echoes each wrong field's input: a login with an over-long password
    got the password back, and a body that was not JSON came back whole."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    async def refuse(request: Any, error: Exception) -> JSONResponse:
        errors = error.errors() if isinstance(error, RequestValidationError) else []
        detail = [{key: e[key] for key in ("type", "loc", "msg") if key in e} for e in errors]
        return JSONResponse({"detail": detail}, status_code=422)

    server.add_exception_handler(RequestValidationError, refuse)


def remove_api_docs(server: Any, keep_schema: bool = False) -> frozenset[str]:
    """FastAPI serves /docs, /redoc and /openapi.json by default, and /docs loads its scripts
    from a CDN. A wall server has no use for them: they are removed, except the schema
    (``/openapi.json``) when ``server.api_docs`` asks for it. Returns the paths to answer 404."""
    gone = API_DOC_PATHS - {"/openapi.json"} if keep_schema else API_DOC_PATHS
    server.router.routes = [r for r in server.router.routes if getattr(r, "path", None) not in gone]
    server.docs_url = server.redoc_url = None
    if not keep_schema:
        server.openapi_url = None
    return frozenset(gone)
