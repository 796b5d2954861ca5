"""Live content written straight as the tree it travels as (``layouts.tree``).

A live part is rendered again whenever what it shows moves, up to every frame at 500 new
incidents a second, and each ``dash.html`` element cost about 10 µs to make (Dash checks its
arguments) before ``to_tree`` took it apart again: the queue's summary alone was 110 µs of
the 140 it took to render. These make the same ``{"t": tag, "p": props, "c": children}``
directly, with the names and arguments of ``dash.html``, so a panel reads as before:
``el.Div([el.Span(text, className="cw-sev")], className="cw-row", key=row_id)``.

Only for what a live part renders: the page's own layout is Dash components.
"""

from __future__ import annotations

from typing import Any

from layouts.tree import to_tree

Tree = dict[str, Any]


def element(tag: str, children: Any = None, **props: Any) -> Tree:
    """One element: props given as ``None`` are left out, as ``to_tree`` leaves them out."""
    node: Tree = {"t": tag}
    given = {name: value for name, value in props.items() if value is not None}
    if given:
        node["p"] = given
    if children is not None:
        node["c"] = to_tree(children)
    return node


def Div(children: Any = None, **props: Any) -> Tree:
    return element("div", children, **props)


def Span(children: Any = None, **props: Any) -> Tree:
    return element("span", children, **props)


def B(children: Any = None, **props: Any) -> Tree:
    return element("b", children, **props)


def Img(children: Any = None, **props: Any) -> Tree:
    return element("img", children, **props)
