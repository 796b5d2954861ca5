"""Who is at the desk, and the way out: the corner of the console and of the shift report.

A shared desk changes hands at every shift. With no way to sign out, the next operator
worked, and was written into the audit, under the last one's name until the session ran out
(``auth.session_ttl_h``). The button posts the sign-out (``assets/session.js``, with the CSRF
token, as every write) and goes to the login page, which brings the next person back here.
"""

from __future__ import annotations

from typing import Any

from dash import html

from layouts.i18n import t
from layouts.ports import OperationsPort

SIGN_OUT_ID = "cw-sign-out"


def signed_in_line(port: OperationsPort, language: str) -> Any:
    """ "name (role)" and a sign-out button; a link to the login when nobody is signed in."""
    who = port.whoami()
    if who is None:
        return html.A(t("console_sign_in", language), href="/login", className="link-light")
    return [
        html.Span(f"{who[0]} ({who[1]})", className="cw-who-name"),
        html.Button(t("sign_out", language), id=SIGN_OUT_ID, type="button", className="btn btn-sm btn-outline-light ms-2"),
    ]
