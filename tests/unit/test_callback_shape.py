"""The callback check against the shapes Dash's renderer sends for each kind of callback.

The app's own callbacks go through it in every browser test; these are the kinds the app
does not use yet (MATCH, ALLSMALLER, a single output in a list, no output, optional
entries), declared on a small Dash app, with the bodies written as the renderer writes
them (dash-renderer's ``fillVals`` and ``unwrapIfNotMulti``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from dash import ALLSMALLER, MATCH, Dash, Input, Output, State, html

from dashboard.callback_shape import callback_refusal


def _app() -> Dash:
    app = Dash(__name__)
    app.layout = html.Div()

    @app.callback(
        Output({"t": "out", "i": MATCH}, "children"),
        Input({"t": "in", "i": MATCH}, "n_clicks"),
        State({"t": "in", "i": ALLSMALLER}, "n_clicks"),
        State({"t": "opt", "i": MATCH}, "value", allow_optional=True),
    )
    def matched(*_: Any) -> str:
        return ""

    @app.callback([Output("a", "children")], Input("b", "n_clicks"))
    def listed(_: Any) -> list[str]:
        return [""]

    @app.callback(Output("a", "children", allow_duplicate=True), Input("c", "n_clicks"), prevent_initial_call=True)
    def again(_: Any) -> str:
        return ""

    @app.callback(Input("d", "n_clicks"))
    def silent(_: Any) -> None:
        return None

    app.clientside_callback("function(n) { return n; }", Output("e", "children"), Input("f", "n_clicks"))
    return app


@pytest.fixture(scope="module")
def callbacks() -> dict[str, Any]:
    return _app().callback_map


def _output_of(callbacks: dict[str, Any], start: str) -> str:
    return next(name for name in callbacks if name.startswith(start))


def _ask(callbacks: dict[str, Any], body: dict[str, Any]) -> str | None:
    return callback_refusal(json.dumps(body).encode(), callbacks)


def test_a_pattern_callback_as_the_renderer_sends_it(callbacks: dict[str, Any]) -> None:
    output = _output_of(callbacks, '{"i":["MATCH"]')
    body = {
        "output": output,
        "outputs": {"id": {"t": "out", "i": 2}, "property": "children"},
        "inputs": [{"id": {"t": "in", "i": 2}, "property": "n_clicks", "value": 1}],
        "state": [
            [
                {"id": {"t": "in", "i": 0}, "property": "n_clicks", "value": 3},
                {"id": {"t": "in", "i": 1}, "property": "n_clicks"},
            ],
            # optional, its component absent: the renderer sends the declared spec itself
            {"id": {"t": "opt", "i": {"wild": "MATCH"}}, "property": "value", "allow_optional": True, "value": None},
        ],
        "changedPropIds": ['{"i":2,"t":"in"}.n_clicks'],
    }
    assert _ask(callbacks, body) is None
    assert _ask(callbacks, {**body, "state": [body["state"][0][0], body["state"][1]]}) == "state[0] is not a list"
    wrong_keys = [{"id": {"t": "in", "x": 2}, "property": "n_clicks", "value": 1}]
    assert _ask(callbacks, {**body, "inputs": wrong_keys}) == "inputs[0] is not the component the callback takes"


def test_a_single_output_in_a_list_a_duplicate_and_no_output(callbacks: dict[str, Any]) -> None:
    listed = {
        "output": "..a.children..",
        "outputs": [{"id": "a", "property": "children"}],
        "inputs": [{"id": "b", "property": "n_clicks", "value": 1}],
    }
    assert _ask(callbacks, listed) is None
    assert _ask(callbacks, {**listed, "outputs": {"id": "a", "property": "children"}}) == "the callback has 1 outputs"
    duplicate = _output_of(callbacks, "a.children@")
    again = {
        "output": duplicate,
        "outputs": {"id": "a", "property": duplicate.split(".", 1)[1]},
        "inputs": [{"id": "c", "property": "n_clicks", "value": 1}],
    }
    assert _ask(callbacks, again) is None
    silent = next(name for name, d in callbacks.items() if d.get("no_output"))
    assert _ask(callbacks, {"output": silent, "inputs": [{"id": "d", "property": "n_clicks", "value": 1}]}) is None


def test_a_clientside_callback_is_no_callback_of_the_server(callbacks: dict[str, Any]) -> None:
    """Dash lists it among the app's callbacks, and answered a request for it with a bare 500."""
    body = {
        "output": "e.children",
        "outputs": {"id": "e", "property": "children"},
        "inputs": [{"id": "f", "property": "n_clicks", "value": 1}],
    }
    assert _ask(callbacks, body) == "no such callback"
