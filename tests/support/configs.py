"""The shipped config, edited and written elsewhere, for tests of what a config may say."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from dashboard.config import DEFAULT_CONFIG


def shipped_tree() -> dict[str, Any]:
    """The shipped config as data, its relative paths made absolute so that a copy written
    anywhere still points at the shipped GeoJSON and simulation files."""
    tree = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    tree["city"]["districts_geojson"] = str(DEFAULT_CONFIG.parent / tree["city"]["districts_geojson"])
    tree["simulation"] = str(DEFAULT_CONFIG.parent / tree["simulation"])
    return tree


def write_config(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    tree = shipped_tree()
    edit(tree)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    return path
