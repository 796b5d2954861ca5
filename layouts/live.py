"""How pages stay current: a cheap versioned poll, and freshness ticking in the browser.

Every page holds ``cw-version``. A light callback asks the reader for the store's version
each ``poll_ms`` and writes it only when it changed, so an idle wall costs one tiny request
a second and nothing re-renders. Panels listen to ``cw-version`` and update their parts.

Freshness (age and stale state) is computed in the browser once a second from the last
freshness the server sent, so a panel turns stale by itself when the feed or the server
goes quiet, without any server work, and clears as soon as fresh data arrives.
"""

from __future__ import annotations

import time
from typing import Any

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, dcc, html, no_update

from layouts.ports import CityReader, ViewSettings


def live_components(settings: ViewSettings) -> html.Div:
    return html.Div(
        [
            dcc.Interval(id="cw-tick", interval=settings.poll_ms),
            dcc.Interval(id="cw-second", interval=1_000),
            dcc.Store(id="cw-version", data=-1),
            dcc.Store(id="cw-fresh", data=None),
            dcc.Store(id="cw-settings", data={"stale_after_s": settings.stale_after_s, "reload_at": settings.reload_at,
                                                "timezone": settings.timezone, "language": settings.language,
                                                "timezone_label": settings.timezone_label}),
        ],
        style={"display": "none"},
    )


def register(app: Dash, reader: CityReader) -> None:
    @app.callback(
        Output("cw-version", "data"),
        Output("cw-fresh", "data"),
        Input("cw-tick", "n_intervals"),
        State("cw-version", "data"),
    )
    def _poll(_: int | None, known: int | None) -> tuple[Any, Any]:
        version = reader.version()
        if version == known:
            return no_update, no_update
        return version, freshness_message(reader.picture())

    app.clientside_callback(
        ClientsideFunction(namespace="citywall", function_name="freshness"),
        Output({"role": "frame", "panel": ALL, "family": ALL, "instance": ALL}, "data-stale"),
        Output({"role": "frame", "panel": ALL, "family": ALL, "instance": ALL}, "data-updated-at"),
        Input("cw-second", "n_intervals"),
        Input("cw-fresh", "data"),
        State("cw-settings", "data"),
    )


def freshness_message(picture: dict[str, Any]) -> dict[str, Any]:
    """What the browser needs to age each family on its own: the server's clock and the last times."""
    return {"server_now": time.time(), "families": picture.get("freshness", {})}
