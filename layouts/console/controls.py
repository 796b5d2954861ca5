"""Small pieces the console's panels share."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from layouts.i18n import t


def labelled(before: str | None, control: dbc.Input, after: str | None = None) -> dbc.InputGroup:
    """A number box with its words beside it ("Layar 4", "10 mnt"): a bare 4 and 10 beside a
    button left an operator to guess which was the screen and which the minutes."""
    words = [dbc.InputGroupText(before)] if before else []
    return dbc.InputGroup([*words, control, *([dbc.InputGroupText(after)] if after else [])], size="sm")


def minutes_box(ident: str, high: int, value: int, language: str) -> dbc.InputGroup:
    """How long something stays on the wall, in whole minutes up to ``high``."""
    return labelled(None, dbc.Input(id=ident, type="number", min=1, max=high, value=value), t("min_short", language))


def out_of_range(value: Any, high: int, word: str, language: str) -> str | None:
    """What is wrong with a number box's value, in the operator's words, or None.

    The browser sends None for a box left empty or holding what its min, max or step refuse
    (25 of 24 screens, 2.5 minutes): that once became the default ten minutes without a word,
    or a Python error about ``int()`` on the screen."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= high:
        return None
    return t(word, language, high=high)


#: Refusal fills that are themselves words of the catalog (a status, a severity, a stage).
_WORDED_FILLS = ("state", "severity", "stage")


def said(refusal: Any, language: str) -> Any:
    """A refusal from ``OperationsPort`` as the operator reads it: its catalog word in the
    city's language where it has one (the server's English reason showed in an Indonesian
    console: "unknown resolution code None (known: ...)"), else its reason.

    "Sign in first" comes with the way to the login: with reading open to everyone, a desk
    whose session ended reads on as nobody in particular, and its next action lands here."""
    word = getattr(refusal, "word", None)
    if not word:
        return str(getattr(refusal, "reason", refusal))
    fill = {k: t(v, language) if k in _WORDED_FILLS else v for k, v in getattr(refusal, "fill", {}).items()}
    text = t(word, language, **fill)
    if getattr(refusal, "status", None) != 401:
        return text
    return [text, " · ", html.A(t("console_sign_in", language), href="/login?next=/console", id="cw-sign-in-again")]
