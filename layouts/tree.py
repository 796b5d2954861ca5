"""Live panel content as one component holding plain data, instead of a tree of components.

Dash's renderer wraps every component in a React wrapper that re-checks the layout store on
every update the page receives, so a page's cost per update grows with how many components
it holds, whatever changed: a 14-row queue is ~90 components, a whole wall several thousand,
and each pushed change kept the browser busy in proportion. Live content is this plain data,
written with ``layouts.elements`` (``dash.html``'s names, trees straight away); ``to_tree``
turns ``dash.html`` components into the same (the print view's markup), and ``HtmlTree``
(``assets/html_tree.js``) writes it into the DOM itself, without React. A row that carries
``key=`` keeps its DOM node across updates, so a new incident at the top of the queue adds
one row instead of redrawing fourteen.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from layouts.dash_compat import component_class, given_props, html_kind

#: Props that only mean something to Dash's own wrappers; HTML attributes pass as they are.
_DASH_ONLY = frozenset({"children", "id", "n_clicks", "n_clicks_timestamp", "disable_n_clicks", "loading_state"})

HtmlTree = component_class(
    "HtmlTree",
    "citywall_components",
    ("id", "tree", "className"),
    __name__,
    """One element whose ``tree`` prop holds what ``to_tree`` made; drawn by ``assets/html_tree.js``.

    ``HtmlTree(id=..., tree=..., className=...)``; a prop given as ``None`` is left unset.""",
)


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
    if isinstance(node, dict) and "t" in node:
        return node  # already a tree (``row_tree``)
    if isinstance(node, (list, tuple)):
        return [to_tree(child) for child in node]
    kind = html_kind(node)
    if kind is None:
        raise TypeError(f"live content must be dash.html elements and text, not {type(node).__name__}")
    tag, names = kind
    props = {
        k: v
        for k, v in given_props(node).items()
        if v is not None and ((k in names and k not in _DASH_ONLY) or k.startswith(("data-", "aria-")))
    }
    out: dict[str, Any] = {"t": tag}
    if props:
        out["p"] = props
    children = getattr(node, "children", None)
    if children is not None:
        out["c"] = to_tree(children)
    return out


def row_tree(build: Callable[[dict[str, Any], str], Any]) -> Callable[[dict[str, Any], str], Any]:
    """A row builder whose rows come back as trees, built once per content and language.

    A queue that gains one incident shows thirteen rows it showed a moment ago; building
    their elements again was most of the cost of a change. ``build`` must depend on its
    arguments alone, and the row's values must be hashable (text, numbers, None).
    """

    @functools.lru_cache(maxsize=2_048)
    def cached(items: tuple[tuple[str, Any], ...], language: str) -> Any:
        return to_tree(build(dict(items), language))

    def tree(row: dict[str, Any], language: str) -> Any:
        return cached(tuple(sorted(row.items())), language)

    return tree


def keyed_delta(old: Any, new: Any) -> Any:
    """``new`` with each keyed element that equals its namesake in ``old`` replaced by ``{"k": key}``.

    Keys are looked up among the siblings of the same list, one level at a time, exactly as
    ``assets/html_tree.js`` resolves them against the tree it shows; so a queue whose top row
    is new travels as one whole row and thirteen references, and a removed row simply is not
    listed.
    """
    if isinstance(new, list):
        siblings = old if isinstance(old, list) else []
        by_key = {k: child for child in siblings if (k := _key_of(child)) is not None}
        out = []
        for i, child in enumerate(new):
            key = _key_of(child)
            if key is not None and key in by_key and by_key[key] == child:
                out.append({"k": key})
            else:
                out.append(keyed_delta(siblings[i] if i < len(siblings) else None, child))
        return out
    if isinstance(new, dict) and "c" in new:
        same = isinstance(old, dict) and old.get("t") == new.get("t")
        return {**new, "c": keyed_delta(old.get("c") if same else None, new["c"])}
    return new


def _key_of(node: Any) -> Any:
    if isinstance(node, dict):
        props = node.get("p")
        if isinstance(props, dict):
            return props.get("key")
    return None
