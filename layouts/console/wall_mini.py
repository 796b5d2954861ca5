"""The console's live miniature of the wall, and the supervisor's controls for it.

The miniature is the wall's grid, each screen labelled with what it shows now: its panels
under the current preset, or the takeover or pushed incident that covers it, with the
broadcast above. It follows the same picture as the screens, so what the desk sees is
what the wall shows. Preset and broadcast go through ``OperationsPort.wall_action``; the
port refuses them to anyone below supervisor. Under it, each station that has taken a
screen over has its acknowledge button (an operator's): a takeover's own screen says only
what happened, and the desk had no way to answer it but the HTTP API.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from layouts.console.controls import minutes_box, out_of_range, said
from layouts.frame import signature
from layouts.i18n import number, t
from layouts.ports import Callbacks, CityReader, OperationsPort, ViewSettings
from layouts.sections import StationTakeover, WallPreset, WallSection
from layouts.tree import attrs


def preset_label(preset: WallPreset, language: str) -> str:
    """A preset as the desk reads it: the config's label, not its slug; the wall's own layout
    ("default") has no config entry, so its word comes from the catalog."""
    return t("preset_default", language) if preset.name == "default" else preset.label


def level_options(levels: list[str], language: str) -> list[dict[str, str]]:
    """The broadcast levels in the banner's words; the value stays the code the API takes, so
    what the supervisor picks reads the same as what the wall then shows."""
    return [{"label": t(level, language), "value": level} for level in levels]


def layout(settings: ViewSettings, choices: dict[str, Any], supervisor: bool = True) -> dbc.Card:
    """``supervisor``: whether the person at the desk may drive the wall. An operator sees
    the controls greyed out with the reason beside them: they were offered, and each press
    only answered that it needs a supervisor."""
    language = settings.language
    return dbc.Card(
        [
            dbc.CardHeader(html.Strong(t("console_wall", language))),
            dbc.CardBody(
                [
                    dcc.Store(id="cw-mini-sig", data=None),
                    dcc.Store(id="cw-mini-preset-seen", data=None),
                    html.Div(id="cw-mini-wall"),
                    html.Hr(),
                    html.Small(t("console_wall_supervisor_only", language), className="text-secondary d-block mb-2")
                    if not supervisor
                    else None,
                    html.Fieldset(
                        [
                            dbc.Row(
                                [
                                    dbc.Col(
                                        dbc.Select(
                                            id="cw-preset-choice",
                                            options=[
                                                {"label": preset_label(p, language), "value": p.name}
                                                for p in choices.get("presets", [])
                                            ],
                                            value="default",
                                            size="sm",
                                        ),
                                        md=6,
                                    ),
                                    dbc.Col(
                                        dbc.Button(
                                            t("console_switch_preset", language), id="cw-preset-apply", size="sm", n_clicks=0
                                        ),
                                        width="auto",
                                    ),
                                ],
                                className="g-2 mb-2 align-items-center",
                            ),
                            dbc.Row(
                                [
                                    dbc.Col(
                                        dbc.Select(
                                            id="cw-broadcast-level",
                                            options=level_options(choices.get("levels", []), language),
                                            value="ORANGE",
                                            size="sm",
                                        ),
                                        md=3,
                                    ),
                                    dbc.Col(
                                        dbc.Input(
                                            id="cw-broadcast-text",
                                            placeholder=t("console_broadcast_text", language),
                                            maxLength=280,
                                            size="sm",
                                        ),
                                        md=6,
                                    ),
                                    dbc.Col(
                                        minutes_box(
                                            "cw-broadcast-minutes", choices.get("broadcast_minutes_max", 720), 30, language
                                        ),
                                        md=3,
                                    ),
                                ],
                                className="g-2 mb-2 align-items-center",
                            ),
                            dbc.Row(
                                [
                                    dbc.Col(
                                        dbc.Button(
                                            t("console_broadcast", language),
                                            id="cw-broadcast-send",
                                            color="danger",
                                            size="sm",
                                            n_clicks=0,
                                        ),
                                        width="auto",
                                    ),
                                    dbc.Col(
                                        dbc.Button(
                                            t("console_clear_broadcast", language), id="cw-broadcast-clear", size="sm", n_clicks=0
                                        ),
                                        width="auto",
                                    ),
                                ],
                                className="g-2 align-items-center",
                            ),
                        ],
                        disabled=not supervisor,
                        id="cw-wall-controls",
                    ),
                    html.Div(id="cw-wall-msg", className="mt-2", role="status"),
                ]
            ),
        ]
    )


def miniature(wall: WallSection, settings: ViewSettings) -> html.Div:
    preset = wall.current or "default"
    current = next((p for p in wall.presets if p.name == preset), WallPreset(preset, preset))
    chosen = settings.presets.get(preset, {})
    takeovers = {x.screen: x for x in wall.takeovers}
    pushed = {p.screen: p for p in wall.pushed}
    cells = []
    for screen in range(1, settings.wall.screen_count + 1):
        span = settings.span_at(screen)
        names = chosen.get(screen) or settings.screens.get(screen) or ((span.panel,) if span else ())
        label, extra = ", ".join(t(n, settings.language) for n in names), ""
        if screen in takeovers:
            label, extra = f"⚠ {takeovers[screen].title}", " cw-mini-takeover"
        elif screen in pushed:
            label, extra = f"▶ {pushed[screen].title}", " cw-mini-pushed"
        cells.append(
            html.Div(
                [html.B(f"{screen} "), label],
                className="cw-mini-screen" + extra,
                title=label,
                **attrs({"data-mini-screen": str(screen)}),
            )
        )
    broadcast = wall.broadcast
    return html.Div(
        [
            html.Div(
                f"{t(broadcast.level, settings.language)}: {broadcast.text}", className=f"cw-mini-broadcast lvl-{broadcast.level}"
            )
            if broadcast
            else None,
            html.Small(
                t("console_preset", settings.language, preset=preset_label(current, settings.language)),
                id="cw-mini-preset",
                **attrs({"data-preset": preset}),
            ),
            html.Div(cells, className="cw-mini-wall", style={"gridTemplateColumns": f"repeat({settings.wall.columns}, 1fr)"}),
            *[station_ack(x, settings.language) for x in wall.takeovers if isinstance(x, StationTakeover)],
        ]
    )


def station_ack(takeover: StationTakeover, language: str) -> html.Div:
    """A station's takeover as the desk answers it: which screen, which station at what stage
    and level, and the button that acknowledges it for the rule's hold."""
    level = f"{number(takeover.level_m, language, 2)}\u00a0m" if takeover.level_m is not None else ""
    return html.Div(
        [
            html.Span(t("console_station_takeover", language, screen=takeover.screen, station=takeover.title)),
            html.Span(f" {t(takeover.stage, language)} {level}", className="cw-mini-stage"),
            dbc.Button(
                t("console_ack_station", language),
                id={"type": "cw-ack-station", "station": takeover.id},
                color="warning",
                size="sm",
                n_clicks=0,
                className="ms-2",
            ),
        ],
        className="cw-mini-station mt-2",
        **attrs({"data-station-takeover": takeover.id}),
    )


def register(app: Callbacks, reader: CityReader, settings: ViewSettings, port: OperationsPort) -> None:
    @app.callback(
        Output("cw-mini-wall", "children"),
        Output("cw-mini-sig", "data"),
        Output("cw-preset-choice", "value"),
        Output("cw-mini-preset-seen", "data"),
        Input("cw-version", "data"),
        Input("cw-beat-tick", "n_intervals"),
        State("cw-mini-sig", "data"),
        State("cw-mini-preset-seen", "data"),
    )
    def _mini(_v: Any, _beat: Any, shown: str | None, preset_seen: str | None) -> Any:
        """Also on the page's heartbeat: a push or broadcast ends by the clock, which changes
        nothing in the city, so on a quiet night the miniature would show it long after.

        The preset choice follows the wall when the wall's preset changes (and when the page
        opens: after a reload it offered the wall's own layout under "Banjir"), never while
        the wall stays put, or a push would undo what the supervisor was choosing."""
        wall = reader.picture().wall
        now = time.time()
        broadcast = wall.broadcast if wall.broadcast is not None and wall.broadcast.until > now else None
        wall = replace(wall, pushed=[p for p in wall.pushed if p.until > now], broadcast=broadcast)
        digest = signature(wall.to_json())
        if digest == shown:
            raise PreventUpdate
        preset = wall.current or "default"
        chosen = (preset, preset) if preset != preset_seen else (no_update, no_update)
        return miniature(wall, settings), digest, *chosen

    @app.callback(
        Output("cw-wall-msg", "children", allow_duplicate=True),
        Input({"type": "cw-ack-station", "station": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def _ack_station(_clicks: list[Any]) -> Any:
        if not (ctx.triggered and ctx.triggered[0].get("value")):
            raise PreventUpdate  # the buttons were drawn again, not pressed
        station = ctx.triggered_id["station"]
        ok, result = port.wall_action("ack_station", {"station": station})
        if ok:
            return dbc.Alert(t("console_done", settings.language), color="success", className="py-1")
        return dbc.Alert(said(result, settings.language), color="danger", className="py-1")

    @app.callback(
        Output("cw-wall-msg", "children"),
        # the preset the desk last saw on the wall is the one just applied: the miniature's
        # next look, which can come a second later, then finds nothing new to follow
        Output("cw-mini-preset-seen", "data", allow_duplicate=True),
        Input("cw-preset-apply", "n_clicks"),
        Input("cw-broadcast-send", "n_clicks"),
        Input("cw-broadcast-clear", "n_clicks"),
        State("cw-preset-choice", "value"),
        State("cw-broadcast-level", "value"),
        State("cw-broadcast-text", "value"),
        State("cw-broadcast-minutes", "value"),
        prevent_initial_call=True,
    )
    def _control(_a: Any, _b: Any, _c: Any, preset: str, level: str, text: str | None, minutes: Any) -> Any:
        if not (ctx.triggered and ctx.triggered[0].get("value")):
            raise PreventUpdate
        trigger = ctx.triggered_id
        if trigger == "cw-preset-apply":
            ok, result = port.wall_action("preset", {"preset": preset})
        elif trigger == "cw-broadcast-send":
            wrong = out_of_range(
                minutes, port.choices().get("broadcast_minutes_max", 720), "console_minutes_range", settings.language
            )
            if wrong:
                return dbc.Alert(wrong, color="danger", className="py-1"), no_update
            ok, result = port.wall_action("broadcast", {"level": level, "text": text, "minutes": minutes})
        else:
            ok, result = port.wall_action("clear_broadcast", {})
        if not ok:
            return dbc.Alert(said(result, settings.language), color="danger", className="py-1"), no_update
        seen = preset if trigger == "cw-preset-apply" else no_update
        return dbc.Alert(t("console_done", settings.language), color="success", className="py-1", id="cw-wall-ok"), seen
