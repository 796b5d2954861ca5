"""Conformance: every official Smart Data Models example, decoded with the production rules.

The examples (tests/conformance/smart-data-models, copied unchanged from upstream, CC BY 4.0)
are noisy on purpose: ids of other models, coordinates from Madrid, Nice, Pune and Leon,
values that differ between the forms of one example, a date sent as a Relationship, an
offset followed by a stray "Z". ``OUTCOMES`` states, for each file, what the normalizer must
do with it and why; a new or removed file fails ``test_table_covers_every_example`` until
someone decides its outcome.

Run with ``-s`` (or ``-rP``) to see the report: one line per file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from feeds.events import Event, Reason, Rejected
from feeds.geo import Districts
from feeds.ngsi import unwrap
from feeds.normalize import Normalizer

HERE = Path(__file__).resolve().parents[1]  # tests/, where the conformance examples live
EXAMPLES = HERE / "conformance" / "smart-data-models"
ASSETS = HERE.parent / "assets"
CLOCK = datetime(2026, 11, 22, tzinfo=UTC)
BBOX = (101.323, 0.42039, 101.60535, 0.691)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# Expected outcome per file: ("accept", kind, {field: value}) or ("reject", Reason, detail prefix).
# The comment above each group says why.
Outcome = tuple[str, Any, Any]

# Alert: all four forms are complete. Coordinates are Madrid as a correct [lon, lat]; they are
# valid, so they are kept and simply fall in no kecamatan. Only the normalized .json carries
# dateModified (2019, no zone -> UTC), which is the freshest time and wins; the others fall back
# to dateIssued. No `status` attribute, so the incident is "new".
_ALERT_COMMON = {
    "category": "traffic", "sub_category": "trafficJam", "severity": "high", "status": "new",
    "description": "The road is completely blocked for 3kms", "lat": 40.423852777777775, "lon": -3.712247222222222,
    "kecamatan": None, "opened_at": t("2017-01-02T09:25:55+00:00"), "source_type": "Alert",
}  # fmt: skip
_ALERT_ISSUED = {**_ALERT_COMMON, "observed_at": t("2017-01-02T09:25:55+00:00")}

# FloodMonitoring: the id belongs to another model ("Pune-NoiseLevelObserved"), which is noise
# but still a usable identifier; the station is stationID. The normalized forms carry other
# numbers than the keyValues forms (1.98 vs 0.98 ...): upstream inconsistency, taken as sent.
# "+05:30" converts to 08:00 UTC. The normalized .jsonld mixes "type": "string" into NGSI-LD.
_FLOOD_COMMON = {
    "station_id": "FWR013", "status_text": "Normal", "observed_at": t("2020-09-16T08:00:00+00:00"),
    "lat": None, "lon": None, "kecamatan": None, "source_type": "FloodMonitoring",
}  # fmt: skip
_FLOOD_KV = {**_FLOOD_COMMON, "level_m": 0.98, "alert_level_m": 10.0, "danger_level_m": 25.0}
_FLOOD_NORMALIZED = {**_FLOOD_COMMON, "level_m": 1.98, "alert_level_m": 11.0, "danger_level_m": 26.0}

# WaterObserved: location and dateObserved (required by the schema) are present. The point is
# Nice written as [lat, lon] = [43.66, 7.20], but read as [lon, lat] it is also a valid place
# (Ethiopia/Somalia), so it is NOT "clearly swapped" and is kept as given. The .jsonld forms
# have no waterLevel, so height is the level. The normalized .jsonld sends dateObserved as a
# Relationship with "object": wrong NGSI-LD, but the meaning is clear and it is accepted.
_WATER_COMMON = {
    "lat": 7.196545, "lon": 43.66481, "kecamatan": None, "name": "STLRT-MNCA-AP-WO-012",
    "observed_at": t("2020-03-17T08:45:00.209+00:00"), "source_type": "WaterObserved",
}  # fmt: skip

# IssueReporting: "Road maintenance" / "Maintenance" names neither drainage nor waste, so the
# topic is "other"; "Assigned" is not a closing status, so the report is open. No location.
_ISSUE = {
    "topic": "other", "category": "Maintenance", "status": "open", "description": "Road not in proper condition",
    "opened_at": t("2021-03-11T10:21:02+00:00"), "observed_at": t("2021-03-11T10:21:02+00:00"),
    "resolved_at": None, "lat": None, "kecamatan": None, "source_type": "IssueReporting",
}  # fmt: skip

# Open311: typed "Open311ServiceRequest" (no underscore), routed like Open311_ServiceRequest.
# "Aceras" (pavements) is neither drainage nor waste; status "closed" resolves it at
# updated_datetime. -08:00 converts to 14:37:38 UTC. The normalized .jsonld's "-08:00Z" is in
# expected_datetime, which the dashboard does not use. Madrid-area coordinates kept as given.
_OPEN311 = {
    "topic": "other", "category": "Aceras", "status": "resolved",
    "description": "Acera en mal estado con bordillo partido en dos",
    "opened_at": t("2010-04-14T14:37:38+00:00"), "resolved_at": t("2010-04-14T14:37:38+00:00"),
    "observed_at": t("2010-04-14T14:37:38+00:00"), "lat": 40.62785133667262, "lon": -3.164485591715449,
    "kecamatan": None, "source_type": "Open311_ServiceRequest",
}  # fmt: skip

# QueueMonitor: officeName is the agency; ticketsToServe 12 waiting, ticketServed 45;
# serviceStatus "Open". linePriority is a boolean in one form and 1 in the others: both fine.
# The Leon coordinates are [lat, lon] but plausible either way; a queue reading has no place.
_QUEUE = {
    "agency": "Tourist Office", "service": "Visit reservations.", "waiting": 12, "served_today": 45,
    "serving": 0, "avg_wait_min": None, "open": True, "paused": False, "observed_at": t("2021-03-22T11:10:05+00:00"),
    "source_type": "QueueMonitor",
}  # fmt: skip

# KeyPerformanceIndicator: kpiValue 20 is a number; "good" is a valid standing. The NGSI-LD
# forms prefix the id with urn:ngsi-ld:KeyPerformanceIndicator:, which kpi_id strips, so all
# four forms name the same KPI. The .jsonld forms use modifiedAt instead of dateModified.
_KPI = {
    "kpi_id": "kpi-2016-Ciudad-containers-faults", "name": "Incidencias-Contenedores-Mensual", "value": 20.0,
    "standing": "good", "observed_at": t("2016-06-29T15:59:09.224+00:00"), "source_type": "KeyPerformanceIndicator",
}  # fmt: skip

# WasteContainer: these examples are the Indian smart-bin variant (binCapacity, binMaxLoad,
# binFullnessThreshold, binLoggedTime) and carry no fillingLevel at all. A fill cannot be
# derived from capacity figures without guessing, and a TPS panel showing a guessed fill is
# worse than none: dead-lettered as missing fillingLevel.
_WASTE_REJECT: Outcome = ("reject", Reason.MISSING_FIELD, "fillingLevel")

OUTCOMES: dict[str, Outcome] = {
    "Alert/example.json": ("accept", "incident", {**_ALERT_ISSUED, "id": "Alert:1"}),
    "Alert/example.jsonld": ("accept", "incident", {**_ALERT_ISSUED, "id": "urn:ngsi-ld:Alert:Alert:1"}),
    "Alert/example-normalized.json": (
        "accept",
        "incident",
        {**_ALERT_COMMON, "id": "Alert:1", "observed_at": t("2019-06-07T12:07:06+00:00")},
    ),
    "Alert/example-normalized.jsonld": ("accept", "incident", {**_ALERT_ISSUED, "id": "urn:ngsi-ld:Alert:Alert:1"}),
    "FloodMonitoring/example.json": ("accept", "water_level", _FLOOD_KV),
    "FloodMonitoring/example.jsonld": ("accept", "water_level", _FLOOD_KV),
    "FloodMonitoring/example-normalized.json": ("accept", "water_level", _FLOOD_NORMALIZED),
    "FloodMonitoring/example-normalized.jsonld": ("accept", "water_level", _FLOOD_NORMALIZED),
    "WaterObserved/example.json": ("accept", "water_level", {**_WATER_COMMON, "level_m": 2.4, "station_id": "Device:T2-NP-018"}),
    "WaterObserved/example.jsonld": (
        "accept",
        "water_level",
        {**_WATER_COMMON, "level_m": 3.52, "station_id": "uri:ngsi:Device:T2-NP-018"},
    ),
    "WaterObserved/example-normalized.json": (
        "accept",
        "water_level",
        {**_WATER_COMMON, "level_m": 2.4, "station_id": "Device:T2-NP-018"},
    ),
    "WaterObserved/example-normalized.jsonld": (
        "accept",
        "water_level",
        {**_WATER_COMMON, "level_m": 3.52, "station_id": "uri:ngsi:Device:T2-NP-018"},
    ),
    "IssueReporting/example.json": ("accept", "report", _ISSUE),
    "IssueReporting/example.jsonld": ("accept", "report", _ISSUE),
    "IssueReporting/example-normalized.json": ("accept", "report", _ISSUE),
    "IssueReporting/example-normalized.jsonld": ("accept", "report", _ISSUE),
    "Open311_ServiceRequest/example.json": ("accept", "report", _OPEN311),
    "Open311_ServiceRequest/example.jsonld": ("accept", "report", _OPEN311),
    "Open311_ServiceRequest/example-normalized.json": ("accept", "report", _OPEN311),
    "Open311_ServiceRequest/example-normalized.jsonld": ("accept", "report", _OPEN311),
    "QueueMonitor/example.json": ("accept", "queue", _QUEUE),
    "QueueMonitor/example.jsonld": ("accept", "queue", _QUEUE),
    "QueueMonitor/example-normalized.json": ("accept", "queue", _QUEUE),
    "QueueMonitor/example-normalized.jsonld": ("accept", "queue", _QUEUE),
    "KeyPerformanceIndicator/example.json": ("accept", "kpi", {**_KPI, "id": "kpi-2016-Ciudad-containers-faults"}),
    "KeyPerformanceIndicator/example.jsonld": ("accept", "kpi", _KPI),
    "KeyPerformanceIndicator/example-normalized.json": ("accept", "kpi", {**_KPI, "id": "kpi-2016-Ciudad-containers-faults"}),
    "KeyPerformanceIndicator/example-normalized.jsonld": ("accept", "kpi", _KPI),
    "WasteContainer/example.json": _WASTE_REJECT,
    "WasteContainer/example.jsonld": _WASTE_REJECT,
    "WasteContainer/example-normalized.json": _WASTE_REJECT,
    "WasteContainer/example-normalized.jsonld": _WASTE_REJECT,
}


def example_files() -> list[str]:
    return sorted(p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.glob("*/example*.json*"))


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    districts = Districts.load(ASSETS / "pekanbaru_kecamatan.geojson")
    return Normalizer(districts, BBOX, 64 * 1024, 300, clock=lambda: CLOCK)


def report_line(name: str, normalizer: Normalizer) -> str:
    """One line of the conformance report for one example file."""
    payload = (EXAMPLES / name).read_bytes()
    form = unwrap(json.loads(payload)).form.value
    try:
        event, _ = normalizer.decode_with_form(payload)
    except Rejected as exc:
        return f"{name:50s} {form:20s} dead-lettered: {exc.reason.value} ({exc.detail})"
    return f"{name:50s} {form:20s} accepted as {event.kind} {_summary(event)}"


def _summary(event: Event) -> str:
    doc = event.to_doc()
    keys = (
        "category",
        "severity",
        "station_id",
        "level_m",
        "topic",
        "status",
        "agency",
        "waiting",
        "kpi_id",
        "value",
        "kecamatan",
    )
    return " ".join(f"{k}={doc[k]}" for k in keys if k in doc)


def test_table_covers_every_example() -> None:
    files = example_files()
    assert len(files) == 32, "8 models x 4 forms"
    assert set(files) == set(OUTCOMES), "decide the outcome of new example files in OUTCOMES"


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_example(name: str, normalizer: Normalizer) -> None:
    verdict, expected, details = OUTCOMES[name]
    payload = (EXAMPLES / name).read_bytes()
    print(report_line(name, normalizer))
    if verdict == "reject":
        with pytest.raises(Rejected) as caught:
            normalizer.decode(payload)
        assert caught.value.reason is expected
        assert caught.value.detail.startswith(details)
        return
    event = normalizer.decode(payload)
    assert event.kind == expected
    assert event.observed_at.tzinfo is UTC
    for field, value in details.items():
        assert getattr(event, field) == value, field


def test_report(normalizer: Normalizer, capsys: pytest.CaptureFixture[str]) -> None:
    """The whole report in one block, in file order; every line says accepted or dead-lettered."""
    lines = [report_line(name, normalizer) for name in example_files()]
    with capsys.disabled():
        print("\nSmart Data Models conformance (clock 2026-11-22T00:00Z, Pekanbaru districts):")
        for line in lines:
            print("  " + line)
    # verdict and form of every line, written out: 28 accepted, the 4 WasteContainer forms dead-lettered
    verdicts = [
        (line.split()[0], " ".join(line.split()[1:3]), "accepted" if " accepted as " in line else "dead-lettered")
        for line in lines
    ]
    forms = ["ngsi-v2 normalized", "ngsi-ld normalized", "ngsi-v2 keyValues", "ngsi-ld keyValues"]
    expected = []
    for model in (
        "Alert",
        "FloodMonitoring",
        "IssueReporting",
        "KeyPerformanceIndicator",
        "Open311_ServiceRequest",
        "QueueMonitor",
        "WasteContainer",
        "WaterObserved",
    ):
        for suffix, form in zip(("-normalized.json", "-normalized.jsonld", ".json", ".jsonld"), forms, strict=True):
            verdict = "dead-lettered" if model == "WasteContainer" else "accepted"
            expected.append((f"{model}/example{suffix}", form, verdict))
    assert verdicts == expected
    # and three whole lines, as a reader sees them
    assert lines[0] == (
        "Alert/example-normalized.json                      ngsi-v2 normalized   accepted as incident "
        "category=traffic severity=high status=new kecamatan=None"
    )
    assert lines[22] == (
        "QueueMonitor/example.json                          ngsi-v2 keyValues    accepted as queue "
        "agency=Tourist Office waiting=12"
    )
    assert lines[26] == (
        "WasteContainer/example.json                        ngsi-v2 keyValues    dead-lettered: missing_field (fillingLevel)"
    )
