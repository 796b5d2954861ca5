"""Panels: one module per panel, its layout and its callbacks together.

A module here is a panel named after its file. It provides:

- ``FAMILY``: which part of the city picture it shows (its freshness follows that part);
- ``body(instance, settings)``: the static skeleton inside the frame (ids carry ``instance``,
  so one panel can appear on several screens of the same page);
- ``register(app, live)``: its callbacks, registered once per app; a part that follows the
  city is added to ``live`` (``layouts.live_parts.LiveParts``), which knows the reader and
  the settings.

Adding a panel is one file here plus one line in ``config.yaml``.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def load(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")
