"""The mutable state of the simulated things: gauges, TPS containers, open incidents and reports.

Each holds what the simulator needs between two messages about it (a river level and its
dynamics, a fill and its next pickup, the planned times of a lifecycle); ``feeds.simulator``
moves them and ``feeds.sim_payloads`` writes them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from feeds import city
from feeds.sim_catalog import IncidentKind, iso_z

# Mutable state of the simulated things.


@dataclass
class _Station:
    site: city.StationSite
    base: float
    gain: float  # metres per (mm/h * h) at equilibrium per hour of tau
    tau_h: float
    rain_factor: float
    reference: float  # sensor height above the channel bed
    excess: float = 0.0
    cell: float = 1.0  # how hard the current rain episode hits this station
    next_report: datetime | None = None

    @property
    def entity_id(self) -> str:
        return f"urn:ngsi-ld:FloodMonitoring:{self.site.code}"

    @property
    def level(self) -> float:
        return min(self.base + self.excess, self.reference - 0.3)


@dataclass
class _Container:
    tps_id: str
    name: str
    kelurahan: str
    kecamatan: str
    kode: str
    lat: float
    lon: float
    capacity_m3: int
    daily_fill: float
    empty_minute: int  # minute of the day (WIB) of the morning pickup
    second_pickup: int | None  # afternoon pickup for busy containers
    fill: float = 0.0
    last_emptied: datetime | None = None
    next_pickup: datetime | None = None
    status: str = "ok"
    next_report: datetime | None = None

    @property
    def entity_id(self) -> str:
        return f"urn:ngsi-ld:WasteContainer:{self.tps_id}"


@dataclass
class _Incident:
    entity_id: str
    kind: IncidentKind
    severity: str
    description: str
    street: str
    kecamatan: str
    lat: float
    lon: float
    stage_times: list[datetime]
    stage: int = -1  # index of the last stage emitted; -1 before the first message
    stage_isos: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stage_isos = [iso_z(t) for t in self.stage_times]


@dataclass
class _Report:
    entity_id: str
    report_id: str
    topic: str
    label: str
    description: str
    street: str
    kecamatan: str
    lat: float
    lon: float
    stage_times: list[datetime]
    stage: int = -1  # index of the last stage emitted
    stage_isos: list[str] = field(default_factory=list)
    channel: city.Channel | None = None  # a complaint app's report, in that app's categories

    def __post_init__(self) -> None:
        self.stage_isos = [iso_z(t) for t in self.stage_times]
