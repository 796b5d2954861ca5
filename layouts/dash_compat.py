"""The only place that touches Dash's private names; ``tests/test_dash_compat.py`` checks each one.

Dash has no public way to do four things citywall needs, so they are done here, against
Dash's internals, and nowhere else:

- **Run the first-request set-up at start-up.** On the FastAPI backend Dash walks the assets
  folder and writes its script and CSS lists only when a request for "/" or "/_dash-*"
  arrives, so a kiosk booting straight into /screen/N after a restart got a page without its
  CSS and scripts and never recovered by itself. ``run_first_request_setup`` runs Dash's own
  before-request hooks once, by hand.
- **Define a component without Dash's component generator.** ``HtmlTree`` (``layouts.tree``)
  is drawn by our own script in ``assets/``; the generator would need a React build for one
  three-prop component. ``component_class`` declares it the way generated classes do.
- **Do without Dash's websocket for callbacks.** Dash opens it from every page (through a
  shared worker) whenever its backend can serve one, used or not. This app sends callbacks
  over HTTP and pushes over a socket of its own (``layouts.push``), so Dash's was a second
  long-lived socket per browser, open to every reader, whose messages of the wrong shape
  logged a traceback each. ``no_callback_websocket`` takes its route and the page's cue away.
- **Read a ``dash.html`` element fast.** Live panels turn thousands of elements into plain
  data on every change; ``Component.to_plotly_json`` (the public way) walks every possible
  prop of every element and made that walk about three times slower. ``html_kind`` reads
  the tag and prop names once per class, ``given_props`` the props an element was given.

One more lives in the browser and cannot move here: ``assets/wall_control.js`` redraws a
page for a new preset by pushing the URL and sending Dash's own ``_dashprivate_pushstate``
event, which is how ``dcc.Link`` asks ``dcc.Location`` to route without a reload. The
compat test checks that ``dcc.Location`` still listens for it.

When a Dash upgrade breaks one of these, the compat test fails and says which; when Dash
gains a public way, use it and delete the function here.

Used by both packages (``dashboard.app`` runs the set-up), it lives in ``layouts`` because
``dashboard`` may import ``layouts`` and not the other way round.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

from dash import Dash
from dash.development.base_component import Component, ComponentMeta

#: The namespace of Dash's own ``dash.html`` elements.
HTML_NAMESPACE = "dash_html_components"
_KINDS: dict[type, tuple[str, frozenset[str]] | None] = {}


def run_first_request_setup(app: Dash) -> None:
    """Run the hooks Dash registered to run before the first request, now.

    Each hook guards itself and runs once, so the real first request finds them done. The
    list is the FastAPI backend's own (``FastAPIDashServer._before_request_funcs``); the
    backend type ``Dash.backend`` declares does not name it.
    """
    for hook in list(app.backend._before_request_funcs):  # type: ignore[attr-defined]
        result = hook()
        if inspect.iscoroutine(result):  # an async hook (Dash's async pages router)
            _run_to_the_end(result)


def _run_to_the_end(coroutine: Coroutine[Any, Any, Any]) -> None:
    """Run a coroutine and wait for it, also when called inside a running event loop (the
    app factory is, under ``uvicorn --factory``), where ``asyncio.run`` refuses: then on a
    loop of its own in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dash-setup") as pool:
        pool.submit(asyncio.run, coroutine).result()


#: Dash's route for websocket callbacks (``no_callback_websocket``)
CALLBACK_WEBSOCKET_PATH = "/_dash-ws-callback"


def no_callback_websocket(app: Dash) -> None:
    """Remove the route, and the socket's address from the config each page is served
    (without it the page opens no socket). Before the first page is served."""
    app.backend.websocket_capability = False
    routes = app.server.router.routes
    app.server.router.routes = [r for r in routes if getattr(r, "path", None) != CALLBACK_WEBSOCKET_PATH]


def component_class(name: str, namespace: str, props: Sequence[str], module: str, doc: str) -> type[Component]:
    """A Dash component class drawn by ``window[namespace][name]`` in the browser.

    It takes exactly ``props`` as keyword arguments (an unknown one raises ``TypeError``, as
    a generated component does), holds no other components, and leaves a prop given as
    ``None`` unset, so it is not sent to the browser at all.
    """
    names = list(props)

    def __init__(self: Component, **given: Any) -> None:
        self._prop_names = names
        self._valid_wildcard_attributes = []  # no data-* or aria-*
        Component.__init__(self, **{k: v for k, v in given.items() if v is not None})

    attributes = {
        "__module__": module,
        "__qualname__": name,
        "__doc__": doc,
        "__init__": __init__,
        "_namespace": namespace,
        "_type": name,
        "_children_props": [],
        "_base_nodes": [],
    }
    # Made by Component's metaclass, as a class statement would be: that registers the namespace.
    return cast("type[Component]", ComponentMeta(name, (Component,), attributes))


def html_kind(node: Any) -> tuple[str, frozenset[str]] | None:
    """A ``dash.html`` element's tag and the names of every prop its class accepts; ``None``
    for anything else (text, a ``dcc`` component, a component of our own)."""
    cls = type(node)
    if cls in _KINDS:
        return _KINDS[cls]
    kind = None
    if isinstance(node, Component) and node._namespace == HTML_NAMESPACE:
        kind = (node._type.lower(), frozenset(node._prop_names))
    return _KINDS.setdefault(cls, kind)


def given_props(node: Component) -> dict[str, Any]:
    """The props a component was given, by name (Dash keeps each as an attribute of its own);
    besides them it holds a few bookkeeping attributes, which a caller filters by name."""
    return vars(node)
