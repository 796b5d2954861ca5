"""The console's incident detail: status, assignee, SLA clocks, the SOP, actions and history.

The action controls are static (drawn once with the page); only the information above them
follows the selection and the city. Every action goes through ``OperationsPort.act``, which
checks the identity of the request, so a viewer sees the refusal, not a changed incident.
Buttons carry fixed ids so ``assets/console_keys.js`` can drive them from the keyboard.
"""

from __future__ import annotations

import time
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from layouts.console.controls import labelled, minutes_box, out_of_range, said
from layouts.frame import signature
from layouts.i18n import category_word, day_start, local_time_lately, t
from layouts.ports import Callbacks, CityReader, OperationsPort, ViewSettings
from layouts.tree import attrs

BUTTONS = {  # id -> (action, the catalog key of its label, shortcut)
    "cw-act-acknowledge": ("acknowledge", "console_act_acknowledge", "a"),
    "cw-act-assign": ("assign", "console_act_assign", "g"),
    "cw-act-note": ("note", "console_act_note", "n"),
    "cw-act-escalate": ("escalate", "console_act_escalate", "+"),
    "cw-act-deescalate": ("deescalate", "console_act_deescalate", "-"),
    "cw-act-resolve": ("resolve", "console_act_resolve", "r"),
    "cw-act-reopen": ("reopen", "console_act_reopen", "o"),
}


#: The most of an incident's title that the desk's answer line quotes.
TITLE_SHOWN = 80
#: The severity badge in the colours of the wall's queue (``assets/citywall.css``): it was red
#: for every severity.
BADGE_COLORS = {"critical": "#ff5c5c", "high": "#ff922b", "medium": "#ffd43b", "low": "#66d9e8", "informational": "#ced4da"}


def _minutes(seconds: int | None, language: str) -> str:
    """An SLA clock: "4:05" under an hour, "11 jam 59 mnt" from an hour on ("719:47" read like
    a time of day). ``assets/citywall.js`` counts it down in the same words."""
    if seconds is None:
        return "–"
    sign = "-" if seconds < 0 else ""
    s = abs(int(seconds))
    if s >= 3_600:
        return f"{sign}{s // 3_600} {t('hours_short', language)} {s % 3_600 // 60} {t('min_short', language)}"
    return f"{sign}{s // 60}:{s % 60:02d}"


def _outcome(action: str, result: dict[str, Any], language: str) -> str:
    """What the message after an action says: what it changed. A note said the incident's
    status ("Add note: resolved" read as if the note had resolved it), and an assignment
    did not say to whom, so two operators assigning at once each read their own agency."""
    if action in ("escalate", "deescalate"):
        return t(result["severity"], language)
    if action in ("note", "tick", "untick"):
        return t("console_saved", language)
    if action == "assign" and result.get("assignee"):
        return f"{t(result['status'], language)} → {result['assignee']}"
    return t(result["status"], language)


def push_default(settings: ViewSettings) -> int:
    """The screen a push goes to unless the operator says: the first showing the incident
    queue, else the first not under a spanned panel. It was screen 4, which on a small wall
    was half of the map, or no screen at all."""
    screens = range(1, settings.wall.screen_count + 1)
    queue = next((n for n in screens if "incident_queue" in settings.screens.get(n, ())), None)
    return queue or next((n for n in screens if settings.span_at(n) is None), 1)


def layout(settings: ViewSettings, choices: dict[str, Any]) -> dbc.Card:
    language = settings.language
    agencies = [{"label": f"{a['id']} – {a['name']}", "value": a["id"]} for a in choices.get("agencies", [])]
    codes = [{"label": c["label"], "value": c["code"]} for c in choices.get("codes", [])]
    button = lambda ident, color="secondary": dbc.Button(  # noqa: E731 - a local shorthand
        [t(BUTTONS[ident][1], language), " ", html.Span(BUTTONS[ident][2], className="cw-kbd")],
        id=ident,
        color=color,
        size="sm",
        n_clicks=0,
    )
    return dbc.Card(
        [
            dbc.CardHeader(html.Strong(t("console_incident", language))),
            dbc.CardBody(
                [
                    dcc.Store(id="cw-console-detail-sig", data=None),
                    dcc.Store(id="cw-detail-seen", data=None),  # the incident the detail shows and its assignee
                    # the actions first, then the incident: below it, the buttons moved down with
                    # each note and SOP step, and a long history took them off a 1080-line screen
                    dbc.Row(
                        [
                            dbc.Col(button("cw-act-acknowledge", "warning"), width="auto"),
                            dbc.Col(
                                dbc.Select(
                                    id="cw-act-agency",
                                    options=agencies,
                                    value="",
                                    placeholder=t("console_agency_choice", language),
                                    size="sm",
                                ),
                                # what is left of the row: on a 1920-wide desk room for "Dishub –
                                # Dinas Perhubungan", which a quarter of the row cut
                                style={"minWidth": "10rem"},
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
                                    id="cw-act-code",
                                    options=codes,
                                    value="",
                                    placeholder=t("console_resolution_choice", language),
                                    size="sm",
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
                            dbc.Col(
                                dbc.Input(
                                    id="cw-act-text",
                                    placeholder=t("console_note_placeholder", language),
                                    maxLength=1000,
                                    size="sm",
                                ),
                                md=7,
                            ),
                            dbc.Col(button("cw-act-note"), width="auto"),
                        ],
                        className="g-2 mb-2 align-items-center",
                    ),
                    dbc.Row(
                        [
                            dbc.Col(
                                labelled(
                                    t("screen", language),
                                    dbc.Input(
                                        id="cw-push-screen",
                                        type="number",
                                        min=1,
                                        max=choices.get("screens", 24),
                                        value=push_default(settings),
                                    ),
                                ),
                                md=3,
                            ),
                            dbc.Col(
                                minutes_box("cw-push-minutes", choices.get("push_minutes_max", 240), 10, language),
                                md=3,
                            ),
                            dbc.Col(
                                dbc.Button(
                                    [t("console_push", language), " ", html.Span("p", className="cw-kbd")],
                                    id="cw-act-push",
                                    color="info",
                                    size="sm",
                                    n_clicks=0,
                                ),
                                width="auto",
                            ),
                            dbc.Col(
                                dbc.Button(
                                    t("console_unpush", language), id="cw-act-unpush", color="secondary", size="sm", n_clicks=0
                                ),
                                width="auto",
                            ),
                        ],
                        className="g-2 align-items-center",
                    ),
                    html.Div(id="cw-console-msg", className="mt-2", role="status"),
                    html.Hr(),
                    html.Div(
                        id="cw-console-detail", children=html.Div(t("console_select_hint", language), className="text-secondary")
                    ),
                ]
            ),
        ],
        className="cw-console-detail-card",
    )


#: The history's word for each action the desk records (``dashboard.incident_ops.ACTIONS``).
HISTORY_WORDS = {
    action: f"history_{action}"
    for action in (
        "acknowledge",
        "assign",
        "note",
        "escalate",
        "deescalate",
        "resolve",
        "reopen",
        "tick",
        "untick",
        "field_severity",  # not the desk's: the field named another severity after an operator's
    )
}


def history_words(entry: dict[str, Any], language: str, codes: dict[str, str]) -> str:
    """What one history entry says, in the console's language: the action and what it set
    (the new status, the agency, the severity, the resolution's label, the SOP step counted
    from 1). It read ``assign status=dispatched agency=Dishub``, the desk's own ids."""
    action = str(entry.get("action", ""))
    said = [t(HISTORY_WORDS[action], language) if action in HISTORY_WORDS else action]
    if isinstance(entry.get("step"), int):
        said[0] += f" {entry['step'] + 1}"
    if entry.get("agency"):
        said.append(str(entry["agency"]))
    if entry.get("code"):
        said.append(codes.get(str(entry["code"]), str(entry["code"])))
    if entry.get("severity"):
        said.append(t(str(entry["severity"]), language))
    if entry.get("status"):
        said.append(f"→ {t(str(entry['status']), language)}")
    return " · ".join(said)


def assignee_words(detail: dict[str, Any], language: str) -> str:
    """The agency the incident went to; with none, whether one is still to be given. An incident
    the field dispatched or resolved names none (its messages carry no agency), and beside the
    status "dikirim", "belum ditugaskan" said the opposite of what had happened."""
    if detail.get("assignee"):
        return f"→ {detail['assignee']}"
    moved_on = detail.get("status") in ("dispatched", "resolved")
    return t("agency_unnamed" if moved_on else "console_unassigned", language)


def who(entry: dict[str, Any], language: str) -> str:
    """Who made a history entry: a name and role, or the field's word for what it said itself."""
    return t("history_by_field", language) if entry.get("role") == "field" else f"{entry['by']} ({entry['role']})"


def render(
    detail: dict[str, Any] | None, settings: ViewSettings, now: float | None = None, codes: dict[str, str] | None = None
) -> Any:
    """The selected incident. Its history and SOP ticks are on the city's clock, with the day
    for those before the city's day at ``now`` (default: the time now): an incident open since
    yesterday listed yesterday's 23:55 after this morning's 00:10 as if both were today's.
    ``codes`` gives the resolution codes' labels."""
    language = settings.language
    now = time.time() if now is None else now
    if not detail:
        return html.Div(t("console_select_hint", language), className="text-secondary")
    sla = detail.get("sla") or {}

    def at(iso: str, pattern: str = "HH:mm") -> str:
        return local_time_lately(iso, settings.timezone, language, now, pattern)

    def clock(step: str) -> html.Span:
        if f"{step}_took_s" in sla:
            ok = sla.get(f"{step}_met")
            took = _minutes(sla[f"{step}_took_s"], language)
            return html.Span(f"{took} {'✓' if ok else '✗'}", className="cw-sla-ok" if ok else "cw-sla-over")
        left = sla.get(f"{step}_left_s")
        # the browser counts down to the deadline (``assets/citywall.js``): the detail is
        # redrawn only when the city changes, and on a quiet feed an overdue clock stayed green
        due = {"data-sla-due": sla[f"{step}_due"]} if f"{step}_due" in sla else {}
        over = left is not None and left < 0
        return html.Span(_minutes(left, language), className="cw-sla-over" if over else "cw-sla-ok", **attrs(due))

    sop = [
        html.Li(
            [
                dbc.Checkbox(
                    id={"role": "cw-sop", "step": s["step"]}, value=bool(s["done"]), label=s["text"], className="d-inline-block"
                ),
                html.Small(
                    f"  {s['by']} {at(s['at'])}" if s.get("done") else "",
                    className="text-secondary",
                ),
            ],
            **attrs({"data-step": str(s["step"]), "data-done": "true" if s["done"] else "false"}),
        )
        for s in detail.get("sop", [])
    ]
    history = [
        html.Li(
            [
                f"{at(h['at'], 'HH:mm:ss')} {who(h, language)} " + history_words(h, language, codes or {}),
                # a note's own text direction stays inside it (``bdi``): a right-to-left override
                # in one turned the rest of its history line around
                *((" – ", html.Bdi(str(h["text"]))) if h.get("text") else ()),
            ]
        )
        for h in reversed(detail.get("history", []))
    ]
    category = category_word(str(detail.get("category") or "–"), language)  # the wall's word, not the feed's id
    return html.Div(
        [
            html.H5(detail.get("description") or detail.get("category") or detail["id"]),
            html.Div(
                [
                    dbc.Badge(
                        t(detail.get("severity") or "medium", language),
                        color=BADGE_COLORS.get(detail.get("severity") or "medium", "secondary"),
                        text_color="dark",
                        className="me-2",
                    ),
                    html.Span(
                        dbc.Badge(t(detail["status"], language), color="info", className="me-2"),
                        id="cw-detail-status",
                        **attrs({"data-status": detail["status"]}),
                    ),
                    html.Span(
                        assignee_words(detail, language),
                        id="cw-detail-assignee",
                    ),
                ],
                className="mb-2",
            ),
            html.Div([html.Small(" · ".join((category, detail.get("kecamatan") or "–", detail["id"])))]),
            html.Div(
                [
                    t("console_sla_acknowledge", language),
                    " ",
                    clock("acknowledge"),
                    " · ",
                    t("console_sla_resolve", language),
                    " ",
                    clock("resolve"),
                ],
                className="mb-2",
            ),
            html.Strong(t("console_sop", language)) if sop else None,
            html.Ul(sop, className="list-unstyled mb-2") if sop else None,
            html.Strong(t("console_history", language)),
            html.Ul(history or [html.Li("–")], className="cw-history list-unstyled"),
        ],
        **attrs({"data-incident": detail["id"], "data-status": detail["status"]}),
    )


def register(app: Callbacks, reader: CityReader, settings: ViewSettings, port: OperationsPort) -> None:
    language = settings.language
    codes = {c["code"]: c["label"] for c in port.choices().get("codes", [])}

    @app.callback(
        Output("cw-console-detail", "children"),
        Output("cw-console-detail-sig", "data"),
        Output("cw-detail-seen", "data"),
        Input("cw-console-selected", "data"),
        Input("cw-version", "data"),
        Input("cw-console-done", "data"),
        State("cw-console-detail-sig", "data"),
    )
    def _detail(selected: str | None, _v: Any, _d: Any, shown: str | None) -> Any:
        detail = port.incident(selected) if selected else None
        # redrawn when something shown changes; the SLA clocks count down in the browser, to their ``*_due``
        sla = {k: v for k, v in ((detail or {}).get("sla") or {}).items() if not k.endswith("_left_s")}
        now = time.time()
        shown_on = {"sel": selected, "sla": sla, "day": day_start(now, settings.timezone)}  # a new day adds dates
        digest = signature({k: v for k, v in (detail or {}).items() if k not in ("sla", "age_s")} | shown_on)
        if digest == shown:
            raise PreventUpdate
        seen = {"id": selected, "assignee": detail.get("assignee") or ""} if detail else None
        return render(detail, settings, now, codes), digest, seen

    @app.callback(
        Output("cw-console-msg", "children"),
        Output("cw-console-done", "data"),
        Output("cw-act-text", "value"),
        *[Input(ident, "n_clicks") for ident in BUTTONS],
        State("cw-console-selected", "data"),
        State("cw-act-agency", "value"),
        State("cw-act-code", "value"),
        State("cw-act-text", "value"),
        State("cw-detail-seen", "data"),
        State("cw-console-done", "data"),
        prevent_initial_call=True,
        # a double click, or a key pressed twice, lands on a disabled button: "+" twice
        # raised the severity two steps, a note went in twice
        running=[(Output(ident, "disabled"), True, False) for ident in BUTTONS],
    )
    def _act(*args: Any) -> Any:
        selected, agency, code, text, seen, done = args[len(BUTTONS) :]
        trigger = ctx.triggered_id
        if trigger not in BUTTONS or not (ctx.triggered and ctx.triggered[0].get("value")):
            raise PreventUpdate
        if not selected:
            return dbc.Alert(t("console_select_first", language), color="warning", className="py-1"), no_update, no_update
        action, label, _ = BUTTONS[trigger]
        ok, result = port.act(
            selected,
            {
                "action": action,
                "agency": (agency or None) if action == "assign" else None,
                "code": (code or None) if action == "resolve" else None,
                "text": text if action == "note" else None,
                # what the detail shows of this incident; not yet drawn (just chosen): no check
                "assignee_seen": seen["assignee"] if action == "assign" and seen and seen.get("id") == selected else None,
            },
        )
        if not ok:
            return dbc.Alert(said(result, language), color="danger", className="py-1", id="cw-msg-error"), no_update, no_update
        outcome = _outcome(action, result, language)
        done_now = dbc.Alert(f"{t(label, language)}: {outcome}", color="success", className="py-1", id="cw-msg-ok")
        return done_now, (done or 0) + 1, "" if action == "note" else no_update

    # ``running`` is not undone when the request itself fails (the server away mid-click):
    # the next version the page hears, the server is back, and the buttons with it.
    app.clientside_callback(
        """function () {
            var states = Array.prototype.slice.call(arguments, 1);
            if (!states.some(Boolean)) { throw window.dash_clientside.PreventUpdate; }
            return states.map(function () { return false; });
        }""",
        *[Output(ident, "disabled", allow_duplicate=True) for ident in BUTTONS],
        Input("cw-version", "data"),
        *[State(ident, "disabled") for ident in BUTTONS],
        prevent_initial_call=True,
    )

    @app.callback(
        Output("cw-console-msg", "children", allow_duplicate=True),
        Output("cw-console-done", "data", allow_duplicate=True),
        Output({"role": "cw-sop", "step": ALL}, "value"),
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
        boxes = [box["id"]["step"] for box in ctx.inputs_list[0]]
        if not ok:  # the box goes back: the detail is unchanged, so no redraw would put it right
            back = [current["done"] if box == step else no_update for box in boxes]
            return dbc.Alert(said(result, language), color="danger", className="py-1", id="cw-msg-error"), (done or 0) + 1, back
        return no_update, (done or 0) + 1, [no_update] * len(boxes)

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
            return dbc.Alert(t("console_select_first", language), color="warning", className="py-1")
        choices = port.choices()
        wrong = out_of_range(screen, choices.get("screens", 24), "console_screen_range", language) or out_of_range(
            minutes, choices.get("push_minutes_max", 240), "console_minutes_range", language
        )
        if wrong:
            return dbc.Alert(wrong, color="danger", className="py-1", id="cw-msg-error")
        ok, result = port.wall_action("push", {"screen": screen, "incident": selected, "minutes": minutes})
        if not ok:
            return dbc.Alert(said(result, language), color="danger", className="py-1")
        replaced = result.get("replaced")
        if replaced:
            # by its title, as the wall's miniature shows it: its full id meant nothing at the desk
            other = port.incident(replaced["incident"]) or {}
            title = other.get("description") or other.get("category") or replaced["incident"]
            title = title if len(title) <= TITLE_SHOWN else title[: TITLE_SHOWN - 1] + "…"
            words = t("console_on_screen_replaced", language, screen=screen, incident=title, by=replaced["by"])
            return dbc.Alert(html.Bdi(words), color="warning", className="py-1", id="cw-msg-replaced")
        return dbc.Alert(t("console_on_screen", language, screen=screen), color="success", className="py-1")

    @app.callback(
        Output("cw-console-msg", "children", allow_duplicate=True),
        Input("cw-act-unpush", "n_clicks"),
        State("cw-push-screen", "value"),
        prevent_initial_call=True,
    )
    def _unpush(clicks: int | None, screen: Any) -> Any:
        """Takes a push off its screen before its minutes are up: until then only the API could."""
        if not clicks:
            raise PreventUpdate
        wrong = out_of_range(screen, port.choices().get("screens", 24), "console_screen_range", language)
        if wrong:
            return dbc.Alert(wrong, color="danger", className="py-1", id="cw-msg-error")
        ok, result = port.wall_action("dismiss", {"screen": screen})
        if not ok:
            return dbc.Alert(said(result, language), color="danger", className="py-1", id="cw-msg-error")
        return dbc.Alert(t("console_off_screen", language, screen=screen), color="success", className="py-1", id="cw-msg-ok")
