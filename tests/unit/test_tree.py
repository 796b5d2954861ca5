"""Live content travels as plain data (``layouts.tree``): what the browser draws must match."""

from __future__ import annotations

import json

import pytest
from dash import dcc, html

from layouts.tree import HtmlTree, to_tree


def test_html_becomes_nested_data_with_every_attribute_kept() -> None:
    tree = to_tree(
        html.Div(
            [
                html.Img(src="data:image/svg+xml;utf8,x", alt=""),
                html.Span("3 mnt", className="cw-age", key="a1", **{"data-incident": "a1"}),
                html.Div(className="cw-bar-fill", style={"width": "42%"}),
                7,
            ],
            className="cw-row",
        )
    )
    assert tree == {
        "t": "div",
        "p": {"className": "cw-row"},
        "c": [
            {"t": "img", "p": {"src": "data:image/svg+xml;utf8,x", "alt": ""}},
            {"t": "span", "p": {"className": "cw-age", "key": "a1", "data-incident": "a1"}, "c": "3 mnt"},
            {"t": "div", "p": {"className": "cw-bar-fill", "style": {"width": "42%"}}},
            7,
        ],
    }
    json.dumps(tree)  # it is sent as JSON, with nothing Dash-specific left in it


def test_text_is_kept_verbatim_for_react_to_escape() -> None:
    assert to_tree(html.Span("<script>alert(1)</script>")) == {"t": "span", "c": "<script>alert(1)</script>"}


def test_stateful_components_are_refused_inside_live_content() -> None:
    with pytest.raises(TypeError, match="Graph"):
        to_tree(html.Div([dcc.Graph()]))


def test_the_component_serializes_like_any_dash_component() -> None:
    data = HtmlTree(id={"role": "x-content", "instance": "4"}, className="cw-queue", tree=["a"]).to_plotly_json()
    assert data == {
        "type": "HtmlTree",
        "namespace": "citywall_components",
        "props": {"id": {"role": "x-content", "instance": "4"}, "className": "cw-queue", "tree": ["a"]},
    }
