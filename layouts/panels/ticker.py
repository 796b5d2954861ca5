"""The ticker: the latest incidents and citizen reports, newest first, one line each.

It is the wall's "what just happened" column: time (in the city's zone, and the day under it
for a line from before the city's today), what kind of event,
how severe or in what state, where, and the text. It follows both incidents and reports,
so its frame ages with the newer of the two families (``incidents+waste``).

Critical incidents are held above the flow: an open critical incident observed in the last
``CRITICAL_HOLD_S`` stays pinned at the top (up to ``CRITICAL_ROWS`` of them), however many
lesser events follow it. At 500 events a second the plain newest-first list would carry a
critical line off the screen in a few hundredths of a second, before anyone could read it.

The two are two live parts. The flow (``ticker``) moves with nearly every message of a busy
feed, so the push sends it at most once a second (``LivePart.paced``). The held lines
(``ticker-held``) change only with a critical incident, and go with the frame it is in: a
new critical line reaches the screen as one new row, not with the twenty lines the flow
took in since its last turn, all drawn and laid out anew.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from dash import Dash

from layouts import elements as el
from layouts.frame import SEVERITY_SHAPES, empty, live_part, seen
from layouts.i18n import t
from layouts.live_parts import LiveParts
from layouts.picture import CityPicture, critical_rows
from layouts.ports import ViewSettings
from layouts.sections import IncidentRow, TickerLine
from layouts.tree import attrs, row_tree

FAMILY = "incidents+waste"
ROWS = 20
CRITICAL_ROWS = 8
CRITICAL_HOLD_S = 600
TOPIC_SHAPES = {"waste": "▣", "drainage": "≈", "roads": "▤", "other": "•"}


def body(instance: str, settings: ViewSettings) -> list[Any]:
    return [*live_part("ticker-held", instance, "cw-ticker-held"), *live_part("ticker", instance, "cw-ticker")]


@functools.lru_cache(maxsize=4_096)
def local_stamp(iso: str | None, tz: str, language: str) -> tuple[str, date | None, str]:
    """``HH:MM`` in the city's zone (the zone label sits once in the panel, not on every line),
    the line's date there, and that date as the ticker writes it under an earlier day's time
    (``4 Des``).

    The same lines come back with every frame, and parsing, converting and formatting their
    times again was about a fifth of the cost of working out ``/screen/13``'s parts: one
    cached lookup per line gives all three."""
    moment = _local(iso, tz)
    if moment is None:
        return "–", None, ""
    return moment.strftime("%H:%M"), moment.date(), format_date(moment.date(), "d MMM", locale=language)


def _local(iso: str | None, tz: str) -> datetime | None:
    if not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(tz))


def view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    """The flow: the newest lines, without those held above it."""
    held = {line.id for line in held_lines(picture)}
    lines = sorted(picture.ticker, key=lambda line: line.t, reverse=True)
    flow = [line for line in lines if not (line.kind == "incident" and line.id in held)]
    today = _today(picture, settings)
    return {
        "has_data": bool(lines) or seen(picture, "incidents") or seen(picture, "waste"),
        "lines": [_shown(line, settings, today) for line in flow[:ROWS]],
    }


def held_view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    today = _today(picture, settings)
    return {"lines": [_shown(line, settings, today) for line in held_lines(picture)]}


def _today(picture: CityPicture, settings: ViewSettings) -> date:
    """The city's date at the picture's reading: a line of another day says which."""
    return datetime.fromtimestamp(picture.read_at(), ZoneInfo(settings.timezone)).date()


def held_lines(picture: CityPicture) -> list[TickerLine]:
    """The open critical incidents younger than ``CRITICAL_HOLD_S`` at the picture's reading,
    newest first, ``CRITICAL_ROWS`` at most, as ticker lines.

    The critical ones come newest first (the picture's order)."""
    now = picture.read_at()
    held: list[TickerLine] = []
    for d in critical_rows(picture):
        if len(held) >= CRITICAL_ROWS:
            break
        if d.age_at(now) <= CRITICAL_HOLD_S:
            held.append(_line_of(d))
    return held


def _line_of(d: IncidentRow) -> TickerLine:
    return TickerLine(
        t=d.observed_at,
        kind="incident",
        id=d.id,
        severity=d.severity,
        topic=None,
        channel="",
        status=d.status,
        kecamatan=d.kecamatan,
        text=d.text[:160],
    )


def _shown(line: TickerLine, settings: ViewSettings, today: date) -> dict[str, Any]:
    """One line as shown. ``day`` is None on the city's ``today``: at 09:00 a line of
    yesterday's 14:30 read "14:30", an afternoon yet to come or a week ago for all it said."""
    time, day, day_text = local_stamp(line.t, settings.timezone, settings.language)
    return {
        "id": line.id,
        "key": f"{line.id}@{line.t}",
        "time": time,
        "day": day_text if day is not None and day != today else None,
        "kind": line.kind,
        "severity": line.severity,
        "topic": line.topic,
        "status": line.status,
        "kecamatan": line.kecamatan or "–",
        "text": line.text,
        "channel": line.channel,
    }


@row_tree
def line_row(line: dict[str, Any], language: str) -> el.Tree:
    if line["kind"] == "incident":
        severity = line["severity"] or "medium"
        badge = el.Span(f"{SEVERITY_SHAPES.get(severity, '●')} {t(severity, language)}", className=f"cw-sev sev-{severity}")
    else:
        topic = line["topic"] or "other"
        badge = el.Span(f"{TOPIC_SHAPES.get(topic, '•')} {t('topic_' + topic, language)}", className=f"cw-topic topic-{topic}")
    return el.Div(
        className=f"cw-tick kind-{line['kind']}",
        key=line["key"],
        **attrs({"data-event": line["id"]}),
        children=[
            el.Span(
                [line["time"], el.Span(line["day"], className="cw-tick-day")] if line.get("day") else line["time"],
                className="cw-tick-time",
            ),
            el.Span(
                line.get("channel") or t(line["kind"], language),
                className=f"cw-kind kind-{line['kind']}",
                **({"data-channel": line["channel"]} if line.get("channel") else {}),
            ),
            badge,
            el.Span(t(line["status"], language), className=f"cw-status st-{line['status']}"),
            el.Span(line["kecamatan"], className="cw-where"),
            el.Span(line["text"], className="cw-desc"),
        ],
    )


def render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    if not shown["has_data"]:
        return [empty(settings.language)]
    return [_ticks(shown["lines"], settings.language, "cw-fit")]


def held_render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    """Nothing while no critical line is held: the flow then has the whole panel."""
    return [_ticks(shown["lines"], settings.language, "cw-held")] if shown["lines"] else []


def _ticks(lines: list[dict[str, Any]], language: str, kind: str) -> el.Tree:
    return el.Div([line_row(line, language) for line in lines], className=f"cw-ticks {kind}")


#: The panel's live parts, top to bottom: role, view, render, paced. The flow is paced: at
#: 500 events a second every frame made all twenty lines anew, twenty times a second, faster
#: than anyone reads; now at most once a second.
PARTS = (
    ("ticker-held", held_view, held_render, False),
    ("ticker", view, render, True),
)


def register(app: Dash, live: LiveParts) -> None:
    for role, part_view, part_render, paced in PARTS:
        live.add(app, role, part_view, part_render, paced=paced)
