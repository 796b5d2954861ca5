"""The console's incident detail: status, assignee, SLA clocks, the SOP, actions and history.

The action controls are static (drawn once with the page); only the information above them
follows the selection and the city. Every action goes through ``OperationsPort.act``, which
checks the identity of the request, so a viewer sees the refusal, not a changed incident.
Buttons carry fixed ids so ``assets/console_keys.js`` can drive them from the keyboard.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from layouts.frame import signature
from layouts.i18n import t
from layouts.ports import CityReader, OperationsPort, ViewSettings
from layouts.tree import attrs

BUTTONS = {  # id -> (action, label, shortcut)
    "cw-act-acknowledge": ("acknowledge", "Acknowledge", "a"),
    "cw-act-assign": ("assign", "Assign", "g"),
    "cw-act-note": ("note", "Add note", "n"),
    "cw-act-escalate": ("escalate", "Escalate", "+"),
    "cw-act-deescalate": ("deescalate", "De-escalate", "-"),
    "cw-act-resolve": ("resolve", "Resolve", "r"),
    "cw-act-reopen": ("reopen", "Reopen", "o"),
}


def _minutes(seconds: int | None) -> str:
    if seconds is None:
        return "–"
    sign = "-" if seconds < 0 else ""
    s = abs(int(seconds))
    return f"{sign}{s // 60}:{s % 60:02d}"


def layout(settings: ViewSettings, choices: dict[str, Any]) -> dbc.Card:
    agencies = [{"label": f"{a['id']} – {a['name']}", "value": a["id"]} for a in choices.get("agencies", [])]
    codes = [{"label": c["label"], "value": c["code"]} for c in choices.get("codes", [])]
    button = lambda ident, color="secondary": dbc.Button(  # noqa: E731 - a local shorthand
        [BUTTONS[ident][1], " ", html.Span(BUTTONS[ident][2], className="cw-kbd")], id=ident, color=color, size="sm", n_clicks=0)
    return dbc.Card(
        [
            dbc.CardHeader(html.Strong("Incident")),
            dbc.CardBody(
                [
                    dcc.Store(id="cw-console-detail-sig", data=None),
                    html.Div(id="cw-console-detail", children=html.Div("Select an incident (j / k)", className="text-secondary")),
                    html.Hr(),
                    dbc.Row(
                        [
                            dbc.Col(button("cw-act-acknowledge", "warning"), width="auto"),
                            dbc.Col(
                                dbc.Select(
                                    id="cw-act-agency",
                                    options=[{"label": "agency…", "value": ""}, *agencies],
                                    value="",
                                    size="sm",
                                ),
                                md=3,
                            ),
                            dbc.Col(button("cw-act-assign", "primary"), width="auto"),
                            dbc.Col(button("cw-act-escalate"), width="auto"),
                            dbc.Col(button("cw-act-deescalate"), width="auto"),
                        ],
                        className="g-2 mb-2 align-items-center",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(
                                dbc.Select(
                                    id="cw-act-code", options=[{"label": "resolution…", "value": ""}, *codes], value="", size="sm"
                                ),
                                md=4,
                            ),
                            dbc.Col(button("cw-act-resolve", "success"), width="auto"),
                            dbc.Col(button("cw-act-reopen"), width="auto"),
                        ],
                        className="g-2 mb-2 align-items-center",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(dbc.Input(id="cw-act-text", placeholder="note (n)", maxLength=1000, size="sm"), md=7),
                            dbc.Col(button("cw-act-note"), width="auto"),
                        ],
                        className="g-2 mb-2 align-items-center",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(
                                dbc.Input(
                                    id="cw-push-screen", type="number", min=1, max=choices.get("screens", 24), value=4, size="sm"
                                ),
                                md=2,
                            ),
                            dbc.Col(dbc.Input(id="cw-push-minutes", type="number", min=1, max=240, value=10, size="sm"), md=2),
                            dbc.Col(
                                dbc.Button(
                                    ["Push to wall ", html.Span("p", className="cw-kbd")],
                                    id="cw-act-push",
                                    color="info",
                                    size="sm",
                                    n_clicks=0,
                                ),
                                width="auto",
                            ),
                        ],
                        className="g-2 align-items-center",
                    ),
                    html.Div(id="cw-console-msg", className="mt-2", role="status"),
                ]
            ),
        ]
    )


def render(detail: dict[str, Any] | None, language: str) -> Any:
    if not detail:
        return html.Div("Select an incident (j / k)", className="text-secondary")
    sla = detail.get("sla") or {}

    def clock(step: str) -> html.Span:
        if f"{step}_took_s" in sla:
            ok = sla.get(f"{step}_met")
            return html.Span(
                f"{_minutes(sla[f'{step}_took_s'])} {'✓' if ok else '✗'}", className="cw-sla-ok" if ok else "cw-sla-over"
            )
        left = sla.get(f"{step}_left_s")
        return html.Span(_minutes(left), className="cw-sla-over" if left is not None and left < 0 else "cw-sla-ok")

    sop = [
        html.Li([
            dbc.Checkbox(id={"role": "cw-sop", "step": s["step"]}, value=bool(s["done"]), label=s["text"],
                         className="d-inline-block"),
            html.Small(f"  {s['by']} {s['at'][11:16]}" if s.get("done") else "", className="text-secondary"),
        ], **attrs({"data-step": str(s["step"]), "data-done": "true" if s["done"] else "false"}))
        for s in detail.get("sop", [])
    ]
    history = [html.Li(f"{h['at'][11:19]} {h['by']} ({h['role']}) {h['action']}"
                       + "".join(f" {k}={h[k]}" for k in ("status", "agency", "severity", "code", "step") if k in h)
                       + (f" – {h['text']}" if h.get("text") else ""))
               for h in reversed(detail.get("history", []))]
    return html.Div([
        html.H5(detail.get("description") or detail.get("category") or detail["id"]),
        html.Div([
            dbc.Badge(t(detail.get("severity") or "medium", language), color="danger", className="me-2"),
            html.Span(dbc.Badge(t(detail["status"], language), color="info", className="me-2"), id="cw-detail-status",
                      **attrs({"data-status": detail["status"]})),
            html.Span(f"→ {detail['assignee']}" if detail.get("assignee") else "unassigned", id="cw-detail-assignee"),
        ], className="mb-2"),
        html.Div([html.Small(f"{detail['id']} · {detail.get('category')} · {detail.get('kecamatan') or '–'}")]),
        html.Div(["Acknowledge SLA ", clock("acknowledge"), " · Resolve SLA ", clock("resolve")], className="mb-2"),
        html.Strong("SOP") if sop else None,
        html.Ul(sop, className="list-unstyled mb-2") if sop else None,
        html.Strong("History"),
        html.Ul(history or [html.Li("–")], className="cw-history list-unstyled"),
    ], **attrs({"data-incident": detail["id"], "data-status": detail["status"]}))


def register(app: Dash, reader: CityReader, settings: ViewSettings, port: OperationsPort) -> None:
    @app.callback(
        Output("cw-console-detail", "children"),
        Output("cw-console-detail-sig", "data"),
        Input("cw-console-selected", "data"),
        Input("cw-version", "data"),
        Input("cw-console-done", "data"),
        State("cw-console-detail-sig", "data"),
    )
    def _detail(selected: str | None, _v: Any, _d: Any, shown: str | None) -> Any:
        detail = port.incident(selected) if selected else None
        # redrawn when something shown changes: the SLA clocks count in minutes here
        sla = {k: (v // 60 if k.endswith("_left_s") else v) for k, v in ((detail or {}).get("sla") or {}).items()}
        digest = signature({k: v for k, v in (detail or {}).items() if k not in ("sla", "age_s")} | {"sel": selected, "sla": sla})
        if digest == shown:
            raise PreventUpdate
        return render(detail, settings.language), digest

    @app.callback(
        Output("cw-console-msg", "children"),
        Output("cw-console-done", "data"),
        *[Input(ident, "n_clicks") for ident in BUTTONS],
        State("cw-console-selected", "data"),
        State("cw-act-agency", "value"),
        State("cw-act-code", "value"),
        State("cw-act-text", "value"),
        State("cw-console-done", "data"),
        prevent_initial_call=True,
    )
    def _act(*args: Any) -> Any:
        selected, agency, code, text, done = args[len(BUTTONS):]
        trigger = ctx.triggered_id
        if trigger not in BUTTONS or not (ctx.triggered and ctx.triggered[0].get("value")):
            raise PreventUpdate
        if not selected:
            return dbc.Alert("Select an incident first", color="warning", className="py-1"), no_update
        action = BUTTONS[trigger][0]
        ok, result = port.act(selected, {"action": action, "agency": (agency or None) if action == "assign" else None,
                                         "code": (code or None) if action == "resolve" else None,
                                         "text": text if action == "note" else None})
        if not ok:
            return dbc.Alert(str(result), color="danger", className="py-1", id="cw-msg-error"), no_update
        return dbc.Alert(f"{action}: {result['status']}", color="success", className="py-1", id="cw-msg-ok"), (done or 0) + 1

    @app.callback(
        Output("cw-console-msg", "children", allow_duplicate=True),
        Output("cw-console-done", "data", allow_duplicate=True),
        Input({"role": "cw-sop", "step": ALL}, "value"),
        State("cw-console-selected", "data"),
        State("cw-console-done", "data"),
        prevent_initial_call=True,
    )
    def _tick(values: list[bool], selected: str | None, done: int | None) -> Any:
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not selected or len(ctx.triggered) != 1:
            raise PreventUpdate
        detail = port.incident(selected) or {}
        step = trigger["step"]
        current = next((s for s in detail.get("sop", []) if s["step"] == step), None)
        wanted = bool(ctx.triggered[0].get("value"))
        if current is None or current["done"] == wanted:
            raise PreventUpdate
        ok, result = port.act(selected, {"action": "tick" if wanted else "untick", "step": step})
        if not ok:
            return dbc.Alert(str(result), color="danger", className="py-1"), (done or 0) + 1
        return no_update, (done or 0) + 1

    @app.callback(
        Output("cw-console-msg", "children", allow_duplicate=True),
        Input("cw-act-push", "n_clicks"),
        State("cw-console-selected", "data"),
        State("cw-push-screen", "value"),
        State("cw-push-minutes", "value"),
        prevent_initial_call=True,
    )
    def _push(clicks: int | None, selected: str | None, screen: Any, minutes: Any) -> Any:
        if not clicks:
            raise PreventUpdate
        if not selected:
            return dbc.Alert("Select an incident first", color="warning", className="py-1")
        ok, result = port.wall_action("push", {"screen": screen, "incident": selected, "minutes": minutes})
        return dbc.Alert(f"on screen {screen}" if ok else str(result), color="success" if ok else "danger", className="py-1")
