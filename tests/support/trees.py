"""Reading what a panel or a tile drew, as the tests compare it."""

from __future__ import annotations

from typing import Any


def texts(node: Any) -> list[str]:
    """Every string in a rendered tree, in order."""
    if node is None:
        return []
    if isinstance(node, str):
        return [node]
    if isinstance(node, (int, float)):
        return [str(node)]
    if isinstance(node, (list, tuple)):
        return [t for child in node for t in texts(child)]
    if isinstance(node, dict):  # a row already drawn as a tree (layouts.tree.row_tree)
        return texts(node.get("c"))
    return texts(getattr(node, "children", None))
