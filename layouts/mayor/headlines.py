"""The four headline tiles (incidents, flooding, MPP permits, waste), the data's time and the pillars' heading."""

from __future__ import annotations

from typing import Any

from dash import html

from layouts.frame import SEVERITY_SHAPES, STAGE_SHAPES
from layouts.i18n import local_time, number, t, when
from layouts.ports import ViewSettings
from layouts.tree import attrs

#: Pillar counts the catalog has a word for (``count_3`` .. ``count_8``); the config allows these.
COUNTED = range(3, 9)

#: Before the small words after a big figure ("/ 700", "selesai (24 jam)"): they are an
#: inline-block, which drops a plain leading space, and the tile read "0selesai".
NO_BREAK = "\u00a0"


def pillars_heading(count: int, language: str) -> str:
    """ "Enam pilar kota cerdas" for Pekanbaru, "Lima pilar ..." for a city with five."""
    text = t("pillars", language, n=t(f"count_{count}", language) if count in COUNTED else str(count))
    return text[:1].upper() + text[1:]


def _sev_chip(sev: str, n: int, language: str) -> html.Span:
    return html.Span(
        [
            html.Span(SEVERITY_SHAPES.get(sev, "●"), className="tb-shape", **attrs({"aria-hidden": "true"})),
            html.B(number(n, language)),
            html.Span(t(sev, language).lower()),
        ],
        className="tb-chip",
        **attrs({"data-severity": sev, "data-count": str(n)}),
    )


def _tile(name: str, label: str, body: list[Any], stale_for: str | None, language: str, **extra: str) -> html.Div:
    """A headline tile; one whose feed has delivered is marked stale when that feed falls
    silent (``data-stale-for``, kept by ``assets/citywall.js``): the page's own mark follows
    the newest of all feeds, so one live feed kept a silent one's tile looking current."""
    marks = {"data-stale-for": stale_for} if stale_for else {}
    warning = [html.Div(f"⚠ {t('stale', language)}", className="tb-tile-stale")] if stale_for else []
    return html.Div(
        [html.Div(label, className="tb-tile-label"), *body, *warning],
        className="tb-tile",
        **attrs({"data-headline": name, **marks, **extra}),
    )


def mpp_body(mpp: dict[str, Any], language: str) -> list[Any]:
    """Permits served against today's target; on a closed day, that it is closed, and before
    its hours, that it has not opened yet."""
    if not mpp["target"]:
        return [
            html.Div(number(mpp["served"], language), className="tb-big"),
            html.Div(t("mpp_closed_today", language), className="tb-tile-sub"),
        ]
    pct = mpp["pct"]
    width = min(100.0, float(pct or 0))
    count = html.Div(
        [
            html.Span(number(mpp["served"], language)),
            html.Small(f"{NO_BREAK}/ {number(mpp['target'], language)}", className="tb-of"),
        ],
        className="tb-big",
    )
    if mpp.get("before_opening"):
        return [count, html.Div(t("mpp_not_open_yet", language), className="tb-tile-sub")]
    return [
        count,
        html.Div(
            html.Div(className="progress-bar", style={"width": f"{width:.0f}%"}),
            className="progress tb-progress",
            role="progressbar",
            **attrs({"aria-valuenow": f"{width:.0f}", "aria-valuemin": "0", "aria-valuemax": "100"}),
        ),
        html.Div(
            t("of_target", language, pct=f"{number(pct or 0, language, 1)}%", target=number(mpp["target"], language)),
            className="tb-tile-sub",
        ),
    ]


def headline_tiles(v: dict[str, Any], language: str) -> list[Any]:
    """The four facts of today, each a big number with the words that make it mean something."""
    nd = html.Div(t("no_data", language), className="tb-tile-sub")
    inc, flood, mpp, waste = v["incidents"], v["flood"], v["mpp"], v["waste"]
    incidents = _tile(
        "incidents",
        t("h_incidents", language),
        [
            html.Div(number(inc["open"], language), className="tb-big"),
            html.Div([_sev_chip(s, n, language) for s, n in inc["by_severity"]], className="tb-chips"),
        ]
        if inc["seen"]
        else [html.Div("–", className="tb-big"), nd],
        "incidents" if inc["seen"] else None,
        language,
    )
    stage = flood["worst"]
    flood_tile = _tile(
        "flood",
        t("h_flood", language),
        [
            html.Div(
                [
                    html.Span(STAGE_SHAPES.get(stage, "●"), className="tb-shape", **attrs({"aria-hidden": "true"})),
                    html.Span(t(stage, language)),
                ],
                className="tb-big tb-stage",
                **attrs({"data-stage": stage}),
            ),
            html.Div(t(_flood_line(flood["alert"], stage), language), className="tb-tile-strong"),
            html.Div(
                t("stations_up", language, n=number(flood["in_alert"], language), m=number(flood["stations"], language)),
                className="tb-tile-sub",
            ),
            *_worst_station(flood.get("worst_station"), language),
        ]
        if flood["seen"]
        else [html.Div("–", className="tb-big"), nd],
        "drainage" if flood["seen"] else None,
        language,
        **attrs({"data-alert": "true" if flood["alert"] else "false"}),
    )
    mpp_tile = _tile(
        "mpp",
        t("h_mpp", language),
        mpp_body(mpp, language) if mpp["seen"] else [html.Div("–", className="tb-big"), nd],
        "mpp" if mpp["seen"] else None,
        language,
    )
    waste_tile = _tile(
        "waste",
        t("h_waste", language),
        [
            html.Div(
                [
                    html.Span(number(waste["resolved"], language)),
                    html.Small(f"{NO_BREAK}{t('resolved_24h', language)}", className="tb-of"),
                ],
                className="tb-big",
            ),
            html.Div(t("still_open", language, n=number(waste["open"], language)), className="tb-tile-sub"),
        ]
        if waste["seen"]
        else [html.Div("–", className="tb-big"), nd],
        "waste" if waste["seen"] else None,
        language,
    )
    return [incidents, flood_tile, mpp_tile, waste_tile]


def as_of_text(iso: str | None, settings: ViewSettings) -> str | list[Any]:
    """The as-of line, its time and zone kept on one line: on a phone it broke before "WIB"
    and left the zone alone under the date."""
    if not iso:
        return t("no_data", settings.language)
    day = local_time(iso, settings.timezone, settings.language, "EEEE, d MMMM y")
    clock = when(iso, settings.timezone, settings.timezone_label, settings.language)
    return [f"{t('data_as_of', settings.language)} {day} ", html.Span(clock, className="tb-nowrap")]


def _worst_station(worst: list[Any] | None, language: str) -> list[Any]:
    """Which station leads the drainage panel, and how high its water stands (see ``summaries``)."""
    if not worst:
        return []
    name, level_cm = worst
    line = t("worst_station", language, name=name, level=number(level_cm / 100, language, 2))
    return [html.Div(line, className="tb-tile-sub", **attrs({"data-worst-station": name}))]


def _flood_line(alert: bool, stage: str) -> str:
    """The line under the stage. At Waspada "no flood alert" stood under "▲ WASPADA" and read
    as a contradiction: the alert starts at Siaga, so Waspada says the water is being watched."""
    if alert:
        return "flood_alert"
    return "flood_watch" if stage != "Normal" else "flood_none"
