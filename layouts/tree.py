"""Live panel content as one component holding plain data, instead of a tree of components.

Dash's renderer wraps every component in a React wrapper that re-checks the layout store on
every update the page receives, so a page's cost per update grows with how many components
it holds, whatever changed: a 14-row queue is ~90 components, a whole wall several thousand,
and each pushed change kept the browser busy in proportion. Panels still write their content
with ``dash.html`` (readable, and the same code prints the tablet and the PDF); ``to_tree``
turns that into nested plain data, and ``HtmlTree`` (``assets/html_tree.js``) draws it with
React directly. A row that carries ``key=`` keeps its DOM node across updates, so a new
incident at the top of the queue adds one row instead of redrawing fourteen.
"""

from __future__ import annotations

from typing import Any

from dash.development.base_component import Component

#: Props that only mean something to Dash's own wrappers; HTML attributes pass as they are.
_DASH_ONLY = frozenset({"children", "id", "n_clicks", "n_clicks_timestamp", "disable_n_clicks", "loading_state"})


class HtmlTree(Component):
    """One element whose ``tree`` prop holds what ``to_tree`` made; drawn by ``assets/html_tree.js``."""

    _children_props: list[str] = []
    _base_nodes: list[str] = []
    _namespace = "citywall_components"
    _type = "HtmlTree"

    def __init__(self, id: Any = None, tree: Any = None, className: str | None = None) -> None:
        self._prop_names = self.available_properties = ["id", "tree", "className"]
        self._valid_wildcard_attributes = self.available_wildcard_properties = []
        given = {"id": id, "tree": tree, "className": className}
        super().__init__(**{k: v for k, v in given.items() if v is not None})


def attrs(values: dict[str, str]) -> dict[str, Any]:
    """HTML attributes that Dash's typed signatures do not list (``data-*``, ``aria-*``), to
    spread into a component: ``html.Div(**attrs({"data-panel": name}))``. Dash accepts them at
    run time; typed as ``Any`` values so a type checker does not match them to other props."""
    return values


def to_tree(node: Any) -> Any:
    """Dash ``html`` components as ``{"t": tag, "p": props, "c": children}``; text stays text.

    Only ``dash.html`` elements are accepted: a graph or any other stateful component inside
    live content would lose its state on every update, so it is a live part of its own.
    """
    if node is None or isinstance(node, (str, int, float)):
        return node
    if isinstance(node, (list, tuple)):
        return [to_tree(child) for child in node]
    if not isinstance(node, Component) or node._namespace != "dash_html_components":
        raise TypeError(f"live content must be dash.html elements and text, not {type(node).__name__}")
    own = vars(node)  # a Dash component keeps each prop it was given as an attribute
    props = {k: own[k] for k in node._prop_names if k in own and k not in _DASH_ONLY and own[k] is not None}
    props.update((k, v) for k, v in own.items() if k.startswith(("data-", "aria-")))
    out: dict[str, Any] = {"t": node._type.lower()}
    if props:
        out["p"] = props
    children = getattr(node, "children", None)
    if children is not None:
        out["c"] = to_tree(children)
    return out
