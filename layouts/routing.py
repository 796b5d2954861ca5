"""This app's pages and the one callback that draws the page a URL names.

Dash's own pages feature keeps its page table in a module global (``dash.page_registry``)
and looks every URL up there, so a second app created in the same process replaced the
first one's pages: the first app then drew the second city's wall. Each app therefore gets
a ``Pages`` table of its own from the app factory, and its own router callback reads only
that table. The router does what Dash's did for us: one ``dcc.Location``, the page's layout
called with the path's variables and the query's parameters, and the page's title set in
the browser.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from dash import Dash, Input, Output, dcc, html
from dash.exceptions import PreventUpdate

from layouts.i18n import t

LOCATION_ID = "cw-location"
#: The element the page is drawn into (``assets/citywall.js`` watches it for a blank page).
CONTENT_ID = "cw-page"
TITLE_ID = "cw-page-title"
_TITLE_SINK_ID = "cw-page-title-sink"


@dataclass(frozen=True)
class Page:
    """One page: its path (``/screen/<n>``: ``n`` is a variable, one path segment), the
    function that lays it out (called with the path's variables and the query's parameters,
    as strings; it ignores those it does not know) and its browser title."""

    name: str
    path: str
    layout: Callable[..., Any]
    title: str

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(s[1:-1] for s in self._segments if _is_variable(s))

    @property
    def _segments(self) -> list[str]:
        return self.path.strip("/").split("/")

    def match(self, path: str) -> dict[str, str] | None:
        """The path's variables when ``path`` (slashes stripped) is this page, else ``None``."""
        given = path.split("/")
        if len(given) != len(self._segments):
            return None
        found: dict[str, str] = {}
        for want, got in zip(self._segments, given, strict=True):
            if _is_variable(want):
                if not got:
                    return None
                found[want[1:-1]] = got
            elif want != got:
                return None
        return found


class Pages:
    """The pages of one app, in the order they were added."""

    def __init__(self) -> None:
        self._pages: dict[str, Page] = {}

    def add(self, name: str, path: str, layout: Callable[..., Any], title: str) -> None:
        page = Page(name, path, layout, title)
        taken = [p.name for p in self._pages.values() if p.path == path]
        if name in self._pages or taken:
            raise ValueError(f"page {name!r} at {path!r}: the name or the path is taken")
        self._pages[name] = page

    def __iter__(self) -> Iterator[Page]:
        return iter(self._pages.values())

    def find(self, path: str) -> tuple[Page, dict[str, str]] | None:
        """The page for ``path`` (slashes stripped) and its variables; ``None`` for no page."""
        for page in self._pages.values():
            found = page.match(path)
            if found is not None:
                return page, found
        return None


def container() -> html.Div:
    """Where the page goes in the app's layout: the URL, the page, and its title."""
    return html.Div(
        [
            # "callback-nav": a callback may set the URL without the browser loading the page again
            dcc.Location(id=LOCATION_ID, refresh="callback-nav"),
            html.Div(id=CONTENT_ID, disable_n_clicks=True),
            dcc.Store(id=TITLE_ID),
            html.Div(id=_TITLE_SINK_ID, disable_n_clicks=True),
        ]
    )


def query_parameters(search: str | None) -> dict[str, str]:
    """``?a=1&b=`` as ``{"a": "1", "b": ""}``; of a repeated parameter the first value."""
    if not search or not search.startswith("?"):
        return {}
    return {key: values[0] for key, values in parse_qs(search[1:], keep_blank_values=True).items()}


def register(app: Dash, pages: Pages, language: str, may_show: Callable[[str], bool] = lambda path: True) -> None:
    """The router: the URL's page drawn into ``CONTENT_ID``, its title into the browser's tab.

    ``may_show(path)``: whether the caller may see that page (a kiosk token scoped to one
    screen may not ask the router for another page's layout)."""

    @app.callback(
        Output(CONTENT_ID, "children"),
        Output(TITLE_ID, "data"),
        Input(LOCATION_ID, "pathname"),
        Input(LOCATION_ID, "search"),
        prevent_initial_call=True,
    )  # the Location sets both as it mounts
    def route(pathname: str | None, search: str | None) -> tuple[Any, dict[str, str]]:
        path = app.strip_relative_path(pathname or "/") or ""
        found = pages.find(path)
        if found is None:
            return html.H1(t("page_not_found", language), className="cw-error"), {"title": app.title}
        if not may_show("/" + path):
            return html.H1(t("page_not_allowed", language), className="cw-error"), {"title": app.title}
        page, variables = found
        return page.layout(**{**query_parameters(search), **variables}), {"title": page.title}

    app.clientside_callback(
        "function (data) { if (data && data.title) { document.title = data.title; } return ''; }",
        Output(_TITLE_SINK_ID, "children"),
        Input(TITLE_ID, "data"),
    )


class PageCallbacks:
    """The app as one page's module sees it: each callback it registers first asks
    ``may_show(path)`` and, refused, updates nothing.

    Dash runs any callback for whoever may reach its endpoint, whatever page that browser
    shows; every page needs that endpoint, so the guard lets kiosk tokens of every scope
    through. Without this a token scoped to one screen could run the console's callbacks and
    read its lists, or the tablet's."""

    def __init__(self, app: Dash, path: str, may_show: Callable[[str], bool]) -> None:
        self.app = app
        self.path = path
        self.may_show = may_show

    def callback(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        register = self.app.callback(*args, **kwargs)
        return lambda func: register(self._checked(func))

    def clientside_callback(self, *args: Any, **kwargs: Any) -> Any:
        return self.app.clientside_callback(*args, **kwargs)  # runs in the browser: nothing of the server's to read

    def _checked(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(func):  # the check below would hand Dash an un-awaited coroutine
            raise TypeError(f"{func.__qualname__}: a page's callbacks are plain functions")
        path, may_show = self.path, self.may_show

        @functools.wraps(func)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not may_show(path):
                raise PreventUpdate
            return func(*args, **kwargs)

        return checked


def _is_variable(segment: str) -> bool:
    return len(segment) > 2 and segment.startswith("<") and segment.endswith(">")
