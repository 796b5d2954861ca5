"""CSRF proof for writes made with a session cookie: a token and an Origin check.

The token is the double-submit kind, bound to the signed session: the login sets it in the
session (HttpOnly) and in a cookie scripts can read, and a write must echo it in the
``X-CSRF-Token`` header. Another site can make the browser send the cookies, but cannot read
the token to put in the header. Dash's renderer does the echo itself (``csrf_token_name`` /
``csrf_header_name``), so every callback POST carries it. The Origin check is the second,
independent line: a browser names the page that sent a request, and a foreign one is refused.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

HEADER = "x-csrf-token"
COOKIE = "citywall_csrf"


def token_matches(sent: str | None, expected: str) -> bool:
    return bool(sent) and hmac.compare_digest(sent.encode(), expected.encode())  # type: ignore[union-attr]


def origin_allowed(headers: Mapping[str, str], allowed: Iterable[str] = ()) -> bool:
    """No Origin (a non-browser client) passes; otherwise it must be this host or an allowed one.

    Behind a proxy that rewrites Host, list the public origin in ``server.allowed_origins``.
    """
    origin = headers.get("origin")
    if origin is None:
        return True
    if origin in set(allowed):
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:  # not a URL at all ("http://["): no origin this server knows
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.netloc == headers.get("host")
