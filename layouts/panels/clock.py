"""The clock: date and time in the city's zone (WIB), in the configured language.

It ticks in the browser (a clientside callback on the page's one-second interval, formatting
with ``Intl.DateTimeFormat``), so 24 clocks on a wall cost the server nothing and keep
ticking while the server is away. Its family, ``clock``, is never stale: a clock has no feed
that can fall silent, and a wall that shows "DATA DELAYED" over the time would teach
operators to ignore that badge.

The server renders the first reading, so the panel is never empty before the first tick.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from dash import ALL, ClientsideFunction, Dash, Input, Output, State, html

from layouts.live_parts import LiveParts
from layouts.ports import ViewSettings

FAMILY = "clock"


def _id(role: str, instance: Any) -> dict[str, Any]:
    return {"role": f"clock-{role}", "instance": instance}


def reading(moment: datetime, settings: ViewSettings) -> dict[str, str]:
    """The clock's texts for one moment, as the browser would write them ("14:32", ":07", ...).

    Kept in Python as well as in JavaScript so the first paint and the unit tests agree
    with what the browser shows; Indonesian writes ``14.32``, a wall clock reads ``14:32``.
    """
    local = moment.astimezone(ZoneInfo(settings.timezone))
    return {
        "hm": local.strftime("%H:%M"),
        "s": local.strftime(":%S"),
        "date": format_datetime(local, "EEEE, d MMMM y", locale=settings.language),
        "zone": settings.timezone_label,
    }


def body(instance: str, settings: ViewSettings) -> list[Any]:
    now = reading(datetime.now(ZoneInfo(settings.timezone)), settings)
    return [
        html.Div(
            className="cw-clock",
            children=[
                html.Div(
                    className="cw-clock-left",
                    children=[
                        html.Div(now["date"], id=_id("date", instance), className="cw-clock-date"),
                        html.Div(settings.city_name, className="cw-clock-city"),
                    ],
                ),
                html.Div(
                    className="cw-clock-time",
                    children=[
                        html.Span(now["hm"], id=_id("hm", instance), className="cw-clock-hm cw-headline"),
                        html.Span(now["s"], id=_id("s", instance), className="cw-clock-s"),
                        html.Span(now["zone"], className="cw-clock-zone"),
                    ],
                ),
            ],
        )
    ]


def register(app: Dash, live: LiveParts) -> None:
    app.clientside_callback(
        ClientsideFunction(namespace="citywall", function_name="clock"),
        Output(_id("hm", ALL), "children"),
        Output(_id("s", ALL), "children"),
        Output(_id("date", ALL), "children"),
        Input("cw-second", "n_intervals"),
        State("cw-settings", "data"),
    )
