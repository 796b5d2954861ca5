"""Normalizer: every Smart Data Model in every NGSI form, every rejection reason, the repairs.

The messages are Pekanbaru-flavoured versions of what the city's producers send (drainage
gauges, MPP counters, complaint apps). Each is written once in keyValues and converted to
the other three NGSI forms by ``as_form``, so every type is checked in every form.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from feeds.events import CitizenReport, Incident, KpiReading, QueueReading, Reason, Rejected, WasteFill, WaterLevel
from feeds.fields import DESCRIPTION_MAX, NAME_MAX
from feeds.geo import Districts
from feeds.ngsi import Form, unwrap
from feeds.normalize import Normalizer
from feeds.payload import MAX_DEPTH
from feeds.timestamps import parse_time

ASSETS = Path(__file__).resolve().parents[2] / "assets"
NOW = datetime(2026, 11, 22, tzinfo=UTC)
BBOX = (101.323, 0.42039, 101.60535, 0.691)
MAX_BYTES = 64 * 1024
MAX_FUTURE_S = 300

SUKAJADI = [101.447026, 0.513408]  # [lon, lat]: the city centre, Kec. Sukajadi
TENAYAN = [101.53509, 0.53372]
BUKIT_RAYA = [101.46649, 0.47301]


@pytest.fixture(scope="module")
def districts() -> Districts:
    return Districts.load(ASSETS / "pekanbaru_kecamatan.geojson")


@pytest.fixture
def normalizer(districts: Districts) -> Normalizer:
    return Normalizer(districts, BBOX, MAX_BYTES, MAX_FUTURE_S, clock=lambda: NOW)


def encode(entity: Any) -> bytes:
    return json.dumps(entity).encode()


def reject(normalizer: Normalizer, payload: bytes | str | dict[str, Any]) -> Rejected:
    if isinstance(payload, dict):
        payload = encode(payload)
    with pytest.raises(Rejected) as caught:
        normalizer.decode(payload)
    return caught.value


# --------------------------------------------------------------------------------------
# sample messages (keyValues) and the four NGSI forms


ALERT = {
    "id": "Alert:PKU-2026-0042",
    "type": "Alert",
    "category": "environment",
    "subCategory": "flood",
    "severity": "tinggi",
    "status": "dikirim",
    "dateIssued": "2026-11-21T22:00:00+07:00",
    "dateModified": "2026-11-21T23:10:00+07:00",
    "location": {"type": "Point", "coordinates": SUKAJADI},
    "address": {"streetAddress": "Jl. Jend. Sudirman", "addressLocality": "Pekanbaru"},
    "description": "Genangan 40 cm di depan Mal Pelayanan Publik",
    "alertSource": "cctv:sudirman-03",
}
FLOOD = {
    "id": "urn:ngsi-ld:FloodMonitoring:PKU-DR-07",
    "type": "FloodMonitoring",
    "stationID": "PKU-DR-07",
    "name": "Pintu air Sungai Sail",
    "currentLevel": 1.85,
    "alertLevel": 1.5,
    "dangerLevel": 2.5,
    "floodLevelStatus": "Siaga",
    "observationDateTime": "2026-11-21T23:55:00+07:00",
    "location": {"type": "Point", "coordinates": TENAYAN},
}
WATER = {
    "id": "WaterObserved:PKU-AWLR-3",
    "type": "WaterObserved",
    "name": "AWLR Sungai Siak",
    "refDevice": "Device:PKU-AWLR-3",
    "waterLevel": 1.2,
    "height": 9.9,
    "dateObserved": "2026-11-21T16:50:00Z",
    "location": {"type": "Point", "coordinates": BUKIT_RAYA},
}
ISSUE = {
    "id": "urn:ngsi-ld:IssueReporting:lapor-8812",
    "type": "IssueReporting",
    "category": "Drainase",
    "title": "Saluran tersumbat",
    "comments": "Air meluap ke jalan setiap hujan",
    "resolutionStatus": "InProgress",
    "observationDateTime": "2026-11-21T08:00:00+07:00",
    "dateModified": "2026-11-21T10:00:00+07:00",
    "location": {"type": "Point", "coordinates": SUKAJADI},
}
OPEN311 = {
    "id": "service-request:PKU-551",
    "type": "Open311_ServiceRequest",
    "service_name": "Sampah",
    "service_code": "DLHK-01",
    "description": "Tumpukan sampah di TPS Jl. Paus belum diangkut",
    "status": "closed",
    "requested_datetime": "2026-11-20T07:00:00+07:00",
    "updated_datetime": "2026-11-21T09:30:00+07:00",
    "address_string": "Jl. Paus, Tangkerang Barat",
    "location": {"type": "Point", "coordinates": BUKIT_RAYA},
}
WASTE = {
    "id": "urn:ngsi-ld:WasteContainer:TPS-Paus-2",
    "type": "WasteContainer",
    "name": "TPS Jl. Paus",
    "fillingLevel": 0.82,
    "status": "ok",
    "dateObserved": "2026-11-21T23:00:00Z",
    "location": {"type": "Point", "coordinates": BUKIT_RAYA},
}
QUEUE = {
    "id": "urn:ngsi-ld:QueueMonitor:MPP-DPMPTSP-A",
    "type": "QueueMonitor",
    "officeName": "DPMPTSP",
    "name": "Loket perizinan A",
    "serviceName": "Izin Usaha (OSS)",
    "ticketsToServe": "12",
    "ticketServed": 140,
    "ticketsBeingServed": 3,
    "averageWaitingTime": 8.5,
    "serviceStatus": "Open",
    "linePriority": True,
    "dateModified": "2026-11-21T09:15:00+07:00",
}
KPI = {
    "id": "urn:ngsi-ld:KeyPerformanceIndicator:kpi-waste-collected",
    "type": "KeyPerformanceIndicator",
    "name": "Sampah terangkut",
    "kpiValue": "87.5",
    "currentStanding": "good",
    "calculationPeriod": {"from": "2026-11-01", "to": "2026-11-21"},
    "dateModified": "2026-11-21T17:00:00Z",
}

DATE_KEYS = {
    "dateIssued", "dateModified", "dateCreated", "validFrom", "observationDateTime", "dateObserved",
    "requested_datetime", "updated_datetime", "modifiedAt",
}  # fmt: skip
RELATIONSHIPS = {"refDevice"}
FORMS = ["v2-keyValues", "v2-normalized", "ld-keyValues", "ld-normalized"]
EXPECTED_FORM = {
    "v2-keyValues": Form.V2_KEY_VALUES,
    "v2-normalized": Form.V2_NORMALIZED,
    "ld-keyValues": Form.LD_KEY_VALUES,
    "ld-normalized": Form.LD_NORMALIZED,
}
LD_CONTEXT = ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"]


def _v2_type(key: str, value: Any) -> str:
    if key in DATE_KEYS:
        return "DateTime"
    if key == "location":
        return "geo:json"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, (int, float)):
        return "Number"
    if isinstance(value, (dict, list)):
        return "StructuredValue"
    return "Text"


def _ld_attribute(key: str, value: Any) -> dict[str, Any]:
    if key == "location":
        return {"type": "GeoProperty", "value": value}
    if key in RELATIONSHIPS:
        return {"type": "Relationship", "object": value}
    if key in DATE_KEYS:
        return {"type": "Property", "value": {"@type": "DateTime", "@value": value}}
    return {"type": "Property", "value": value}


def as_form(entity: dict[str, Any], form: str) -> dict[str, Any]:
    """The same entity in one of the four NGSI forms."""
    out: dict[str, Any] = {"id": entity["id"], "type": entity["type"]}
    if form.startswith("ld") and not entity["id"].startswith("urn:ngsi-ld:"):
        out["id"] = f"urn:ngsi-ld:{entity['type']}:{entity['id']}"
    for key, value in entity.items():
        if key in ("id", "type"):
            continue
        if form == "v2-normalized":
            out[key] = {"type": _v2_type(key, value), "value": value, "metadata": {}}
        elif form == "ld-normalized":
            out[key] = _ld_attribute(key, value)
        else:
            out[key] = value
    if form.startswith("ld"):
        out["@context"] = LD_CONTEXT
    return out


def with_(entity: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy with fields replaced; a value of ``...`` removes the field."""
    out = copy.deepcopy(entity)
    for key, value in changes.items():
        if value is ...:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# --------------------------------------------------------------------------------------
# each type in each form


@pytest.mark.parametrize("form", FORMS)
def test_alert_becomes_incident(normalizer: Normalizer, form: str) -> None:
    event, detected = normalizer.decode_with_form(encode(as_form(ALERT, form)))
    assert detected is EXPECTED_FORM[form]
    assert isinstance(event, Incident) and event.kind == "incident"
    assert event.id.endswith("Alert:PKU-2026-0042")
    assert event.source_type == "Alert"
    assert event.category == "environment" and event.sub_category == "flood"
    assert event.severity == "high" and event.status == "dispatched"
    assert event.observed_at == utc("2026-11-21T16:10:00+00:00")  # dateModified wins
    assert event.opened_at == utc("2026-11-21T15:00:00+00:00")  # dateIssued
    assert (event.lat, event.lon) == (0.513408, 101.447026)
    assert event.kecamatan == "Sukajadi"
    assert event.address == "Jl. Jend. Sudirman, Pekanbaru"
    assert event.description.startswith("Genangan 40 cm")


@pytest.mark.parametrize("form", FORMS)
def test_flood_monitoring_becomes_water_level(normalizer: Normalizer, form: str) -> None:
    event = normalizer.decode(encode(as_form(FLOOD, form)))
    assert isinstance(event, WaterLevel) and event.kind == "water_level"
    assert event.source_type == "FloodMonitoring"
    assert event.station_id == "PKU-DR-07"
    assert event.name == "Pintu air Sungai Sail"
    assert event.level_m == 1.85 and event.alert_level_m == 1.5 and event.danger_level_m == 2.5
    assert event.status_text == "Siaga"
    assert event.observed_at == utc("2026-11-21T16:55:00+00:00")
    assert event.kecamatan == "Tenayan Raya"


@pytest.mark.parametrize("form", FORMS)
def test_water_observed_becomes_water_level(normalizer: Normalizer, form: str) -> None:
    event = normalizer.decode(encode(as_form(WATER, form)))
    assert isinstance(event, WaterLevel)
    assert event.source_type == "WaterObserved"
    assert event.level_m == 1.2  # waterLevel wins over height
    assert event.station_id == "Device:PKU-AWLR-3"
    assert event.observed_at == utc("2026-11-21T16:50:00+00:00")
    assert event.kecamatan == "Bukit Raya"


@pytest.mark.parametrize("form", FORMS)
def test_issue_reporting_becomes_citizen_report(normalizer: Normalizer, form: str) -> None:
    event = normalizer.decode(encode(as_form(ISSUE, form)))
    assert isinstance(event, CitizenReport) and event.kind == "report"
    assert event.source_type == "IssueReporting"
    assert event.topic == "drainage"
    assert event.category == "Drainase"
    assert event.description == "Air meluap ke jalan setiap hujan"
    assert event.status == "open" and event.resolved_at is None
    assert event.opened_at == utc("2026-11-21T01:00:00+00:00")
    assert event.observed_at == utc("2026-11-21T03:00:00+00:00")  # the later dateModified
    assert event.kecamatan == "Sukajadi"


@pytest.mark.parametrize("form", FORMS)
def test_open311_becomes_resolved_waste_report(normalizer: Normalizer, form: str) -> None:
    event = normalizer.decode(encode(as_form(OPEN311, form)))
    assert isinstance(event, CitizenReport)
    assert event.source_type == "Open311_ServiceRequest"
    assert event.topic == "waste"
    assert event.category == "Sampah"
    assert event.status == "resolved"
    assert event.opened_at == utc("2026-11-20T00:00:00+00:00")
    assert event.resolved_at == utc("2026-11-21T02:30:00+00:00")
    assert event.observed_at == event.resolved_at
    assert event.kecamatan == "Bukit Raya"


@pytest.mark.parametrize("form", FORMS)
def test_waste_container_becomes_waste_fill(normalizer: Normalizer, form: str) -> None:
    event = normalizer.decode(encode(as_form(WASTE, form)))
    assert isinstance(event, WasteFill) and event.kind == "waste_fill"
    assert event.fill == 0.82 and event.status == "ok" and event.name == "TPS Jl. Paus"
    assert event.observed_at == utc("2026-11-21T23:00:00+00:00")
    assert event.kecamatan == "Bukit Raya"


@pytest.mark.parametrize("form", FORMS)
def test_queue_monitor_becomes_queue_reading(normalizer: Normalizer, form: str) -> None:
    event = normalizer.decode(encode(as_form(QUEUE, form)))
    assert isinstance(event, QueueReading) and event.kind == "queue"
    assert event.agency == "DPMPTSP"  # officeName wins over name
    assert event.service == "Izin Usaha (OSS)"
    assert (event.waiting, event.serving, event.served_today) == (12, 3, 140)
    assert event.avg_wait_min == 8.5
    assert event.open is True
    assert event.observed_at == utc("2026-11-21T02:15:00+00:00")


@pytest.mark.parametrize("form", FORMS)
def test_kpi_becomes_kpi_reading(normalizer: Normalizer, form: str) -> None:
    event = normalizer.decode(encode(as_form(KPI, form)))
    assert isinstance(event, KpiReading) and event.kind == "kpi"
    assert event.kpi_id == "kpi-waste-collected"  # the urn:ngsi-ld:KeyPerformanceIndicator: prefix is stripped
    assert event.value == 87.5 and event.standing == "good"
    assert event.name == "Sampah terangkut"
    assert event.observed_at == utc("2026-11-21T17:00:00+00:00")


def test_every_event_time_is_utc_aware(normalizer: Normalizer) -> None:
    for entity in (ALERT, FLOOD, WATER, ISSUE, OPEN311, WASTE, QUEUE, KPI):
        event = normalizer.decode(encode(entity))
        assert event.observed_at.tzinfo is UTC, entity["type"]
        assert event.to_doc()["observed_at"].endswith("+00:00")


def test_str_payload_and_byte_order_mark(normalizer: Normalizer) -> None:
    assert normalizer.decode(json.dumps(ALERT)).id == ALERT["id"]
    assert normalizer.decode(b"\xef\xbb\xbf" + encode(ALERT)).id == ALERT["id"]


# --------------------------------------------------------------------------------------
# routing


@pytest.mark.parametrize("spelling", ["Open311_ServiceRequest", "Open311ServiceRequest"])
def test_both_open311_spellings_route(normalizer: Normalizer, spelling: str) -> None:
    event = normalizer.decode(encode(with_(OPEN311, type=spelling)))
    assert event.source_type == "Open311_ServiceRequest"


def test_expanded_ngsi_ld_type_iri_routes(normalizer: Normalizer) -> None:
    event = normalizer.decode(encode(with_(ALERT, type="https://smartdatamodels.org/dataModel.Alert/Alert")))
    assert isinstance(event, Incident)


def test_ngsi_ld_type_array_routes_by_its_first_known_type(normalizer: Normalizer) -> None:
    assert isinstance(normalizer.decode(encode(with_(ALERT, type=["CctvEvent", "Alert"]))), Incident)


@pytest.mark.parametrize("kind", [None, "", "Parking", "alert", 5, [], ["Parking"], {"value": "Alert"}])
def test_unknown_type(normalizer: Normalizer, kind: Any) -> None:
    entity = with_(ALERT, type=...) if kind is None else with_(ALERT, type=kind)
    assert reject(normalizer, entity).reason is Reason.UNKNOWN_TYPE


# --------------------------------------------------------------------------------------
# rejection reasons, in pipeline order


def test_too_large_is_checked_before_parsing(normalizer: Normalizer) -> None:
    big = encode(with_(ALERT, description="x" * MAX_BYTES))
    assert reject(normalizer, big).reason is Reason.TOO_LARGE
    assert reject(normalizer, b"\xff" * (MAX_BYTES + 1)).reason is Reason.TOO_LARGE  # not even UTF-8
    assert reject(normalizer, "é" * (MAX_BYTES // 2 + 1)).reason is Reason.TOO_LARGE  # counted in bytes


def test_exactly_the_limit_is_fine(districts: Districts) -> None:
    payload = encode(ALERT)
    tight = Normalizer(districts, BBOX, len(payload), MAX_FUTURE_S, clock=lambda: NOW)
    assert tight.decode(payload).id == ALERT["id"]
    assert (
        reject(Normalizer(districts, BBOX, len(payload) - 1, MAX_FUTURE_S, clock=lambda: NOW), payload).reason is Reason.TOO_LARGE
    )


@pytest.mark.parametrize("payload", [b'{"id": "\xff"}', b"\xc3\x28", "Jl. Cempaka \xe9".encode("latin-1"), "\ud800"])
def test_not_utf8(normalizer: Normalizer, payload: bytes | str) -> None:
    assert reject(normalizer, payload).reason is Reason.NOT_UTF8


@pytest.mark.parametrize("payload", [b"", b"   ", b'{"id": ', b"{'id': 1}", b'{"a": 1} trailing', b"<xml/>", b'{"a": 01}'])
def test_malformed_json(normalizer: Normalizer, payload: bytes) -> None:
    assert reject(normalizer, payload).reason is Reason.MALFORMED_JSON


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_literals(normalizer: Normalizer, literal: str) -> None:
    payload = encode(FLOOD).replace(b'"currentLevel": 1.85', f'"currentLevel": {literal}'.encode())
    assert literal.encode() in payload
    assert reject(normalizer, payload).reason is Reason.NON_FINITE_NUMBER


def test_non_finite_by_overflow_and_by_string(normalizer: Normalizer) -> None:
    overflow = encode(FLOOD).replace(b"1.85", b"1e400")  # json reads this as inf without asking
    assert reject(normalizer, overflow).reason is Reason.NON_FINITE_NUMBER
    assert reject(normalizer, with_(KPI, kpiValue="NaN")).reason is Reason.NON_FINITE_NUMBER
    assert reject(normalizer, with_(FLOOD, currentLevel=10**400)).reason is Reason.NON_FINITE_NUMBER


@pytest.mark.parametrize("field", ["category", "description"])
def test_an_overflowing_number_where_text_is_expected_is_refused_not_spelled_inf(normalizer: Normalizer, field: str) -> None:
    """Numbers are spelled out where text is asked for; ``1e999`` was spelled "inf"."""
    payload = encode(with_(ALERT, **{field: 7})).replace(f'"{field}": 7'.encode(), f'"{field}": -1e999'.encode())
    assert f'"{field}": -1e999'.encode() in payload
    rejected = reject(normalizer, payload)
    assert (rejected.reason, rejected.detail) == (Reason.NON_FINITE_NUMBER, "-1e999 is not a JSON number")


def test_a_wrong_type_says_an_object_is_an_object(normalizer: Normalizer) -> None:
    rejected = reject(normalizer, with_(ALERT, description={"a": 1}))
    assert (rejected.reason, rejected.detail) == (Reason.WRONG_TYPE, "description: expected a string, got object {'a': 1}")


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth - 1):
        value = {"n": value}
    return value


def test_too_deep(normalizer: Normalizer) -> None:
    # ALERT is depth 1 and _nested(n) adds n - 1 levels, so the whole message is n deep
    ok = with_(ALERT, extra=_nested(MAX_DEPTH))
    assert normalizer.decode(encode(ok)).id == ALERT["id"]
    too_deep = with_(ALERT, extra=_nested(MAX_DEPTH + 1))
    rejected = reject(normalizer, too_deep)
    assert rejected.reason is Reason.TOO_DEEP


def test_very_deep_input_does_not_crash_the_parser(normalizer: Normalizer) -> None:
    # json.loads raises RecursionError long before 30k levels; that must be a dead letter too
    assert reject(normalizer, b"[" * 30_000 + b"]" * 30_000).reason is Reason.TOO_DEEP
    assert reject(normalizer, b'{"a":' * 10_000 + b"1" + b"}" * 10_000).reason is Reason.TOO_DEEP
    assert reject(normalizer, b"[" * 30_000).reason is Reason.TOO_DEEP  # unclosed too: depth is hit first


@pytest.mark.parametrize("payload", [b"[]", b"[{}]", b'"Alert"', b"42", b"null", b"true"])
def test_not_an_object(normalizer: Normalizer, payload: bytes) -> None:
    assert reject(normalizer, payload).reason is Reason.NOT_AN_OBJECT


@pytest.mark.parametrize(
    ("entity", "field"),
    [
        (with_(ALERT, id=...), "id"),
        (with_(ALERT, category=...), "category"),
        (with_(ALERT, category="   "), "category"),
        (with_(ALERT, dateIssued=..., dateModified=...), "dateModified"),
        (with_(FLOOD, currentLevel=...), "currentLevel"),
        (with_(FLOOD, observationDateTime=...), "observationDateTime"),
        (with_(WATER, waterLevel=..., height=...), "waterLevel"),
        (with_(WATER, location=...), "location"),
        (with_(WATER, dateObserved=...), "dateObserved"),
        (with_(ISSUE, observationDateTime=...), "requested_datetime"),
        (with_(WASTE, fillingLevel=...), "fillingLevel"),
        (with_(WASTE, location=...), "location"),
        (with_(QUEUE, officeName=..., name=...), "officeName"),
        (with_(QUEUE, dateModified=...), "dateModified"),
        (with_(KPI, kpiValue=...), "kpiValue"),
        (with_(KPI, dateModified=..., calculationPeriod=...), "dateModified"),
    ],
)
def test_missing_field_names_the_field(normalizer: Normalizer, entity: dict[str, Any], field: str) -> None:
    rejected = reject(normalizer, entity)
    assert rejected.reason is Reason.MISSING_FIELD
    assert rejected.detail.startswith(field)


@pytest.mark.parametrize(
    ("entity", "field"),
    [
        (with_(ALERT, category=["traffic"]), "category"),
        (with_(ALERT, id={"value": 1}), "id"),
        (with_(ALERT, dateIssued=1764000000), "dateIssued"),
        (with_(ALERT, location="0.5134, 101.447"), "location"),
        (with_(ALERT, location={"type": "Point", "coordinates": "101.4,0.5"}), "location.coordinates"),
        (with_(ALERT, location={"type": "Point", "coordinates": [101.4, True]}), "location.coordinates"),
        (with_(ALERT, severity=3), "severity"),
        (with_(FLOOD, currentLevel="tinggi"), "currentLevel"),
        (with_(FLOOD, currentLevel="1,85"), "currentLevel"),  # decimal comma or thousands? unclear
        (with_(FLOOD, currentLevel=True), "currentLevel"),
        (with_(QUEUE, ticketsToServe=2.5), "ticketsToServe"),
        (with_(QUEUE, linePriority="high"), "linePriority"),
        (with_(KPI, kpiValue=True), "kpiValue"),
        (with_(KPI, kpiValue={"value": 3}), "kpiValue"),
    ],
)
def test_wrong_type_names_the_field(normalizer: Normalizer, entity: dict[str, Any], field: str) -> None:
    rejected = reject(normalizer, entity)
    assert rejected.reason is Reason.WRONG_TYPE
    assert rejected.detail.startswith(field + ":")


@pytest.mark.parametrize(
    ("entity", "field"),
    [
        (with_(ALERT, severity="urgent-ish"), "severity"),
        (with_(ALERT, status="ditangani"), "status"),  # "being handled": acknowledged or dispatched?
        (with_(ALERT, dateIssued="kemarin sore", dateModified=...), "dateIssued"),
        (with_(ALERT, id="x" * 300), "id"),
        (with_(KPI, currentStanding="excellent"), "currentStanding"),
        (with_(WASTE, fillingLevel=250), "fillingLevel"),
        (with_(WASTE, fillingLevel=-0.1), "fillingLevel"),
        (with_(QUEUE, serviceStatus="maybe"), "serviceStatus"),
        (with_(QUEUE, ticketsToServe=-1), "ticketsToServe"),
        (with_(QUEUE, averageWaitingTime=-5), "averageWaitingTime"),
    ],
)
def test_invalid_value_names_the_field(normalizer: Normalizer, entity: dict[str, Any], field: str) -> None:
    rejected = reject(normalizer, entity)
    assert rejected.reason is Reason.INVALID_VALUE
    assert rejected.detail.startswith(field)


@pytest.mark.parametrize("coordinates", [[200.0, 0.5], [101.4, 95.0], [10.0, 200.0], [-181.0, -91.0]])
def test_coordinates_out_of_range(normalizer: Normalizer, coordinates: list[float]) -> None:
    entity = with_(ALERT, location={"type": "Point", "coordinates": coordinates})
    assert reject(normalizer, entity).reason is Reason.COORDINATES_OUT_OF_RANGE


def test_future_time(normalizer: Normalizer) -> None:
    late = (NOW + timedelta(seconds=MAX_FUTURE_S + 60)).isoformat()
    near = (NOW + timedelta(seconds=MAX_FUTURE_S - 60)).isoformat()
    assert reject(normalizer, with_(FLOOD, observationDateTime=late)).reason is Reason.FUTURE_TIME
    assert normalizer.decode(encode(with_(FLOOD, observationDateTime=near))).observed_at == datetime.fromisoformat(near)
    # a future time in a secondary field is as wrong as in the main one
    assert reject(normalizer, with_(OPEN311, updated_datetime=late)).reason is Reason.FUTURE_TIME
    # local time without a zone is read as UTC: 06:59 WIB written without +07:00 is "the future",
    # and the reason says so, for the producer who sends it
    unzoned = reject(normalizer, with_(WASTE, dateObserved="2026-11-22T06:59:00"))
    assert (unzoned.reason, unzoned.detail) == (
        Reason.FUTURE_TIME,
        "dateObserved: 2026-11-22T06:59:00+00:00 is ahead of the clock"
        " (it names no time zone, so it was read as UTC: send its offset, e.g. +07:00,"
        " or set feeds.zoneless_times: city if the field sends local time)",
    )
    zoned = reject(normalizer, with_(WASTE, dateObserved="2026-11-22T13:59:00+07:00"))
    assert zoned.detail == "dateObserved: 2026-11-22T06:59:00+00:00 is ahead of the clock"


def test_a_city_whose_field_sends_local_time_reads_stamps_without_a_zone_in_its_own(districts: Districts) -> None:
    """``feeds.zoneless_times: city``. Read as UTC, 06:59 WIB without its offset was seven hours
    ahead, and refused as from the future; a date alone was 07:00 WIB of that day."""
    local = Normalizer(districts, BBOX, MAX_BYTES, MAX_FUTURE_S, clock=lambda: NOW, zoneless=ZoneInfo("Asia/Jakarta"))
    assert local.decode(encode(with_(WASTE, dateObserved="2026-11-22T06:59:00"))).observed_at == datetime(
        2026, 11, 21, 23, 59, tzinfo=UTC
    )
    assert local.decode(encode(with_(WASTE, dateObserved="2026-11-21"))).observed_at == datetime(2026, 11, 20, 17, tzinfo=UTC)
    zoned = local.decode(encode(with_(WASTE, dateObserved="2026-11-21T16:00:00Z"))).observed_at
    assert zoned == datetime(2026, 11, 21, 16, tzinfo=UTC), "a stamp that names its zone is read in it"
    late = reject(local, with_(WASTE, dateObserved="2026-11-22T07:59:00"))
    assert (late.reason, late.detail) == (Reason.FUTURE_TIME, "dateObserved: 2026-11-22T00:59:00+00:00 is ahead of the clock")


def test_an_ngsi_ld_property_stamped_with_observed_at_times_the_reading(normalizer: Normalizer) -> None:
    """NGSI-LD brokers stamp each property with when it was measured and may send no
    ``dateObserved`` at all: such a reading was dead-lettered as missing its time."""
    entity = as_form(with_(WATER, dateObserved=...), "ld-normalized")
    entity["waterLevel"]["observedAt"] = "2026-11-21T16:40:00Z"
    entity["height"]["observedAt"] = "2026-11-21T23:55:00+07:00"  # the later one, in WIB
    assert normalizer.decode(encode(entity)).observed_at == datetime(2026, 11, 21, 16, 55, tzinfo=UTC)
    # the model's own time, when sent, still decides
    entity["dateObserved"] = {"type": "Property", "value": {"@type": "DateTime", "@value": "2026-11-21T16:50:00Z"}}
    assert normalizer.decode(encode(entity)).observed_at == datetime(2026, 11, 21, 16, 50, tzinfo=UTC)
    # a stamp that is no time is refused by name, as any other
    del entity["dateObserved"]
    entity["waterLevel"]["observedAt"] = entity["height"]["observedAt"] = "soon"
    assert reject(normalizer, entity).detail == "observedAt: not an ISO 8601 time: 'soon'"


def test_clock_is_read_per_message(districts: Districts) -> None:
    now = [NOW]
    normalizer = Normalizer(districts, BBOX, MAX_BYTES, 0, clock=lambda: now[0])
    entity = with_(WASTE, dateObserved="2026-11-22T00:00:30Z")
    assert reject(normalizer, entity).reason is Reason.FUTURE_TIME
    now[0] = NOW + timedelta(minutes=1)
    assert normalizer.decode(encode(entity)).fill == 0.82


# --------------------------------------------------------------------------------------
# repairs: liberal where the meaning is clear


def test_swapped_coordinates_are_swapped(normalizer: Normalizer) -> None:
    swapped = with_(ALERT, location={"type": "Point", "coordinates": [0.513408, 101.447026]})
    event = normalizer.decode(encode(swapped))
    assert (event.lat, event.lon) == (0.513408, 101.447026)
    assert event.kecamatan == "Sukajadi"


@pytest.mark.parametrize(
    ("coordinates", "lat", "lon"),
    [
        ([-3.712247, 40.423852], 40.423852, -3.712247),  # Madrid, correct [lon, lat]
        ([43.66481, 7.196545], 7.196545, 43.66481),  # Nice as [lat, lon], but both readings are on Earth
        ([101.4, -0.5], -0.5, 101.4),
    ],
)
def test_plausible_coordinates_are_kept_as_given(
    normalizer: Normalizer, coordinates: list[float], lat: float, lon: float
) -> None:
    event = normalizer.decode(encode(with_(ALERT, location={"type": "Point", "coordinates": coordinates})))
    assert (event.lat, event.lon) == (lat, lon)


def test_far_away_points_have_no_kecamatan(normalizer: Normalizer) -> None:
    event = normalizer.decode(encode(with_(ALERT, location={"type": "Point", "coordinates": [-3.712247, 40.423852]})))
    assert event.kecamatan is None


def test_non_point_geometry_uses_the_centre_of_its_extent(normalizer: Normalizer) -> None:
    square = {
        "type": "Polygon",
        "coordinates": [[[101.44, 0.51], [101.45, 0.51], [101.45, 0.52], [101.44, 0.52], [101.44, 0.51]]],
    }
    event = normalizer.decode(encode(with_(ALERT, location=square)))
    assert event.lat == pytest.approx(0.515) and event.lon == pytest.approx(101.445)


@pytest.mark.parametrize(
    ("kind", "coordinates", "centre"),
    [
        ("LineString", [[101.44, 0.51], [101.46, 0.53]], (0.52, 101.45)),
        ("MultiPoint", [[101.44, 0.51], [101.46, 0.53]], (0.52, 101.45)),
        ("MultiLineString", [[[101.44, 0.51], [101.46, 0.53]]], (0.52, 101.45)),
        ("MultiPolygon", [[[[101.44, 0.51], [101.46, 0.51], [101.46, 0.53], [101.44, 0.51]]]], (0.52, 101.45)),
        ("Polygon", [[101.44, 0.51], [[101.46, 0.53]]], None),  # a ring that is a position
        ("Polygon", [[[[[[101.44, 0.51]]]]]], None),  # six arrays deep
        ("LineString", [[[101.44, 0.51], [101.46, 0.53]]], None),  # a MultiLineString's shape
        ("MultiPolygon", [[[101.44, 0.51], [101.46, 0.53]]], None),  # a Polygon's
    ],
)
def test_a_geometry_has_a_centre_only_with_its_positions_at_its_own_depth(
    normalizer: Normalizer, kind: str, coordinates: Any, centre: tuple[float, float] | None
) -> None:
    entity = with_(ALERT, location={"type": kind, "coordinates": coordinates})
    if centre is None:
        rejected = reject(normalizer, entity)
        assert (rejected.reason, rejected.detail.split(":")[0]) == (Reason.WRONG_TYPE, "location.coordinates")
        return
    event = normalizer.decode(encode(entity))
    assert (event.lat, event.lon) == pytest.approx(centre)


def test_location_with_altitude_and_numeric_strings(normalizer: Normalizer) -> None:
    event = normalizer.decode(encode(with_(ALERT, location={"type": "Point", "coordinates": ["101.447026", "0.513408", 12]})))
    assert (event.lat, event.lon) == (0.513408, 101.447026)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("rendah", "low"), ("sedang", "medium"), ("tinggi", "high"), ("kritis", "critical"), ("KRITIS", "critical"),
     ("Critical", "critical"), ("informational", "informational"), ("low", "low")],
)  # fmt: skip
def test_severity_aliases(normalizer: Normalizer, given: str, expected: str) -> None:
    assert normalizer.decode(encode(with_(ALERT, severity=given))).severity == expected


def test_severity_defaults_to_medium(normalizer: Normalizer) -> None:
    assert normalizer.decode(encode(with_(ALERT, severity=...))).severity == "medium"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("baru", "new"), ("new", "new"), ("diterima", "acknowledged"), ("Acknowledged", "acknowledged"),
     ("dikirim", "dispatched"), ("selesai", "resolved"), ("closed", "resolved"), ("resolved", "resolved")],
)  # fmt: skip
def test_incident_status_aliases(normalizer: Normalizer, given: str, expected: str) -> None:
    assert normalizer.decode(encode(with_(ALERT, status=given))).status == expected


def test_incident_status_defaults_to_new(normalizer: Normalizer) -> None:
    assert normalizer.decode(encode(with_(ALERT, status=...))).status == "new"


@pytest.mark.parametrize(
    ("status", "expected"),
    [("Closed.", "resolved"), ("closed", "resolved"), ("Selesai", "resolved"), ("done", "resolved"), ("resolved", "resolved"),
     ("Open", "open"), ("Assigned", "open"), ("InProgress", "open"), ("Unassigned", "open"), ("diproses", "open")],
)  # fmt: skip
def test_report_status(normalizer: Normalizer, status: str, expected: str) -> None:
    event = normalizer.decode(encode(with_(ISSUE, resolutionStatus=status)))
    assert event.status == expected
    assert (event.resolved_at is not None) == (expected == "resolved")


def test_resolved_report_without_update_time_resolves_at_its_latest_time(normalizer: Normalizer) -> None:
    event = normalizer.decode(encode(with_(ISSUE, resolutionStatus="Closed.")))
    assert event.resolved_at == utc("2026-11-21T03:00:00+00:00")  # dateModified


@pytest.mark.parametrize(
    ("fields", "topic"),
    [
        ({"category": "Banjir", "title": "Jl. Riau tergenang"}, "drainage"),
        ({"category": "Infrastruktur", "title": "Selokan tersumbat"}, "drainage"),
        ({"category": "Lingkungan", "description": "Parit dangkal"}, "drainage"),
        ({"category": "Flooding"}, "drainage"),
        ({"category": "Road drainage"}, "drainage"),
        ({"category": "Kebersihan", "title": "Tumpukan sampah"}, "waste"),
        ({"category": "TPS penuh"}, "waste"),
        ({"category": "Garbage"}, "waste"),
        ({"category": "Kebersihan", "description": "Sampah menyumbat saluran"}, "drainage"),  # drainage is checked first
        ({"category": "Penerangan", "title": "Lampu jalan mati", "description": "lihat https://lapor.go.id"}, "other"),
        ({"category": "Maintenance", "title": "Road maintenance"}, "other"),
    ],
)
def test_report_topic(normalizer: Normalizer, fields: dict[str, str], topic: str) -> None:
    base = {k: v for k, v in ISSUE.items() if k not in {"category", "title", "comments", "description", "subCategory"}}
    assert normalizer.decode(encode({**base, **fields})).topic == topic


def test_open311_service_name_decides_topic(normalizer: Normalizer) -> None:
    entity = with_(OPEN311, service_name="Drainase", description="Air tidak mengalir")
    assert normalizer.decode(encode(entity)).topic == "drainage"


@pytest.mark.parametrize(("given", "fill"), [(0.0, 0.0), (0.5, 0.5), (1, 1.0), (82, 0.82), ("45", 0.45), (100, 1.0)])
def test_fill_level_fraction_or_percent(normalizer: Normalizer, given: Any, fill: float) -> None:
    assert normalizer.decode(encode(with_(WASTE, fillingLevel=given))).fill == pytest.approx(fill)


@pytest.mark.parametrize(
    ("changes", "attribute", "expected"),
    [
        ({"ticketsToServe": "12"}, "waiting", 12),
        ({"ticketsToServe": " 7 "}, "waiting", 7),
        ({"ticketServed": "140"}, "served_today", 140),
        ({"ticketServed": 140.0}, "served_today", 140),
        ({"averageWaitingTime": "8.5"}, "avg_wait_min", 8.5),
        ({"ticketsToServe": ...}, "waiting", 0),
        ({"averageWaitingTime": ...}, "avg_wait_min", None),
    ],
)
def test_queue_numeric_strings(normalizer: Normalizer, changes: dict[str, Any], attribute: str, expected: Any) -> None:
    assert getattr(normalizer.decode(encode(with_(QUEUE, **changes))), attribute) == expected


@pytest.mark.parametrize("priority", [True, False, 0, 1, 3, "2"])
def test_line_priority_bool_or_int(normalizer: Normalizer, priority: Any) -> None:
    assert normalizer.decode(encode(with_(QUEUE, linePriority=priority))).agency == "DPMPTSP"


@pytest.mark.parametrize(
    ("status", "is_open", "paused"),
    [
        ("Open", True, False), ("Closed", False, False), ("Suspended", False, True), ("tutup", False, False),
        ("Buka", True, False), ("istirahat", False, True), (False, False, False), (True, True, False), (..., True, False),
    ],
)  # fmt: skip
def test_queue_service_status(normalizer: Normalizer, status: Any, is_open: bool, paused: bool) -> None:
    """A paused counter (the midday break) is not open, but it is not closed for the day either."""
    reading = normalizer.decode(encode(with_(QUEUE, serviceStatus=status)))
    assert (reading.open, reading.paused) == (is_open, paused)


def test_queue_agency_falls_back_to_name(normalizer: Normalizer) -> None:
    assert normalizer.decode(encode(with_(QUEUE, officeName=...))).agency == "Loket perizinan A"


@pytest.mark.parametrize(("given", "value"), [(20, 20.0), ("87.5", 87.5), (" 3 ", 3.0), (-4.5, -4.5)])
def test_kpi_value_number_or_numeric_string(normalizer: Normalizer, given: Any, value: float) -> None:
    assert normalizer.decode(encode(with_(KPI, kpiValue=given))).value == value


@pytest.mark.parametrize(
    ("given", "standing"), [("veryGood", "veryGood"), ("very good", "veryGood"), ("BAD", "bad"), ("baik", "good")]
)
def test_kpi_standing_spellings(normalizer: Normalizer, given: str, standing: str) -> None:
    assert normalizer.decode(encode(with_(KPI, currentStanding=given))).standing == standing


def test_kpi_time_falls_back_to_modified_at_then_period_end(normalizer: Normalizer) -> None:
    ld = with_(KPI, dateModified=..., modifiedAt="2026-11-21T18:00:00Z")
    assert normalizer.decode(encode(ld)).observed_at == utc("2026-11-21T18:00:00+00:00")
    period_only = with_(KPI, dateModified=...)
    assert normalizer.decode(encode(period_only)).observed_at == utc("2026-11-21T00:00:00+00:00")


def test_kpi_id_without_prefix_is_kept(normalizer: Normalizer) -> None:
    assert normalizer.decode(encode(with_(KPI, id="kpi-mpp-permits"))).kpi_id == "kpi-mpp-permits"


def test_water_level_in_centimetres_is_converted(normalizer: Normalizer) -> None:
    entity = as_form(FLOOD, "ld-normalized")
    entity["currentLevel"] = {"type": "Property", "value": 185, "unitCode": "CMT"}
    assert normalizer.decode(encode(entity)).level_m == pytest.approx(1.85)
    entity["currentLevel"]["unitCode"] = "KGM"
    assert reject(normalizer, entity).reason is Reason.INVALID_VALUE


@pytest.mark.parametrize(
    ("model", "field", "value", "unit", "taken"),
    [
        (FLOOD, "currentLevel", 9999, "MTR", None),  # a failing sensor's error code
        (FLOOD, "currentLevel", -9999, "MTR", None),
        (WATER, "waterLevel", 50.5, "MTR", None),
        (WATER, "waterLevel", 50.0, "MTR", 50.0),  # the edges are levels
        (FLOOD, "currentLevel", -20.0, "MTR", -20.0),
        (FLOOD, "currentLevel", 4999, "CMT", 49.99),  # judged in metres, after the unit
    ],
)
def test_a_level_no_gauge_of_the_city_reads_is_refused_naming_the_range(
    districts: Districts, model: dict[str, Any], field: str, value: float, unit: str, taken: float | None
) -> None:
    gauges = Normalizer(districts, BBOX, MAX_BYTES, MAX_FUTURE_S, clock=lambda: NOW, level_range=(-20.0, 50.0))
    entity = as_form(model, "ld-normalized")
    entity[field] = {"type": "Property", "value": value, "unitCode": unit}
    if taken is not None:
        assert gauges.decode(encode(entity)).level_m == pytest.approx(taken)
        return
    refused = reject(gauges, entity)
    assert refused.reason is Reason.INVALID_VALUE
    assert refused.detail == (
        f"{field}: {value:g} m is outside the levels a gauge here reads (-20 to 50 m, thresholds.drainage_range_m):"
        " a sensor's error code?"
    )


def test_without_a_range_any_level_is_taken(normalizer: Normalizer) -> None:
    assert normalizer.decode(encode(with_(FLOOD, currentLevel=9999))).level_m == 9999


def test_an_alert_says_whether_it_named_a_severity(normalizer: Normalizer) -> None:
    """One that names none (a status update) must not read as a "medium" the field never said."""
    assert normalizer.decode(encode(ALERT)).severity_said is True
    for missing in (..., None, ""):
        unsaid = normalizer.decode(encode(with_(ALERT, severity=missing)))
        assert (unsaid.severity, unsaid.severity_said) == ("medium", False)


def test_water_observed_height_when_no_water_level(normalizer: Normalizer) -> None:
    assert normalizer.decode(encode(with_(WATER, waterLevel=...))).level_m == 9.9


def test_station_falls_back_to_entity_id(normalizer: Normalizer) -> None:
    assert normalizer.decode(encode(with_(FLOOD, stationID=...))).station_id == FLOOD["id"]
    assert normalizer.decode(encode(with_(WATER, refDevice=...))).station_id == WATER["id"]


# --------------------------------------------------------------------------------------
# text: truncated, never sanitised


def test_long_text_is_truncated_not_rejected(normalizer: Normalizer) -> None:
    event = normalizer.decode(encode(with_(ALERT, description="a" * 5_000, category="c" * 1_000, subCategory="s" * 1_000)))
    assert len(event.description) == DESCRIPTION_MAX
    assert len(event.category) == NAME_MAX and len(event.sub_category) == NAME_MAX
    report = normalizer.decode(encode(with_(OPEN311, description="d" * 5_000, service_name="n" * 500)))
    assert len(report.description) == DESCRIPTION_MAX and len(report.category) == NAME_MAX


def test_html_is_kept_as_text(normalizer: Normalizer) -> None:
    markup = '<img src=x onerror="alert(1)"><b>Banjir</b>'
    assert normalizer.decode(encode(with_(ALERT, description=markup))).description == markup


def test_numbers_in_text_fields_are_spelled_out(normalizer: Normalizer) -> None:
    assert normalizer.decode(encode(with_(FLOOD, stationID=17))).station_id == "17"


# --------------------------------------------------------------------------------------
# kecamatan


def test_explicit_kecamatan_wins_over_geometry(normalizer: Normalizer) -> None:
    event = normalizer.decode(encode(with_(ALERT, kecamatan="Limapuluh")))
    assert event.kecamatan == "Lima Puluh"


def test_address_locality_naming_a_district(normalizer: Normalizer) -> None:
    entity = with_(ALERT, location=..., address={"streetAddress": "Jl. Kaharuddin Nasution", "addressLocality": "Marpoyan Damai"})
    assert normalizer.decode(encode(entity)).kecamatan == "Marpoyan Damai"


def test_unknown_explicit_name_falls_back_to_geometry(normalizer: Normalizer) -> None:
    assert normalizer.decode(encode(with_(ALERT, kecamatan="Tampan"))).kecamatan == "Sukajadi"


def test_no_location_and_no_name_gives_none(normalizer: Normalizer) -> None:
    assert normalizer.decode(encode(with_(ALERT, location=..., address=...))).kecamatan is None


def test_without_districts_only_an_explicit_kecamatan_is_kept() -> None:
    bare = Normalizer(None, None, MAX_BYTES, MAX_FUTURE_S, clock=lambda: NOW)
    assert bare.decode(encode(ALERT)).kecamatan is None
    assert bare.decode(encode(with_(ALERT, kecamatan="Senapelan"))).kecamatan == "Senapelan"


def test_bbox_limits_the_lookup(districts: Districts) -> None:
    elsewhere = Normalizer(districts, (100.0, -1.0, 100.5, -0.5), MAX_BYTES, MAX_FUTURE_S, clock=lambda: NOW)
    assert elsewhere.decode(encode(ALERT)).kecamatan is None


# --------------------------------------------------------------------------------------
# time stamps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-21T09:00:00Z", "2026-11-21T09:00:00+00:00"),
        ("2026-11-21T09:00:00.123456789Z", "2026-11-21T09:00:00.123456+00:00"),
        ("2026-11-21T09:00:00.5", "2026-11-21T09:00:00.500000+00:00"),
        ("2026-11-21T16:00:00+07:00", "2026-11-21T09:00:00+00:00"),
        ("2026-11-21T16:00:00+0700", "2026-11-21T09:00:00+00:00"),
        ("2026-11-21 09:00:00", "2026-11-21T09:00:00+00:00"),
        ("2026-11-21", "2026-11-21T00:00:00+00:00"),
        ("2010-04-15T06:37:38-08:00Z", "2010-04-15T14:37:38+00:00"),
        ("2026-11-21T09:00:00z", "2026-11-21T09:00:00+00:00"),
        (" 2026-11-21T09:00:00Z ", "2026-11-21T09:00:00+00:00"),
    ],
)
def test_parse_time(text: str, expected: str) -> None:
    parsed = parse_time(text)
    assert parsed is not None and parsed.tzinfo is UTC
    assert parsed == datetime.fromisoformat(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-21T16:00:00", "2026-11-21T09:00:00+00:00"),
        ("2026-11-21", "2026-11-20T17:00:00+00:00"),
        ("2026-11-21 16:00:00", "2026-11-21T09:00:00+00:00"),
        ("2026-11-21T09:00:00Z", "2026-11-21T09:00:00+00:00"),
        ("2026-11-21T16:00:00+08:00", "2026-11-21T08:00:00+00:00"),
    ],
)
def test_parse_time_in_a_zone_for_stamps_that_name_none(text: str, expected: str) -> None:
    parsed = parse_time(text, ZoneInfo("Asia/Jakarta"))
    assert parsed is not None and parsed.tzinfo is UTC
    assert parsed == datetime.fromisoformat(expected)


@pytest.mark.parametrize("text", ["", "yesterday", "21/11/2026", "2026-13-01", "2026-11-21T25:00:00", "9" * 100])
def test_parse_time_refuses(text: str) -> None:
    assert parse_time(text) is None


# --------------------------------------------------------------------------------------
# ngsi.unwrap on its own


def test_unwrap_keeps_id_and_type_and_drops_context() -> None:
    flat = unwrap(as_form(ALERT, "ld-normalized"))
    assert flat.attrs["type"] == "Alert" and flat.attrs["id"].startswith("urn:ngsi-ld:")
    assert "@context" not in flat.attrs
    assert flat.attrs["dateIssued"] == ALERT["dateIssued"]
    assert flat.form is Form.LD_NORMALIZED


def test_unwrap_mixed_attribute_styles() -> None:
    flat = unwrap(
        {
            "id": "x",
            "type": "FloodMonitoring",
            "floodLevelStatus": {"type": "string", "value": "Normal"},
            "observationDateTime": {"type": "string", "format": "date-time", "value": "2020-09-16T13:30:00+05:30"},
            "dateObserved": {"type": "Relationship", "object": "2020-03-17T08:45:00.209Z"},
            "currentLevel": {"type": "Property", "value": 1.98, "unitCode": "MTR"},
            "address": {"type": "PostalAddress", "addressLocality": "Sukajadi"},
            "location": {"type": "Point", "coordinates": [101.4, 0.5]},
            "@context": LD_CONTEXT,
        }
    )
    assert flat.attrs["floodLevelStatus"] == "Normal"
    assert flat.attrs["observationDateTime"] == "2020-09-16T13:30:00+05:30"
    assert flat.attrs["dateObserved"] == "2020-03-17T08:45:00.209Z"
    assert flat.attrs["currentLevel"] == 1.98 and flat.units == {"currentLevel": "MTR"}
    assert flat.attrs["address"]["addressLocality"] == "Sukajadi"  # no "value": left alone
    assert flat.attrs["location"]["type"] == "Point"
    assert flat.form is Form.LD_NORMALIZED


def test_unwrap_v2_specials() -> None:
    flat = unwrap(
        {
            "id": "x",
            "type": "Alert",
            "location": {"type": "geo:point", "value": "0.513408, 101.447026"},
            "currentLevel": {"type": "Number", "value": 150, "metadata": {"unitCode": {"type": "Text", "value": "CMT"}}},
        }
    )
    assert flat.attrs["location"] == {"type": "Point", "coordinates": [101.447026, 0.513408]}
    assert flat.units == {"currentLevel": "CMT"}
    assert flat.form is Form.V2_NORMALIZED


def test_unwrap_ld_language_map_and_multi_attribute() -> None:
    flat = unwrap(
        {
            "id": "urn:ngsi-ld:Alert:1",
            "type": "Alert",
            "description": {"type": "LanguageProperty", "languageMap": {"en": "Flooded road", "id": "Jalan tergenang"}},
            "severity": [
                {"type": "Property", "value": "low", "datasetId": "urn:ngsi-ld:Dataset:cctv"},
                {"type": "Property", "value": "high"},
            ],
        }
    )
    assert flat.attrs["description"] == "Jalan tergenang"
    assert flat.attrs["severity"] == "high"  # the default instance has no datasetId
    assert flat.form is Form.LD_NORMALIZED


@pytest.mark.parametrize(("language", "expected"), [("en", "Flooded road"), ("id", "Jalan tergenang")])
def test_a_language_map_is_read_in_the_citys_language(language: str, expected: str) -> None:
    """An English city's wall showed the Indonesian text of every LanguageProperty: the
    normalizer took ``id`` first whatever ``city.language`` said."""
    from dashboard.config import load_config
    from dashboard.runtime import build_normalizer

    normalizer = build_normalizer(load_config(environ={"CITYWALL_LANGUAGE": language}))
    entity = as_form(ALERT, "ld-normalized")
    entity["description"] = {"type": "LanguageProperty", "languageMap": {"id": "Jalan tergenang", "en": "Flooded road"}}
    assert normalizer.decode(encode(entity)).description == expected


def test_unwrap_ld_key_values_detected_by_context() -> None:
    assert unwrap(as_form(KPI, "ld-keyValues")).form is Form.LD_KEY_VALUES
    assert unwrap(KPI).form is Form.V2_KEY_VALUES


@pytest.mark.parametrize(
    "base, field, value",
    [
        (WATER, "waterLevel", 3.4028235e38),  # float max: some gauges' error code
        (FLOOD, "alertLevel", 5e-324),
        (QUEUE, "ticketsToServe", 2**64),
        (QUEUE, "averageWaitingTime", 1e28),
        (KPI, "kpiValue", "1e28"),
    ],
)
def test_numbers_beyond_any_city_reading_are_refused_by_name(normalizer: Normalizer, base: Any, field: str, value: Any) -> None:
    """Accepted, they broke the panels that draw them (Babel cannot format 1e28, orjson cannot
    write 2**64) for as long as that reading was the last."""
    refused = reject(normalizer, {**base, field: value})
    assert (refused.reason, refused.detail.startswith(f"{field}: "), refused.detail.endswith("is out of range")) == (
        Reason.INVALID_VALUE,
        True,
        True,
    )


def test_a_city_budget_in_rupiah_is_a_number_like_any_other(normalizer: Normalizer) -> None:
    event = normalizer.decode(encode({**KPI, "kpiValue": 1.2e12}))
    assert event.value == 1.2e12


def test_a_time_before_2000_is_refused_by_name(normalizer: Normalizer) -> None:
    """A critical Alert "issued" in the year 1 led the unacknowledged queue and took the
    critical-incident screen over from the real one."""
    refused = reject(normalizer, {**ALERT, "dateIssued": "0001-01-01T00:00:00Z"})
    assert (refused.reason, refused.detail) == (Reason.INVALID_VALUE, "dateIssued: 0001-01-01T00:00:00+00:00 is before 2000")
    assert normalizer.decode(encode({**ALERT, "dateIssued": "2010-04-14T10:00:00Z"})).opened_at.year == 2010


def test_an_attribute_whose_type_is_not_text_is_a_wrong_type_not_a_decoder_error(normalizer: Normalizer) -> None:
    """A list as an NGSI attribute's ``type`` raised TypeError inside the decoder: a named
    reason still, but with a whole traceback logged for every such message."""
    refused = reject(normalizer, {**ALERT, "category": {"type": ["Property"], "value": ["traffic"]}})
    assert refused.reason is Reason.WRONG_TYPE


@pytest.mark.parametrize(
    ("period", "now", "observed"),
    [
        # this month so far, sent on the 5th: its value stands now, not on the 31st
        ({"from": "2026-12-01", "to": "2026-12-31"}, "2026-12-05T03:00:00+00:00", "2026-12-05T03:00:00+00:00"),
        # a period "to" today, date only (00:00 UTC, 07:00 WIB), sent at 06:00 WIB
        ({"from": "2026-12-01", "to": "2026-12-05"}, "2026-12-04T23:00:00+00:00", "2026-12-04T23:00:00+00:00"),
        # a period that has ended stands at its end, as before
        ({"from": "2026-11-01", "to": "2026-11-30"}, "2026-12-05T03:00:00+00:00", "2026-11-30T00:00:00+00:00"),
    ],
)
def test_a_kpi_of_a_period_not_yet_over_is_read_as_of_now(
    districts: Districts, period: dict[str, str], now: str, observed: str
) -> None:
    """A KPI without dateModified is timed by its period's end. "New business licences this
    month", sent on the 5th with the month as its period, was dead-lettered as future_time,
    and so was a period ending today sent before 07:00 WIB."""
    at = datetime.fromisoformat(now)
    normalizer = Normalizer(districts, BBOX, MAX_BYTES, MAX_FUTURE_S, clock=lambda: at)
    event = normalizer.decode(encode(with_(KPI, dateModified=..., calculationPeriod=period)))
    assert event.observed_at.isoformat() == observed


@pytest.mark.parametrize("kind", [["Point"], {"value": "Point"}, 7])
def test_a_location_type_that_is_not_a_name_is_named_as_such(normalizer: Normalizer, kind: Any) -> None:
    """A list as the type reached the decoder's safety net ("decoder error: TypeError:
    unhashable type") and logged a traceback per message."""
    refused = reject(normalizer, with_(ALERT, location={"type": kind, "coordinates": [101.44, 0.5]}))
    assert refused.reason is Reason.WRONG_TYPE
    assert refused.detail.startswith("location.type: expected a GeoJSON type name, got ")


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
def test_an_id_with_a_character_that_draws_nothing_is_refused(normalizer: Normalizer, invisible: str) -> None:
    """ "A1" and "A1" + U+200B were two incidents that looked the same on every screen."""
    refused = reject(normalizer, with_(ALERT, id=f"urn:ngsi-ld:Alert:A1{invisible}"))
    assert refused.reason is Reason.BAD_TEXT
    assert refused.detail == "id: holds a control, bidi, invisible or unencodable character"
