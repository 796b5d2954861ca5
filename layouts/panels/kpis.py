"""The city's smart-city pillars and the KPIs behind them, each against its target.

Every pillar card says its standing three ways (word, shape, colour) and lists its KPIs as
value vs target with the direction that counts as better ("≥ 90%", "≤ 40"), so a reader
from 4 m away never has to guess whether a big number is good. The same panel serves the
wall (three cards by two) and the mayor's tablet. Which pillars, in which order and under
which names is the city's config (``settings.pillars``); none is named here.
"""

from __future__ import annotations

from typing import Any

from dash import Dash

from layouts import elements as el
from layouts.frame import STANDING_SHAPES, empty, live_part, seen
from layouts.i18n import t
from layouts.live_parts import LiveParts
from layouts.mayor.figures import amount
from layouts.picture import CityPicture
from layouts.ports import ViewSettings
from layouts.tree import attrs

FAMILY = "kpis"


def family(settings: ViewSettings) -> str:
    """The KPI feed's family, or for a city whose KPIs all come from the streams the newest of
    their feeds ("drainage+incidents+mpp"): nobody sends such a city KeyPerformanceIndicator
    messages, and its board stood "data delayed" for ever waiting for them."""
    return FAMILY if FAMILY in settings.kpi_families or not settings.kpi_families else "+".join(settings.kpi_families)


def body(instance: str, settings: ViewSettings) -> list[Any]:
    return live_part("kpis", instance, "cw-kpis")


def view(picture: CityPicture, settings: ViewSettings) -> dict[str, Any]:
    pillars = picture.kpis.pillars
    configured = [p.id for p in settings.pillars]
    order = [p for p in configured if p in pillars] + [p for p in pillars if p not in configured]
    return {
        # derived KPIs exist as soon as there is a picture; the family's own feed is optional
        "has_data": bool(pillars) and any(seen(picture, f) for f in ("kpis", "incidents", "mpp", "waste", "drainage")),
        "pillars": [
            {
                "id": p,
                "name": settings.pillar(p).name if p in configured else (pillars[p].name or p),
                "standing": pillars[p].standing,
                "kpis": [
                    {
                        "id": k.id,
                        "name": k.name or k.id,
                        "unit": k.unit,
                        "value": k.value,
                        "target": k.target,
                        "better": k.better,
                        "standing": k.standing,
                    }
                    for k in pillars[p].kpis
                ],
            }
            for p in order
        ],
    }


def kpi_row(k: dict[str, Any], language: str) -> el.Tree:
    sign = "≥" if k["better"] == "higher" else "≤"
    closed = k["standing"] == "closed"  # the MPP at night: "tutup" in place of the figure, not "– ?"
    return el.Div(
        className=f"cw-kpi standing-{k['standing']}",
        key=k["id"],  # keyed: an incident that moves one KPI sends that row, not the card
        **attrs({"data-kpi": k["id"]}),
        children=[
            el.Div(k["name"], className="cw-kpi-name"),
            el.Div(
                className="cw-kpi-line",
                children=[
                    el.Span(
                        t("closed_now", language) if closed else amount(k["value"], k["unit"], language),
                        className="cw-kpi-value cw-headline",
                    ),
                    el.Span(
                        "" if closed else STANDING_SHAPES.get(k["standing"], "?"),
                        className=f"cw-kpi-shape standing-{k['standing']}",
                    ),
                    el.Span(
                        f"{t('target', language)} {sign} {amount(k['target'], k['unit'], language)}", className="cw-kpi-target"
                    ),
                ],
            ),
        ],
    )


def pillar_card(p: dict[str, Any], language: str) -> el.Tree:
    standing = p["standing"]
    return el.Div(
        className=f"cw-pillar standing-{standing}",
        key=p["id"],
        **attrs({"data-pillar": p["id"]}),
        children=[
            el.Div(
                className="cw-pillar-head",
                children=[
                    el.Span(p["name"], className="cw-pillar-name"),
                    el.Span(
                        f"{STANDING_SHAPES.get(standing, '?')} {t(standing, language)}",
                        className=f"cw-standing standing-{standing}",
                    ),
                ],
            ),
            # cw-fit: in a small grid cell the card shows the KPIs that fit, first ones first
            el.Div([kpi_row(k, language) for k in p["kpis"]], className="cw-pillar-kpis cw-fit"),
        ],
    )


def render(shown: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    if not shown["has_data"]:
        return [empty(language)]
    return [
        el.Div(
            [pillar_card(p, language) for p in shown["pillars"]],
            className="cw-pillars",
            **attrs({"data-count": str(len(shown["pillars"]))}),
        )
    ]


def register(app: Dash, live: LiveParts) -> None:
    live.add(app, "kpis", view, render)
