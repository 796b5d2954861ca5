"""KPIs the store can derive from the streams: each one's id, what it means and how it is
computed from the picture, in one place.

A KPI in ``config.yaml`` with ``source: derived`` names one of these; the config model
refuses any other name so a typo is caught at start-up, not on the mayor's tablet. The
functions read only the typed picture (``layouts.picture.CityPicture``), so the config can
be checked without loading the store, and adding a derived KPI is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from layouts.picture import CityPicture
from layouts.sections import share_pct


@dataclass(frozen=True, slots=True)
class DerivedKpi:
    meaning: str
    #: the panel family whose feed it is computed from: until that feed has delivered, "0 open
    #: incidents" or "0 % of today's permits" is not news, and the KPI has no value
    family: str
    value: Callable[[CityPicture], float | None]
    #: whether what it measures is closed now, so that its value says nothing: the MPP's
    #: permits before it opens and on a day it is closed, its waiting time outside its hours
    closed: Callable[[CityPicture], bool] = lambda p: False


def _mpp_not_started(p: CityPicture) -> bool:
    """No permit is due yet today: "0 % of the target" at midnight is no missed target. After
    closing, the day's figures stand and are judged."""
    return p.mpp.before_opening or not p.mpp.target


def _mpp_not_serving(p: CityPicture) -> bool:
    return not p.mpp.open_now


DERIVED: dict[str, DerivedKpi] = {
    "incidents_within_sla": DerivedKpi(
        "share of incidents resolved in the last 24 h within their severity's SLA (%)",
        "incidents",
        lambda p: share_pct(p.incidents.resolved_within_sla_24h, p.incidents.resolved_24h),
    ),
    "open_incidents": DerivedKpi("incidents not yet resolved (count)", "incidents", lambda p: p.incidents.open_count),
    "traffic_incidents_open": DerivedKpi(
        "open incidents of category traffic (count)", "incidents", lambda p: p.incidents.by_category.get("traffic", 0)
    ),
    "mpp_target_attainment": DerivedKpi(
        "MPP permits served today against today's target (%)", "mpp", lambda p: p.mpp.attainment_pct, _mpp_not_started
    ),
    "mpp_on_pace": DerivedKpi(
        "MPP permits served today against the share of today's target due by now, at an even pace"
        " over the opening hours (%; none before opening and on closed days)",
        "mpp",
        lambda p: p.mpp.pace_pct,
        _mpp_not_started,
    ),
    "mpp_avg_wait_min": DerivedKpi(
        "average waiting time over MPP agencies now (minutes)", "mpp", lambda p: p.mpp.avg_wait_min, _mpp_not_serving
    ),
    "waste_reports_resolved_24h": DerivedKpi(
        "share of the waste reports resolved in the last 24 h that took at most the waste SLA (%)",
        "waste",
        lambda p: share_pct(p.waste.reports_resolved_within_sla, p.waste.reports_resolved),
    ),
    "tps_over_threshold": DerivedKpi(
        "waste containers above the full threshold (count)", "waste", lambda p: p.waste.over_threshold
    ),
    "drainage_stations_in_alert": DerivedKpi(
        "drainage stations at Waspada or above (count)", "drainage", lambda p: p.drainage.in_alert
    ),
    # every open complaint counts, whichever app or family it came through
    "citizen_reports_open": DerivedKpi("open citizen reports, drainage and waste (count)", "waste", lambda p: p.reports.open),
}

#: id -> meaning, for the config's check and its error message.
DERIVED_KPIS: dict[str, str] = {kpi_id: kpi.meaning for kpi_id, kpi in DERIVED.items()}
