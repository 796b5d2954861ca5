"""What ``layouts`` needs from the rest of the product, declared here so it imports nothing.

Panels render the data they are handed. They read the city through ``CityReader`` (the
store in ``dashboard`` satisfies it) and take their settings as plain ``ViewSettings`` that
the app factory builds from the config. That keeps every panel testable with a picture built by
hand, and keeps MQTT, Redis and pydantic out of this package.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

from layouts.picture import CityPicture
from layouts.sections import ShiftReport


class CityReader(Protocol):
    def version(self) -> int:
        """Grows with every change of the city state."""
        ...

    def picture(self) -> CityPicture:
        """The whole current picture (the same document as ``/api/v1/state``), cached per version."""
        ...

    async def changed(self, since: int, timeout: float) -> int:
        """Return as soon as the version is not ``since`` (or at the timeout) with the version."""
        ...

    async def urgent(self, since: float, timeout: float) -> bool:
        """Whether an urgent change (an open critical incident) came after ``since``
        (``time.monotonic()``), waiting at most ``timeout`` for one."""
        ...


class Callbacks(Protocol):
    """Where a page's module registers its callbacks: the Dash app, or the app behind the
    page's access rule (``layouts.routing.PageCallbacks``)."""

    def callback(self, *args: Any, **kwargs: Any) -> Any: ...

    def clientside_callback(self, *args: Any, **kwargs: Any) -> Any: ...


class OperationsPort(Protocol):
    """What the operator console needs: who is at the desk, and the desk's actions.

    Every write returns ``(ok, result_or_refusal)``: the console shows the refusal (a wrong
    role, an incident already acknowledged) instead of raising inside a callback. A refusal
    has a ``reason`` in English and may have a ``word`` (a catalog key) and its ``fill``, which
    the console shows in the city's language (``layouts.console.controls.said``).
    """

    def whoami(self) -> tuple[str, str] | None:
        """(name, role) of the person behind the current request, or None when nobody is."""
        ...

    def may(self, role: str) -> bool:
        """Whether the person behind the current request holds ``role`` or one above it."""
        ...

    def incident(self, incident_id: str) -> dict[str, Any] | None: ...

    def choices(self) -> dict[str, Any]: ...

    def act(self, incident_id: str, action: dict[str, Any]) -> tuple[bool, Any]: ...

    def wall_action(self, what: str, args: dict[str, Any]) -> tuple[bool, Any]: ...

    def report(self, period: str, at: str | None = None) -> ShiftReport | None:
        """The report for a supervisor, with its breakdowns of the period ``at`` (the current
        one when it is None or no period of that kind); None for anyone else."""
        ...


@dataclass(frozen=True)
class WallGeometry:
    columns: int
    rows: int
    screen_width_px: int
    screen_height_px: int
    bezel_px: int

    @property
    def screen_count(self) -> int:
        return self.columns * self.rows

    def position(self, screen: int) -> tuple[int, int]:
        return divmod(screen - 1, self.columns)


@dataclass(frozen=True)
class Span:
    panel: str
    screens: tuple[int, ...]
    top_left: int
    bottom_right: int


@dataclass(frozen=True)
class PillarInfo:
    """A smart-city pillar as the city names it; ``icon`` is one of the tablet's icon names."""

    id: str
    name: str
    icon: str = "grid"


@dataclass(frozen=True)
class ViewSettings:
    city_name: str
    language: str
    timezone: str
    timezone_label: str
    wall: WallGeometry
    screens: dict[int, tuple[str, ...]]
    spans: tuple[Span, ...] = ()
    playlists: dict[int, tuple[tuple[str, ...], int]] = field(default_factory=dict)
    poll_ms: int = 1_000
    heartbeat_s: int = 10
    stale_after_s: int = 60
    reload_at: str | None = "03:00"
    districts_geojson: dict[str, Any] | None = None
    pillars: tuple[PillarInfo, ...] = ()
    #: the families the pillars' KPIs come from: "kpis" for KeyPerformanceIndicator messages,
    #: a stream's family for a derived KPI ("incidents", "mpp", ...)
    kpi_families: tuple[str, ...] = ("kpis",)

    def pillar(self, pillar_id: str) -> PillarInfo:
        found = next((p for p in self.pillars if p.id == pillar_id), None)
        return found or PillarInfo(pillar_id, pillar_id)

    presets: dict[str, dict[int, tuple[str, ...]]] = field(default_factory=dict)
    #: the MPP's opening hours (city time, whole hours: opens, and the hour it closes in): the
    #: hourly chart's axis
    mpp_hours: tuple[int, int] = (8, 15)
    #: Work done once for these settings and kept with them, not in a module (the map's plan
    #: per size): each app has its own. Not part of the value; a copy starts empty.
    memo: dict[Hashable, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def span_at(self, screen: int) -> Span | None:
        return next((s for s in self.spans if screen in s.screens), None)
