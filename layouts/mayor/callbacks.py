"""The tablet's callbacks: headlines and cards, then every pillar's KPIs, then (in the browser) what is open.

The server sends only what changed, into elements that stay: each callback keeps a digest
per part in a store on the page and answers ``no_update`` for parts whose digest is the
same. Opening a pillar, closing it and switching the trend span need no server at all:
they are ``toggle`` and ``exportBusy`` in ``assets/tablet.js``.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, ClientsideFunction, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from layouts.frame import signature
from layouts.mayor.headlines import as_of_text, headline_tiles
from layouts.mayor.kpis import card_body, detail_body, kpi_facts, standing_badge
from layouts.mayor.page import ROOT_ID
from layouts.mayor.summaries import RANGES, headline_summary, pillar_ids, pillar_summaries
from layouts.mayor.trends import trend_parts
from layouts.ports import Callbacks, CityReader, ViewSettings


def register(app: Callbacks, reader: CityReader, settings: ViewSettings) -> None:
    """The tablet's callbacks: headlines and cards, the KPIs, and (in the browser) what is open."""
    language = settings.language
    memo: dict[str, tuple[Any, dict[str, Any], dict[str, Any]]] = {}

    def summaries() -> tuple[dict[str, Any], dict[str, Any]]:
        """Computed once per picture, however many tablets ask (one tuple, swapped whole). The
        reader builds a new picture when the version moves and when the minute turns."""
        picture = reader.picture()
        cached = memo.get("summaries")
        if cached is None or cached[0] is not picture.original:
            cached = memo["summaries"] = (picture.original, headline_summary(picture), pillar_summaries(picture, settings))
        return cached[1], cached[2]

    def differ(known: dict[str, str] | None) -> tuple[dict[str, str], Any]:
        """A fresh digest map, and ``changed(key, shown)`` that records a digest and compares it."""
        old = known or {}
        sig: dict[str, str] = {}

        def changed(key: str, shown: Any) -> bool:
            sig[key] = signature(shown)
            return old.get(key) != sig[key]

        return sig, changed

    def each(index: int, chosen: dict[Any, Any], render: Any) -> list[Any]:
        """One entry per matched component, in the order Dash lists them; ``no_update`` if unchanged."""
        out = []
        for o in ctx.outputs_list[index]:
            i = o["id"]
            key = i["pillar"] if "pillar" in i else ((i["kpi"], i["range"]) if "range" in i else i["kpi"])
            value = chosen.get(key)
            out.append(no_update if value is None else render(value))
        return out

    @app.callback(
        Output("tb-headlines", "children"),
        Output("tb-asof", "children"),
        Output({"role": "tb-card-body", "pillar": ALL}, "children"),
        Output({"role": "tb-card", "pillar": ALL}, "data-standing"),
        Output("tb-sig", "data"),
        Input("cw-version", "data"),
        Input("tb-minute", "n_intervals"),
        State("tb-sig", "data"),
    )
    def _summary(_: int | None, _minute: int | None, known: dict[str, str] | None) -> tuple[Any, ...]:
        """The headlines and the pillar cards: small, so they answer first and the page is useful."""
        heads, pillars = summaries()
        sig, changed = differ(known)
        head_out = (
            headline_tiles(heads, language)
            if changed("head", [heads[x] for x in ("incidents", "flood", "mpp", "waste")])
            else no_update
        )
        asof_out = as_of_text(heads["as_of"], settings) if changed("asof", heads["as_of"]) else no_update
        cards: dict[str, Any] = {}
        for pillar in pillar_ids(settings):
            p = pillars.get(pillar) or {"id": pillar, "standing": "unknown", "kpis": []}
            cards[pillar] = (
                p if changed(f"card:{pillar}", [p["standing"], [[k["id"], k["standing"]] for k in p["kpis"]]]) else None
            )
        if sig == known:
            raise PreventUpdate  # Dash takes no_update for a wildcard output only inside its list
        return (
            head_out,
            asof_out,
            each(2, cards, lambda p: card_body(p, language)),
            each(3, cards, lambda p: p["standing"]),
            sig,
        )

    @app.callback(
        Output({"role": "tb-body", "pillar": ALL}, "children"),
        Output({"role": "tb-detail-standing", "pillar": ALL}, "children"),
        Output({"role": "tb-kpi", "kpi": ALL}, "data-standing"),
        Output({"role": "tb-facts", "kpi": ALL}, "children"),
        Output({"role": "tb-chart", "kpi": ALL, "range": ALL}, "src"),
        Output({"role": "tb-chart", "kpi": ALL, "range": ALL}, "alt"),
        Output({"role": "tb-marks", "kpi": ALL, "range": ALL}, "children"),
        Output({"role": "tb-caption", "kpi": ALL, "range": ALL}, "children"),
        Output("tb-sig-kpis", "data"),
        Input("cw-version", "data"),
        Input("tb-minute", "n_intervals"),
        State("tb-sig-kpis", "data"),
    )
    def _kpis(_: int | None, _minute: int | None, known: dict[str, str] | None) -> tuple[Any, ...]:
        """Every pillar's KPIs, sent into elements that stay: charts are never remounted.

        A pillar's section is built once (again only if its list of KPIs changes). After that
        a new standing replaces the pillar's badge, a new value replaces that KPI's text, and
        a new trend point replaces the image source and the labels of that span, in place.
        All arrive with the page (in their own request, after the cards), so opening a
        pillar needs no server.
        """
        _heads, pillars = summaries()
        sig, changed = differ(known)
        bodies: dict[str, Any] = {}
        standings: dict[str, Any] = {}
        facts: dict[str, Any] = {}
        spans: dict[tuple[str, str], Any] = {}
        for pillar in pillar_ids(settings):
            p = pillars.get(pillar) or {"id": pillar, "standing": "unknown", "kpis": []}
            shape = [[k["id"], k["name"], k["unit"], k["target"], k["better"]] for k in p["kpis"]]
            rebuilt = changed(f"body:{pillar}", shape)
            bodies[pillar] = p if rebuilt else None
            standings[pillar] = p if changed(f"standing:{pillar}", p["standing"]) and not rebuilt else None
            for k in p["kpis"]:
                # "updated 15:42 WIB" is shown to the minute: a derived KPI re-stamped every second is not news
                shown = {**{x: y for x, y in k.items() if x != "trends"}, "updated_at": (k["updated_at"] or "")[:16]}
                fresh = changed(f"kpi:{k['id']}", shown)
                facts[k["id"]] = k if fresh and not rebuilt else None
                for r in RANGES:
                    fresh = changed(f"trend:{k['id']}:{r}", [k["trends"][r], k["standing"]])
                    spans[(k["id"], r)] = trend_parts(k, r, settings) if fresh and not rebuilt else None
        if sig == known:
            raise PreventUpdate
        return (
            each(0, bodies, lambda p: detail_body(p, settings)),
            each(1, standings, lambda p: standing_badge(p["standing"], language)),
            each(2, facts, lambda k: k["standing"]),
            each(3, facts, lambda k: kpi_facts(k, settings)),
            each(4, spans, lambda parts: parts[0]),
            each(5, spans, lambda parts: parts[1]),
            each(6, spans, lambda parts: parts[2]),
            each(7, spans, lambda parts: parts[3]),
            sig,
        )

    app.clientside_callback(
        ClientsideFunction(namespace="citywall_tablet", function_name="toggle"),
        Output(ROOT_ID, "data-open"),
        Output(ROOT_ID, "data-range"),
        Output({"role": "tb-card", "pillar": ALL}, "aria-expanded"),
        Output(ROOT_ID, "data-open-index"),
        Input({"role": "tb-card", "pillar": ALL}, "n_clicks"),
        Input("tb-close", "n_clicks"),
        Input("tb-range", "value"),
        State(ROOT_ID, "data-open"),
    )
    app.clientside_callback(
        ClientsideFunction(namespace="citywall_tablet", function_name="exportBusy"),
        Output("tb-export", "data-taps"),
        Input("tb-export", "n_clicks"),
        prevent_initial_call=True,
    )
