"""The ``operations`` section of ``config.yaml``: who can be assigned, how incidents close,
what each category's procedure is, how fast each severity must be handled, and how the
wall is driven (presets, takeover rules) and reported on (shifts).

It lives in its own module so that the city's other sections in ``dashboard.config`` stay
about the city; ``Config`` only holds an ``operations: Operations`` field. Every model forbids
unknown keys, like the rest of the config.
"""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dashboard.city_config import CityTime

SEVERITIES = ("critical", "high", "medium", "low", "informational")
Severity = Literal["critical", "high", "medium", "low", "informational"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Agency(_Strict):
    """A body an incident can be handed to (BPBD, Damkar, Dishub, ...)."""

    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    name: str = Field(min_length=1, max_length=120)


class ResolutionCode(_Strict):
    code: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    label: str = Field(min_length=1, max_length=120)


class Sla(_Strict):
    """Minutes allowed from an incident's start to its acknowledgement and to its resolution."""

    acknowledge_min: int = Field(ge=1)
    resolve_min: int = Field(ge=1)

    @model_validator(mode="after")
    def _acknowledged_before_resolved(self) -> Sla:
        """Swapped (acknowledge 60, resolve 5), every incident missed its resolve SLA."""
        if self.acknowledge_min > self.resolve_min:
            raise ValueError(f"acknowledge_min ({self.acknowledge_min}) is more than resolve_min ({self.resolve_min})")
        return self


class Preset(_Strict):
    """A named wall layout: the panels each listed screen shows while the preset is current.

    Screens the preset does not list keep their configured panels.
    """

    name: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    label: str = Field(min_length=1, max_length=80)
    screens: dict[int, list[str]] = Field(default_factory=dict)


class TakeoverRule(_Strict):
    """What takes a screen over until someone acknowledges it.

    ``incident``: an open, unacknowledged incident of at least ``severity`` (and of
    ``category`` when given). ``station``: a drainage station at ``stage`` or above; an
    acknowledgement of a station holds for ``ack_holds_min``.
    """

    name: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    screen: int = Field(ge=1)
    kind: Literal["incident", "station"]
    severity: Severity = "critical"
    category: str | None = None
    stage: Literal["Waspada", "Siaga", "Awas"] = "Awas"
    ack_holds_min: int = Field(default=60, ge=1)


class Shift(_Strict):
    """A named shift starting at ``start`` (city time); it runs until the next one starts."""

    name: str = Field(min_length=1, max_length=40)
    start: CityTime


def _default_sla() -> dict[Severity, Sla]:
    return {
        "critical": Sla(acknowledge_min=5, resolve_min=60),
        "high": Sla(acknowledge_min=10, resolve_min=240),
        "medium": Sla(acknowledge_min=30, resolve_min=720),
        "low": Sla(acknowledge_min=60, resolve_min=2_880),
        "informational": Sla(acknowledge_min=240, resolve_min=10_080),
    }


class Operations(_Strict):
    agencies: list[Agency] = Field(default_factory=list)
    resolution_codes: list[ResolutionCode] = Field(default_factory=lambda: [ResolutionCode(code="handled", label="Ditangani")])
    sop: dict[str, list[str]] = Field(default_factory=dict)
    sla: dict[Severity, Sla] = Field(default_factory=_default_sla)
    presets: list[Preset] = Field(default_factory=list)
    takeovers: list[TakeoverRule] = Field(default_factory=list)
    shifts: list[Shift] = Field(
        default_factory=lambda: [
            Shift(name="pagi", start=time(7)),
            Shift(name="siang", start=time(15)),
            Shift(name="malam", start=time(23)),
        ]
    )
    audit_kept: int = Field(default=10_000, ge=100, le=1_000_000)
    notes_kept: int = Field(default=50, ge=1, le=1_000)
    history_kept: int = Field(default=100, ge=10, le=1_000)
    push_max_min: int = Field(default=240, ge=1)
    broadcast_max_min: int = Field(default=720, ge=1)

    @model_validator(mode="after")
    def _unique_and_complete(self) -> Operations:
        for field, names in (
            ("agencies", [a.id for a in self.agencies]),
            ("resolution_codes", [c.code for c in self.resolution_codes]),
            ("presets", [p.name for p in self.presets]),
            ("takeovers", [t.name for t in self.takeovers]),
            ("shifts", [s.name for s in self.shifts]),
        ):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"{field}: names must be unique, repeated: {', '.join(repeated)}")
        missing = [s for s in SEVERITIES if s not in self.sla]
        if missing:
            # a table of critical alone replaced the defaults: every other incident had no SLA
            # and counted as within it in the report and on the tablet
            raise ValueError(f"sla: every severity needs its minutes; missing {', '.join(missing)}")
        if not self.resolution_codes:
            raise ValueError("resolution_codes: at least one code is needed to resolve an incident")
        if not self.shifts:
            raise ValueError("shifts: at least one shift is needed")
        starts = [s.start for s in self.shifts]
        if len(set(starts)) != len(starts):
            raise ValueError("shifts: two shifts start at the same time")
        if "default" in {p.name for p in self.presets}:
            raise ValueError("presets: 'default' is the configured layout and cannot be redefined")
        return self

    def agency(self, agency_id: str) -> Agency | None:
        return next((a for a in self.agencies if a.id == agency_id), None)

    def preset(self, name: str) -> Preset | None:
        return next((p for p in self.presets if p.name == name), None)
