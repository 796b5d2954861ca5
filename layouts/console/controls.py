"""Small pieces the console's panels share."""

from __future__ import annotations

import dash_bootstrap_components as dbc


def labelled(before: str | None, control: dbc.Input, after: str | None = None) -> dbc.InputGroup:
    """A number box with its words beside it ("Layar 4", "10 mnt"): a bare 4 and 10 beside a
    button left an operator to guess which was the screen and which the minutes."""
    words = [dbc.InputGroupText(before)] if before else []
    return dbc.InputGroup([*words, control, *([dbc.InputGroupText(after)] if after else [])], size="sm")
