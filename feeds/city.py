"""The city a simulator plays: plain typed data, built by ``dashboard`` from ``config.yaml``.

``feeds`` imports nothing of ``dashboard``, so the simulator cannot read the config itself.
The composition root hands it a ``CityProfile`` instead: the districts, the gauges, TPS and
MPP tenants, the KPIs that arrive as messages and the complaint channels. Where a city's
config leaves a part out, ``complete`` fills it with plain generated names ("Pos drainase
<district>", "Instansi 3") so that no other city's places ever appear on its screens.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Protocol

from feeds.sim_catalog import AWAS_M, SIAGA_M, WASPADA_M
from feeds.sim_words import DESTINATIONS_EN, VEHICLES_EN


class DistrictsLike(Protocol):
    """What the simulator needs from ``feeds.geo.Districts``: names and points inside them."""

    def names(self) -> list[str]: ...

    def random_point(self, name: str, rng: random.Random) -> tuple[float, float]: ...

    def centroid(self, name: str) -> tuple[float, float]: ...


@dataclass(frozen=True)
class StationSite:
    """A drainage/river gauge."""

    code: str
    name: str
    kelurahan: str
    kecamatan: str
    lat: float
    lon: float
    river: bool  # rivers rise and fall slowly; urban drains are flashy


@dataclass(frozen=True)
class WasteSite:
    """A TPS the trucks empty every morning."""

    tps_id: str
    name: str
    kelurahan: str
    kecamatan: str
    ward_code: str
    lat: float
    lon: float


@dataclass(frozen=True)
class AgencySpec:
    """One MPP tenant: its share of the day's load and how its counters behave."""

    slug: str
    office: str
    service: str
    share: float  # relative share of the day's served tickets
    counters: int
    base_wait_min: float
    service_min: float


@dataclass(frozen=True)
class MessageKpi:
    """A KPI no stream can derive; the simulator sends plausible values around its target."""

    kpi_id: str
    name: str
    target: float
    unit: str = ""
    better: str = "higher"
    description: str = ""
    provider: str = ""


@dataclass(frozen=True)
class Channel:
    """A complaint app. ``topic`` is where its reports are published (a full MQTT topic);
    ``categories`` are its own category names with the family each maps to."""

    id: str
    name: str
    topic: str
    categories: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Place:
    population_k: float = 50.0
    streets: tuple[str, ...] = ()
    central: bool = False
    peri_urban: bool = False


#: Ordinary road users anywhere in Indonesia; a city adds its own (its bus line) in config.
GENERIC_VEHICLES = ("sepeda motor", "mobil pribadi", "truk", "angkot", "mobil bak terbuka")
GENERIC_DESTINATIONS = ("pusat kota",)


@dataclass(frozen=True)
class MppHours:
    """When the simulated MPP serves, in minutes of the city's day and weekdays (0 is Monday).
    The config's ``mpp.opens``, ``closes`` and ``open_weekdays``: a city that opens at 07:30 or
    on Saturdays was simulated from 08:00 to 16:00 on weekdays, against its own chart."""

    opens_min: int = 8 * 60
    closes_min: int = 16 * 60
    weekdays: frozenset[int] = frozenset(range(5))
    closed: frozenset[date] = frozenset()  # public holidays and cuti bersama (``mpp.closed_dates``)

    def open_on(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.closed


@dataclass(frozen=True)
class CityProfile:
    """Everything city-specific the simulator says. Use ``complete`` before simulating."""

    slug: str
    name: str  # "Kota Pariaman"
    districts: DistrictsLike
    timezone: str = "Asia/Jakarta"
    language: str = "id"  # what its generated names and its messages' texts are written in
    region: str = ""
    organization: str = ""
    places: dict[str, Place] = field(default_factory=dict)  # by district name as in the GeoJSON
    stations: tuple[StationSite, ...] = ()
    waste_sites: tuple[WasteSite, ...] = ()
    agencies: tuple[AgencySpec, ...] = ()
    agency_count: int = 0  # when no agencies are listed: how many generated tenants
    mpp_name: str = ""
    mpp_location: tuple[float, float] | None = None
    mpp_target_normal: int = 700
    mpp_target_busy: int = 1000
    busy_weekdays: frozenset[int] = frozenset({0, 4})
    mpp_hours: MppHours = MppHours()
    kpis: tuple[MessageKpi, ...] = ()
    channels: tuple[Channel, ...] = ()
    vehicles: tuple[str, ...] = ()
    destinations: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)  # alert category -> source name
    drainage_provider: str = ""
    #: Waspada, Siaga and Awas in metres: the city's default, then per station code
    drainage_levels: tuple[float, float, float] = (WASPADA_M, SIAGA_M, AWAS_M)
    station_levels: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def levels_of(self, code: str) -> tuple[float, float, float]:
        """The stages the dashboard judges this gauge by, so the simulated water reaches them."""
        return self.station_levels.get(code, self.drainage_levels)

    @property
    def locality(self) -> str:
        """The city as an address names it: "Kota Pariaman" -> "Pariaman"."""
        return re.sub(r"^(kota|kabupaten|kab\.)\s+", "", self.name, flags=re.IGNORECASE).strip() or self.name

    @property
    def id_tag(self) -> str:
        """The slug as it goes into entity ids: ``PARIAMAN``."""
        return re.sub(r"[^A-Z0-9]+", "-", self.slug.upper()).strip("-") or "CITY"

    def complete(self) -> CityProfile:
        """The profile with every missing part generated from the districts alone."""
        names = list(self.districts.names())
        if not names:
            raise ValueError("districts has no names: cannot place anything")
        tag = self.id_tag
        en = self.language == "en"  # an English city's demo said "Pos drainase" and "Instansi 3"
        out = self
        if not out.organization:
            out = replace(out, organization=f"{'Government of' if en else 'Pemerintah'} {self.name}")
        if not out.drainage_provider:
            out = replace(out, drainage_provider=f"{'Disaster Management Agency of' if en else 'BPBD'} {self.name}")
        if not out.mpp_name:
            out = replace(out, mpp_name=f"{'Public Service Mall of' if en else 'Mal Pelayanan Publik'} {self.name}")
        if out.mpp_location is None:
            out = replace(out, mpp_location=self.districts.centroid(names[0]))
        if not out.vehicles:
            out = replace(out, vehicles=VEHICLES_EN if en else GENERIC_VEHICLES)
        if not out.destinations:
            out = replace(out, destinations=DESTINATIONS_EN if en else GENERIC_DESTINATIONS)
        if not out.stations:
            stations = []
            for i, name in enumerate(names[:12], start=1):
                lat, lon = self.districts.random_point(name, random.Random(f"station:{self.slug}:{name}"))
                title = f"Gauge {name}" if en else f"Pos drainase {name}"
                stations.append(StationSite(f"{tag}-DR-{i:02d}", title, name, name, lat, lon, i % 4 == 1))
            out = replace(out, stations=tuple(stations))
        if not out.waste_sites:
            sites = []
            for name in names:
                r = random.Random(f"tps:{self.slug}:{name}")
                for n in (1, 2):
                    lat, lon = self.districts.random_point(name, r)
                    # "TPS" in English too: a name, like MPP, and "Waste site ..." lost its number to the ellipsis
                    sites.append(WasteSite("", f"TPS {name} {n}", name, name, "", lat, lon))
            out = replace(out, waste_sites=tuple(sites))
        if any(not s.tps_id for s in out.waste_sites):
            out = replace(
                out,
                waste_sites=tuple(
                    s if s.tps_id else replace(s, tps_id=f"TPS-{tag}-{i:03d}") for i, s in enumerate(out.waste_sites, start=1)
                ),
            )
        if not out.agencies:
            count = out.agency_count or 6
            out = replace(
                out,
                agencies=tuple(
                    AgencySpec(
                        f"instansi-{i:02d}",
                        f"{'Agency' if en else 'Instansi'} {i}",
                        f"{'Service' if en else 'Layanan'} {i}",
                        1.0,
                        2,
                        15,
                        8,
                    )
                    for i in range(1, count + 1)
                ),
            )
        return out


def mqtt_topic_for(filters: Sequence[str]) -> str:
    """A concrete topic that the first filter matches (``+`` and ``#`` filled in)."""
    parts = []
    for level in filters[0].split("/"):
        if level == "#":
            parts.append("reports")
            break
        parts.append("reports" if level == "+" else level)
    return "/".join(parts)
