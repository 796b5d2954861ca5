"""A small day of Pekanbaru traffic, and what the store tests compare it by.

The store contract runs it against each backend, and the Redis and scale-out tests feed it
to a shared store: one definition, so every backend is held to the same day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dashboard.config import Config, History
from dashboard.ingest import CityState
from dashboard.picture import sample_kpis
from dashboard.store.base import StateStore
from feeds.events import CitizenReport, DeadLetter, Event, Incident, KpiReading, QueueReading, Reason, WasteFill, WaterLevel
from layouts.picture import CityPicture

#: A Monday, 10:00 WIB: a busy MPP day, well inside the local day so "today" is unambiguous.
NOW_DT = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
NOW = NOW_DT.timestamp()


@dataclass
class Clock:
    """Housekeeping runs when the clock says so; tests call ``housekeep(now)`` themselves."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


def city(store: StateStore, config: Config, **history: int) -> CityState:
    if history:
        config = config.model_copy(update={"history": History(**{**config.history.model_dump(), **history})})
    return CityState(store, config, clock=Clock())


def at(seconds_before_now: float) -> datetime:
    return NOW_DT - timedelta(seconds=seconds_before_now)


def incident(
    id: str,
    ago: float,
    status: str = "new",
    *,
    severity: str = "high",
    category: str = "traffic",
    opened_ago: float | None = None,
) -> Incident:
    return Incident(
        id=id, observed_at=at(ago), source_type="Alert", category=category, severity=severity,  # type: ignore[arg-type]
        status=status, kecamatan="Sail", lat=0.51, lon=101.45, description=f"{category} at {id}",  # type: ignore[arg-type]
        opened_at=at(ago if opened_ago is None else opened_ago),
    )  # fmt: skip


def critical_now(id: str, text: str) -> Incident:
    """A critical traffic Alert observed now, in Sukajadi: what a browser test publishes and
    then looks for on screen by its ``text``."""
    return Incident(
        id=id,
        observed_at=datetime.now(UTC),
        source_type="Alert",
        category="traffic",
        severity="critical",
        kecamatan="Sukajadi",
        lat=0.517,
        lon=101.438,
        description=text,
    )


def water(id: str, ago: float, level: float, name: str | None = None) -> WaterLevel:
    return WaterLevel(
        id=id,
        observed_at=at(ago),
        source_type="FloodMonitoring",
        station_id=id,
        name=name or f"Pos {id}",
        level_m=level,
        alert_level_m=None,
        danger_level_m=None,
        kecamatan="Rumbai",
        lat=0.6,
        lon=101.43,
    )


def city_day() -> list[Event]:
    """A small day of Pekanbaru traffic touching every kind and every panel family.

    Sort keys are distinct on purpose (see the report on ``picture.py``): ties would be
    ordered by each backend's own iteration order.
    """
    events: list[Event] = [
        incident("INC-1", 7_200, "new", severity="critical", category="flood"),
        incident("INC-1", 6_000, "dispatched", severity="critical", category="flood", opened_ago=7_200),
        incident("INC-2", 5_000, "new", severity="medium", category="traffic"),
        incident("INC-3", 4_000, "resolved", severity="high", category="fire", opened_ago=6_000),
        incident("INC-4", 3_000, "acknowledged", severity="low", category="traffic"),
        incident("INC-2", 6_500, "resolved", severity="medium", category="traffic"),  # late: ignored
        water("PS-SAIL", 900, 1.2, "Pos Sail"), water("PS-SAIL", 600, 1.7, "Pos Sail"), water("PS-SAIL", 300, 2.6, "Pos Sail"),
        water("PS-SIAK", 600, 2.1, "Pos Siak"), water("PS-SIAK", 300, 0.9, "Pos Siak"),
        WasteFill(id="TPS-1", observed_at=at(800), source_type="WasteContainer", name="TPS Jl. Durian", fill=0.93),
        WasteFill(id="TPS-2", observed_at=at(700), source_type="WasteContainer", name="TPS Pasar Pagi", fill=0.41),
        CitizenReport(id="REP-1", observed_at=at(3_000), source_type="IssueReporting", topic="waste", category="sampah",
                      status="resolved", opened_at=at(30_000), resolved_at=at(3_000), kecamatan="Tampan"),
        CitizenReport(id="REP-2", observed_at=at(2_000), source_type="Open311_ServiceRequest", topic="drainage",
                      category="drainase", opened_at=at(2_000), kecamatan="Marpoyan Damai"),
        QueueReading(id="MPP-DPMPTSP", observed_at=at(1_800), source_type="QueueMonitor", agency="DPMPTSP",
                     waiting=14, serving=6, served_today=120, avg_wait_min=11.5),
        QueueReading(id="MPP-DPMPTSP", observed_at=at(300), source_type="QueueMonitor", agency="DPMPTSP",
                     waiting=9, serving=6, served_today=171, avg_wait_min=9.0),
        QueueReading(id="MPP-DUKCAPIL", observed_at=at(600), source_type="QueueMonitor", agency="Disdukcapil",
                     waiting=21, serving=8, served_today=240, avg_wait_min=14.0),
        KpiReading(id="KPI-PAD", observed_at=at(5_000), source_type="KeyPerformanceIndicator", kpi_id="realisasi_pad",
                   value=72.5),
    ]  # fmt: skip
    return events


def feed_city_day(store: StateStore, config: Config) -> None:
    state = city(store, config)
    for event in city_day():
        state.accept(event)
    state.reject(DeadLetter(feed="mqtt", origin="pekanbaru/drainage", reason=Reason.MALFORMED_JSON,
                            detail="line 1", received_at=NOW_DT, excerpt="{oops"))  # fmt: skip
    state.record_feed("mqtt", {"received": len(city_day()) + 1, "rejected": 1}, {"connected": True})
    sample_kpis(store, config, NOW - 120)
    sample_kpis(store, config, NOW)


def comparable(picture: CityPicture) -> dict[str, Any]:
    """Drop what legitimately differs: when the picture was made, and when each backend's
    clock stamped the arrivals (the memory store's process clock, Redis's server clock)."""
    out = {k: v for k, v in picture.to_json().items() if k != "generated_at"}
    out["freshness"] = {family: {"stale": f.stale} for family, f in picture.freshness.items()}
    for block in out["kpis"]["pillars"].values():
        for kpi in block["kpis"]:
            if kpi["family"] != "kpis":  # a derived KPI is as recent as its feed's last arrival
                kpi["updated_at"] = "<arrival>" if kpi["updated_at"] else None
    return out
