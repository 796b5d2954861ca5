"""What ``layouts.dash_compat`` assumes of Dash's internals, checked against the installed Dash.

A failure here after a Dash upgrade names the assumption that broke; fix that function in
``layouts/dash_compat.py`` (or delete it, when Dash now offers a public way) before anything
else. The private names are spelled out on purpose: this file and the compat module are the
only places that use them.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dash
import pytest
import requests
import uvicorn
from dash import Dash, dcc, html
from dash.development.base_component import Component
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from dashboard.local_services import HOST, free_port, wait_until
from layouts import dash_compat
from layouts.tree import HtmlTree
from tests.support.helpers import run_async


# --- run_first_request_setup ----------------------------------------------------------------
def small_app(assets: Path) -> Dash:
    (assets / "looks.css").write_text("body { color: red }", encoding="utf-8")
    app = Dash(__name__, backend="fastapi", assets_folder=str(assets), serve_locally=True)
    app.layout = html.Div("hello")
    return app


@contextmanager
def served(app: Dash) -> Iterator[str]:
    """The app on a real uvicorn on a free loopback port, lifespan and all, as in production."""
    server = uvicorn.Server(uvicorn.Config(app.server, host=HOST, port=free_port(), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="dash-compat-web", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), 20, "the web server to start")
        assert server.started, "the web server stopped while starting"
        yield f"http://{HOST}:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_fastapi_backend_keeps_its_before_request_hooks_in_a_list(tmp_path: Path) -> None:
    app = small_app(tmp_path)
    hooks = app.backend._before_request_funcs
    assert isinstance(hooks, list) and app._setup_server in hooks
    ran: list[str] = []
    app.backend.before_request(lambda: ran.append("sync"))

    async def later() -> None:
        ran.append("async")

    app.backend.before_request(later)
    dash_compat.run_first_request_setup(app)
    assert ran == ["sync", "async"], "both kinds of hook run once, in order"


def test_the_set_up_also_runs_inside_a_running_event_loop(tmp_path: Path) -> None:
    """``uvicorn --factory`` calls the app factory on its event loop."""
    app = small_app(tmp_path)
    ran: list[str] = []

    async def hook() -> None:
        ran.append("async")

    app.backend.before_request(hook)

    async def factory() -> None:
        dash_compat.run_first_request_setup(app)

    run_async(factory())
    assert ran == ["async"]


def test_dash_still_sets_itself_up_only_on_its_own_paths(tmp_path: Path) -> None:
    """Why the set-up is run by hand: a page outside "/" and "/_dash-*" asked for first comes
    without the assets' CSS. If this fails, Dash fixed it: ``run_first_request_setup`` can go."""
    app = small_app(tmp_path)
    with served(app) as base:
        page = requests.get(f"{base}/screen/4", timeout=30)
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert "looks.css" not in page.text


def test_after_the_set_up_any_page_comes_with_the_assets(tmp_path: Path) -> None:
    app = small_app(tmp_path)
    dash_compat.run_first_request_setup(app)
    with served(app) as base:
        page = requests.get(f"{base}/screen/4", timeout=30)
    assert page.status_code == 200
    assert "/assets/looks.css" in page.text


# --- no_callback_websocket ------------------------------------------------------------------
def page_config(page: str) -> dict[str, Any]:
    """The config Dash writes into every page for its renderer."""
    found = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page, re.S)
    assert found is not None, "no renderer config in the page"
    config = json.loads(found.group(1))
    assert isinstance(config, dict)
    return config


def test_dash_still_sends_every_page_to_its_callback_socket(tmp_path: Path) -> None:
    """Why the socket is taken away: unasked, each page's config names the socket and the
    worker that opens it. If this fails, Dash stopped: ``no_callback_websocket`` can go."""
    app = small_app(tmp_path)
    with served(app) as base:
        config = page_config(requests.get(f"{base}/", timeout=30).text)
    assert config["websocket"]["enabled"] is False
    assert config["websocket"]["url"] == dash_compat.CALLBACK_WEBSOCKET_PATH
    assert config["websocket"]["worker_url"].endswith(".js")


def test_without_the_callback_socket_no_page_names_it_and_no_upgrade_reaches_it(tmp_path: Path) -> None:
    app = small_app(tmp_path)
    dash_compat.no_callback_websocket(app)
    with served(app) as base:
        config = page_config(requests.get(f"{base}/", timeout=30).text)
        with pytest.raises(InvalidStatus) as refused:
            connect(base.replace("http://", "ws://") + dash_compat.CALLBACK_WEBSOCKET_PATH, origin=base, open_timeout=10)
    assert "websocket" not in config
    assert refused.value.response.status_code == 403


# --- component_class --------------------------------------------------------------------------
def test_a_declared_component_serializes_with_its_namespace_type_and_given_props() -> None:
    Thing = dash_compat.component_class("Thing", "test_components", ("id", "value"), __name__, "A test component.")
    assert issubclass(Thing, Component) and Thing.__name__ == "Thing" and Thing.__doc__ == "A test component."
    assert Thing(id="t", value=[1, 2]).to_plotly_json() == {
        "type": "Thing",
        "namespace": "test_components",
        "props": {"id": "t", "value": [1, 2]},
    }
    assert Thing(id="t", value=None).to_plotly_json()["props"] == {"id": "t"}, "None leaves a prop unset"
    with pytest.raises(TypeError, match="unexpected keyword argument: `colour`"):
        Thing(colour="red")


def test_a_declared_component_lives_in_a_dash_layout_like_a_generated_one(tmp_path: Path) -> None:
    app = small_app(tmp_path)
    app.layout = html.Div([HtmlTree(id="tree-1", className="cw-x", tree={"t": "b", "c": "x"})])
    with served(app) as base:
        layout = requests.get(f"{base}/_dash-layout", timeout=30)
    assert layout.status_code == 200
    assert layout.json()["props"]["children"] == [
        {
            "type": "HtmlTree",
            "namespace": "citywall_components",
            "props": {"id": "tree-1", "className": "cw-x", "tree": {"t": "b", "c": "x"}},
        }
    ]


# --- html_kind and given_props ----------------------------------------------------------------
def test_dash_html_elements_carry_the_private_names_the_walk_reads() -> None:
    div = html.Div("x", className="c")
    assert div._namespace == dash_compat.HTML_NAMESPACE == "dash_html_components"
    assert (div._type, html.Img()._type, html.Span()._type) == ("Div", "Img", "Span")
    assert {"children", "id", "className", "style", "key", "title", "n_clicks"} <= set(div._prop_names)
    assert {"src", "alt"} <= set(html.Img()._prop_names)


def test_html_kind_is_the_tag_and_every_prop_of_the_class() -> None:
    kind = dash_compat.html_kind(html.Span("x"))
    assert kind is not None
    tag, names = kind
    assert tag == "span"
    assert {"children", "className", "style", "key", "title"} <= names and "src" not in names
    assert dash_compat.html_kind(html.Img()) == ("img", frozenset(html.Img()._prop_names))
    assert dash_compat.html_kind(html.Span("y")) == (tag, names), "same class, same answer"


@pytest.mark.parametrize("node", [dcc.Graph(), HtmlTree(id="x"), "text", 7, None])
def test_html_kind_refuses_anything_but_dash_html(node: object) -> None:
    assert dash_compat.html_kind(node) is None


def test_given_props_are_exactly_the_props_an_element_was_given() -> None:
    span = html.Span("3 mnt", className="cw-age", key="a1", **{"data-incident": "a1"})
    given = dash_compat.given_props(span)
    names = set(span._prop_names)
    props = {k: v for k, v in given.items() if k in names or k.startswith("data-")}
    assert props == {"children": "3 mnt", "className": "cw-age", "key": "a1", "data-incident": "a1"}
    assert "style" not in given and "title" not in given, "a prop never given is not there at all"


# --- the pushstate event of assets/wall_control.js ------------------------------------------
def test_dcc_location_still_routes_on_the_event_wall_control_sends() -> None:
    event = "_dashprivate_pushstate"
    assert f'new CustomEvent("{event}")' in (Path(__file__).resolve().parents[2] / "assets" / "wall_control.js").read_text()
    bundle = (Path(dash.__file__).parent / "dcc" / "dash_core_components.js").read_text(encoding="utf-8")
    assert f'window.addEventListener("{event}",' in bundle, "dcc.Location no longer listens: wall_control.js cannot route"


@pytest.mark.parametrize("language", ["id", "en"])
def test_every_page_says_its_language(language: str) -> None:
    """Dash's page shell has a bare ``<html>``: an English iPad offered to translate the
    Indonesian tablet, and a screen reader could not tell the language."""
    from dashboard.store.memory import MemoryStore
    from tests.support.auth import closed_config, running_app

    config = closed_config(anonymous_read=True)
    config = config.model_copy(update={"city": config.city.model_copy(update={"language": language})})
    with running_app(config, MemoryStore()) as base:
        for path in ("/tablet", "/screen/4", "/wall"):
            page = requests.get(f"{base}{path}", timeout=30)
            assert page.status_code == 200
            assert f'<html lang="{language}">' in page.text, path
