"""The clock: date and time in the city's zone (WIB), in the configured language.

It ticks in the browser (``assets/citywall.js`` writes it once a second, formatting with
``Intl.DateTimeFormat``), so 24 clocks on a wall cost the server nothing and keep ticking
while the server is away. It reads the server's clock (the last freshness message's, plus the
time since), as the incidents' ages beside it do: a kiosk PC that ran for weeks without NTP
showed its own drifted time. Its family, ``clock``, is never stale: a clock has no feed
that can fall silent, and a wall that shows "DATA DELAYED" over the time would teach
operators to ignore that badge.

The server renders the first reading, so the panel is never empty before the first tick.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from dash import Dash, html

from layouts.live_parts import LiveParts
from layouts.ports import ViewSettings

FAMILY = "clock"


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
                        html.Div(now["date"], className="cw-clock-date"),
                        html.Div(settings.city_name, className="cw-clock-city"),
                    ],
                ),
                html.Div(
                    className="cw-clock-time",
                    children=[
                        html.Span(now["hm"], className="cw-clock-hm cw-headline"),
                        html.Span(now["s"], className="cw-clock-s"),
                        html.Span(now["zone"], className="cw-clock-zone"),
                    ],
                ),
            ],
        )
    ]


def register(app: Dash, live: LiveParts) -> None:
    """Nothing to register: the clock ticks in the browser (``tickClocks``, assets/citywall.js)."""
