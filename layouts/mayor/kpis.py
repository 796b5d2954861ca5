"""A pillar's card and its open section: standing, KPIs with value against target, and trends."""

from __future__ import annotations

import time
from typing import Any

from dash import html

from layouts.frame import STANDING_SHAPES
from layouts.i18n import t, when_lately
from layouts.mayor.figures import amount, target_text
from layouts.mayor.summaries import RANGES
from layouts.mayor.trends import part_id, trend_block
from layouts.ports import ViewSettings
from layouts.sections import JUDGED
from layouts.tree import attrs

#: The icons the tablet can draw (CSS masks in ``assets/tablet.css``); ``grid`` is the default.
ICONS = ("building", "people", "chart", "leaf", "home", "bus", "megaphone", "shield", "heart", "grid")


def standing_badge(standing: str, language: str) -> html.Span:
    """Standing told three ways: colour (CSS), a shape and a word."""
    return html.Span(
        [
            html.Span(STANDING_SHAPES.get(standing, "?"), className="tb-shape", **attrs({"aria-hidden": "true"})),
            html.Span(t(standing, language), className="tb-word"),
        ],
        className="tb-standing",
        **attrs({"data-standing": standing}),
    )


def bullet(k: dict[str, Any]) -> html.Div:
    """Value as a bar against a tick at the target, on a scale that holds both."""
    value, target = k["value"], k["target"]
    if value is None or target is None:
        return html.Div(className="tb-bullet tb-bullet-empty")
    top = max(float(value), float(target), 1e-9) * 1.15
    return html.Div(
        className="tb-bullet",
        **attrs({"aria-hidden": "true"}),
        children=[
            html.Div(className="tb-bullet-fill", style={"width": f"{max(0.0, float(value)) / top * 100:.1f}%"}),
            html.Div(className="tb-bullet-target", style={"left": f"{float(target) / top * 100:.1f}%"}),
        ],
    )


def kpi_facts(k: dict[str, Any], settings: ViewSettings) -> list[Any]:
    """Name, standing, value against target, and when the value was measured."""
    language = settings.language
    updated = when_lately(k["updated_at"], settings.timezone, settings.timezone_label, language, time.time())
    # a KPI of a continuous feed says when that feed falls silent; one sent as its own message
    # (a month's revenue) keeps its own rhythm, and its date says how old it is
    stale_for = {"data-stale-for": k["family"]} if k["updated_at"] and k["family"] != "kpis" else {}
    return [
        html.Div(
            [html.Div(k["name"], className="tb-kpi-name"), standing_badge(k["standing"], language)], className="tb-kpi-head"
        ),
        html.Div(
            [
                html.Span(amount(k["value"], k["unit"], language), className="tb-value"),
                html.Span(target_text(k, language), className="tb-target"),
            ],
            className="tb-kpi-figures",
        ),
        bullet(k),
        html.Div(f"{t('updated', language)} {updated}", className="tb-kpi-updated", **attrs(stale_for)),
    ]


def kpi_block(k: dict[str, Any], settings: ViewSettings) -> html.Div:
    return html.Div(
        id=part_id("tb-kpi", k["id"]),
        className="tb-kpi",
        **attrs({"data-kpi": k["id"], "data-standing": k["standing"]}),
        children=[
            html.Div(kpi_facts(k, settings), id=part_id("tb-facts", k["id"]), className="tb-kpi-facts"),
            html.Div([trend_block(k, r, settings) for r in RANGES], className="tb-trends"),
        ],
    )


def on_target(p: dict[str, Any]) -> tuple[int, int, int]:
    """How many of the pillar's KPIs are on target, how many are judged, and how many it has."""
    known = [k for k in p["kpis"] if k["standing"] in JUDGED]
    return sum(1 for k in known if k["standing"] in ("good", "veryGood")), len(known), len(p["kpis"])


def card_body(p: dict[str, Any], language: str) -> list[Any]:
    """What a pillar card says besides its name: standing, and how many KPIs are on target.
    With no KPI known yet it says so: "0 of 2 on target" read as "none on target"."""
    good, known, total = on_target(p)
    if not total:
        summary = t("no_kpis", language)
    elif not known:
        summary = t("kpis_closed" if p["standing"] == "closed" else "kpis_unknown", language, m=total)
    else:
        summary = t("on_target", language, n=good, m=total)
    dots = [
        html.Span(STANDING_SHAPES.get(k["standing"], "?"), className="tb-dot", **attrs({"data-standing": k["standing"]}))
        for k in p["kpis"]
    ]
    return [
        standing_badge(p["standing"], language),
        html.Div(summary, className="tb-card-sub"),
        html.Div(dots, className="tb-dots", **attrs({"aria-hidden": "true"})),
        *card_stale_marks(p, language),
    ]


def card_stale_marks(p: dict[str, Any], language: str) -> list[Any]:
    """One hidden mark per feed the pillar's KPIs are counted from, shown once that feed falls
    silent (``data-stale-for``, kept by ``assets/citywall.js``; the CSS shows one however many).
    A card read "BAIK" from numbers an hour old, with the warning only on the KPI lines inside."""
    families = sorted({k["family"] for k in p["kpis"] if k["updated_at"] and k["family"] != "kpis"})
    return [html.Div(f"⚠ {t('stale', language)}", className="tb-card-stale", **attrs({"data-stale-for": f})) for f in families]


def pillar_title(pillar: str, settings: ViewSettings) -> list[Any]:
    info = settings.pillar(pillar)
    icon = info.icon if info.icon in ICONS else "grid"
    return [
        html.Span(className="tb-icon", **attrs({"data-icon": icon, "aria-hidden": "true"})),
        html.Span(info.name, className="tb-card-name"),
    ]


def detail_body(p: dict[str, Any], settings: ViewSettings) -> list[Any]:
    language = settings.language
    head = html.Div(
        [
            html.H3(pillar_title(p["id"], settings), className="tb-detail-title"),
            html.Div(
                standing_badge(p["standing"], language),
                id={"role": "tb-detail-standing", "pillar": p["id"]},
                className="tb-detail-standing",
            ),
        ],
        className="tb-detail-head",
    )
    if not p["kpis"]:
        return [head, html.Div(t("no_kpis", language), className="tb-empty")]
    return [head, *[kpi_block(k, settings) for k in p["kpis"]]]
