"""The root of the configuration: every section, and the checks that span sections.

A screen number must be on the wall, a panel name must be a file in ``layouts/panels``, ids
must be unique across lists: none of this can be checked inside one section, so it is checked
here, once, after the sections are valid. Errors raised here carry their key path
(``LocatedError``) so the message still names the exact key.
"""

from __future__ import annotations

import pkgutil
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, field_validator, model_validator

from dashboard.city_config import ComplaintChannel, Kpi, Pillar, Simulation
from dashboard.config_errors import KeyPath, LocatedError
from dashboard.config_sections import (
    Auth,
    City,
    Feeds,
    History,
    MppTargets,
    Playlist,
    Server,
    Span,
    Store,
    Strict,
    Thresholds,
    Wall,
)
from dashboard.ops_config import Operations

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"


def available_panels() -> set[str]:
    """Panel names are the module names in ``layouts/panels``: one file is one panel.

    Listing the modules (not importing them) keeps ``check-config`` fast and free of Dash.
    """
    import layouts.panels

    return {m.name for m in pkgutil.iter_modules(layouts.panels.__path__) if not m.name.startswith("_")}


class Config(Strict):
    city: City
    wall: Wall = Wall()
    screens: dict[int, list[str]] = Field(default_factory=dict)
    spans: list[Span] = Field(default_factory=list)
    playlists: dict[int, Playlist] = Field(default_factory=dict)
    feeds: Feeds = Feeds()
    store: Store = Store()
    history: History = History()
    thresholds: Thresholds = Thresholds()
    mpp: MppTargets = MppTargets()
    pillars: list[Pillar] = Field(min_length=3, max_length=8)
    complaints: list[ComplaintChannel] = Field(default_factory=list, max_length=20)
    simulation: Simulation = Simulation()
    server: Server = Server()
    operations: Operations = Operations()
    auth: Auth = Auth()
    #: the folder relative paths in the config start from: the config file's own folder
    _base_dir: Path = PrivateAttr(default=DEFAULT_CONFIG.parent)

    @model_validator(mode="before")
    @classmethod
    def _feeds_named_for_the_city(cls, raw: Any) -> Any:
        """Topics and streams left out are named after the city's slug, not any one city."""
        if not isinstance(raw, dict) or not isinstance(raw.get("city"), dict) or not isinstance(raw["city"].get("slug"), str):
            return raw
        slug = raw["city"]["slug"]
        feeds = _mapping(raw.get("feeds"))
        mqtt = _mapping(feeds.get("mqtt"))
        redis = _mapping(feeds.get("redis"))
        if not mqtt.get("topics"):
            mqtt = {**mqtt, "topics": [f"{slug}/#"]}
        if "streams" not in redis:
            redis = {**redis, "streams": [f"{slug}:events"]}
        return {**raw, "feeds": {**feeds, "mqtt": mqtt, "redis": redis}}

    @field_validator("screens", "playlists", mode="before")
    @classmethod
    def _one_entry_per_screen(cls, given: Any) -> Any:
        """``24:`` and ``"24":`` are one screen: the later of the two won without a word."""
        if isinstance(given, dict):
            seen: dict[str, Any] = {}
            for key in given:
                number = str(key).strip()
                if number in seen:
                    raise ValueError(f"screen {number} is listed twice (as {seen[number]!r} and {key!r})")
                seen[number] = key
        return given

    @model_validator(mode="after")
    def _operations_fit_the_wall(self) -> Config:
        """Presets and takeover rules name screens and panels: both must exist."""
        count, known = self.wall.screen_count, available_panels()
        for i, preset in enumerate(self.operations.presets):
            for screen, names in preset.screens.items():
                if not 1 <= screen <= count:
                    raise _at(("operations", "presets", i, "screens", screen), f"screen {screen} is outside the wall (1-{count})")
                for j, name in enumerate(names):
                    if name not in known:
                        raise _at(("operations", "presets", i, "screens", screen, j), _unknown_panel(name, known))
        for i, rule in enumerate(self.operations.takeovers):
            if rule.screen > count:
                raise _at(("operations", "takeovers", i, "screen"), f"screen {rule.screen} is outside the wall (1-{count})")
        return self

    @model_validator(mode="after")
    def _screens_fit_the_wall(self) -> Config:
        count = self.wall.screen_count
        known = available_panels()
        where = f"the {self.wall.columns}x{self.wall.rows} wall (screens 1-{count})"
        for screen, panels in self.screens.items():
            if not 1 <= screen <= count:
                raise _at(("screens", screen), f"screen {screen} is outside {where}")
            for i, name in enumerate(panels):
                if name not in known:
                    raise _at(("screens", screen, i), _unknown_panel(name, known))
        for screen, playlist in self.playlists.items():
            if not 1 <= screen <= count:
                raise _at(("playlists", screen), f"screen {screen} is outside {where}")
            for i, name in enumerate(playlist.panels):
                if name not in known:
                    raise _at(("playlists", screen, "panels", i), _unknown_panel(name, known))
        taken: dict[int, str] = {}
        for i, span in enumerate(self.spans):
            if span.panel not in known:
                raise _at(("spans", i, "panel"), _unknown_panel(span.panel, known))
            for field in ("top_left", "bottom_right"):
                n = getattr(span, field)
                if n > count:
                    raise _at(("spans", i, field), f"screen {n} is outside {where}")
            (r0, c0), (r1, c1) = self.wall.position(span.top_left), self.wall.position(span.bottom_right)
            if r1 < r0 or c1 < c0:
                raise _at(("spans", i), "bottom_right must be below and right of top_left")
            for screen in self.span_screens(span):
                if screen in self.screens or screen in taken:
                    other = "screens" if screen in self.screens else f"span {taken[screen]}"
                    raise _at(("spans", i), f"screen {screen} is already used by {other}")
                taken[screen] = span.panel
        first: dict[str, int] = {}
        for i, pillar in enumerate(self.pillars):
            if pillar.id in first:
                raise _at(("pillars", i, "id"), f"the same id as pillars.{first[pillar.id]}")
            first[pillar.id] = i
        ids = [kpi.id for _, kpi in self.kpis()]
        duplicates = {k for k in ids if ids.count(k) > 1}
        if duplicates:
            raise _at(("pillars",), f"KPI ids must be unique, repeated: {', '.join(sorted(duplicates))}")
        seen: dict[str, int] = {}
        for i, channel in enumerate(self.complaints):
            if channel.id in seen:
                raise _at(("complaints", i, "id"), f"the same id as complaints.{seen[channel.id]}")
            seen[channel.id] = i
        return self

    def span_screens(self, span: Span) -> list[int]:
        (r0, c0), (r1, c1) = self.wall.position(span.top_left), self.wall.position(span.bottom_right)
        return [r * self.wall.columns + c + 1 for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]

    def demo_topics_missed(self) -> list[str]:
        """The topics ``citywall demo`` publishes (``<slug>/incidents``, ...) that no filter of
        ``feeds.mqtt.topics`` takes: a config copied from another city kept its topics, and
        the demo's wall stayed empty. Real feeds may use any topics, so check-config warns."""
        from feeds.channels import topic_matches
        from feeds.sim_catalog import TOPICS

        published = [f"{self.city.slug}/{topic}" for topic in TOPICS]
        return [t for t in published if not any(topic_matches(f, t) for f in self.feeds.mqtt.topics)]

    def idle_screens(self) -> list[int]:
        """Screens no panel, span or playlist fills: they stay black, which on a wall reads
        as a dead LCD (check-config warns; a screen kept for another input is allowed)."""
        used = {n for n, panels in self.screens.items() if panels} | set(self.playlists)
        used |= {n for span in self.spans for n in self.span_screens(span)}
        return [n for n in range(1, self.wall.screen_count + 1) if n not in used]

    def span_at(self, screen: int) -> Span | None:
        return next((s for s in self.spans if screen in self.span_screens(s)), None)

    def kpis(self) -> list[tuple[str, Kpi]]:
        return [(pillar.id, kpi) for pillar in self.pillars for kpi in pillar.kpis]

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    def resolve(self, name: str) -> Path:
        """A path from the config: relative ones start next to the config file."""
        path = Path(name).expanduser()
        return path if path.is_absolute() else self._base_dir / path

    def districts_path(self) -> Path:
        return self.resolve(self.city.districts_geojson)


def _at(path: KeyPath, reason: str) -> LocatedError:
    return LocatedError(path, reason)


def _unknown_panel(name: str, known: set[str]) -> str:
    return f"no panel named {name!r} (known: {', '.join(sorted(known))})"


def _mapping(value: Any) -> dict[str, Any]:
    """A raw YAML section as a dict, or an empty one when it is absent or not a mapping (the
    field validation that follows reports the latter with its key path)."""
    return value if isinstance(value, dict) else {}
