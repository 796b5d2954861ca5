"""``/tablet``: the mayor's summary. A placeholder until the six pillars get their own view."""

from __future__ import annotations

import dash
from dash import html

from layouts.i18n import t
from layouts.ports import ViewSettings
from layouts.screens import panel_block


def register(settings: ViewSettings) -> None:
    def layout(**_: str) -> html.Div:
        return html.Div([html.H1(t("tablet", settings.language)), panel_block("kpis", "tablet", settings)],
                        className="cw-tablet")

    dash.register_page("tablet", path="/tablet", layout=layout, title=f"citywall – {settings.city_name}")
