"""Raw message bytes in, exactly one typed event out, or ``Rejected`` with a named reason.

Every adapter (MQTT, Redis, the simulator) hands its payloads to one ``Normalizer``, so the
rules below hold whatever the transport. The checks run cheapest first and in a fixed order
(size, UTF-8, JSON, depth, object, type, then the fields), so a hostile or broken payload
costs as little as possible and always gets the same reason.

The policy is "liberal where the meaning is clear, strict where it is not":

* accepted and repaired: numeric strings ("12"), Indonesian aliases (``tinggi``,
  ``selesai``), percent fill levels, NGSI-v2/LD wrappers, ``-08:00Z`` time stamps,
  coordinates given as [lat, lon] when only that reading is on Earth, over-long text
  (truncated, never rejected; panels render text, so it is not sanitised either);
* free text that cannot be encoded or displayed as written (a lone surrogate, NUL and other
  control characters, bidi overrides) is cleaned, and an identifier holding any of them is
  rejected as ``bad_text`` (``feeds.text`` says why, field by field);
* rejected: a missing required field, a value of the wrong JSON type, an enum value that
  could mean several things, a time stamp from the future, coordinates off the globe.

Upstream examples carry coordinates from Madrid, Nice or Pune. They are valid positions and
are kept as given; they simply fall in no kecamatan.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple, overload

from feeds.events import (
    CitizenReport,
    Event,
    Incident,
    KpiReading,
    QueueReading,
    Reason,
    Rejected,
    WasteFill,
    WaterLevel,
)
from feeds.geo import Districts
from feeds.ngsi import Form, unwrap
from feeds.text import clean, is_clean

__all__ = ["Decoded", "Normalizer", "now_utc", "parse_time", "MAX_DEPTH", "SOURCE_TYPES"]

MAX_DEPTH = 32
ID_MAX = 256
NAME_MAX = 120
DESCRIPTION_MAX = 500
ADDRESS_MAX = 200
_TIME_TEXT_MAX = 64
_DETAIL_SAMPLE = 40
KPI_ID_PREFIX = "urn:ngsi-ld:KeyPerformanceIndicator:"


def now_utc() -> datetime:
    """The default clock; injected so tests and replays can pin "now"."""
    return datetime.now(UTC)


class Decoded(NamedTuple):
    """An event with the NGSI form its message arrived in (for metrics and the conformance report)."""

    event: Event
    form: Form


# --------------------------------------------------------------------------------------
# the normalizer


@dataclass(frozen=True)
class ChannelRule:
    """A complaint app: its reports are recognised by where they arrive (MQTT topic filters,
    Redis stream names) and their categories mapped to a panel family by the app's own names."""

    name: str
    topics: tuple[str, ...] = ()
    streams: tuple[str, ...] = ()
    categories: dict[str, str] = field(default_factory=dict)

    def matches(self, origin: str) -> bool:
        stream = origin.split("#", 1)[0]
        return stream in self.streams or any(topic_matches(f, origin) for f in self.topics)

    def family(self, *names: str | None) -> str:
        folded = {k.casefold(): v for k, v in self.categories.items()}
        for name in names:
            if name and name.strip().casefold() in folded:
                return folded[name.strip().casefold()]
        return "other"


def topic_matches(pattern: str, topic: str) -> bool:
    """MQTT filter matching (``+`` one level, ``#`` the rest), for a message's own topic."""
    parts, levels = pattern.split("/"), topic.split("/")
    for i, part in enumerate(parts):
        if part == "#":
            return True
        if i >= len(levels) or (part != "+" and part != levels[i]):
            return False
    return len(parts) == len(levels)


class Normalizer:
    """Turns payloads into events; one instance per process, shared by every adapter.

    ``districts`` tags located events with their kecamatan (None: no tagging, an explicit
    ``kecamatan`` field is kept as sent). ``bbox`` (lon_min, lat_min, lon_max, lat_max)
    limits the district lookup to the city's box, so far-away points cost one comparison.
    """

    def __init__(
        self,
        districts: Districts | None,
        bbox: tuple[float, float, float, float] | None,
        max_payload_bytes: int,
        max_future_s: int,
        clock: Callable[[], datetime] = now_utc,
        channels: Sequence[ChannelRule] = (),
    ) -> None:
        self.channels = tuple(channels)
        self.districts = districts
        self.bbox = bbox
        self.max_payload_bytes = max_payload_bytes
        self.max_future = timedelta(seconds=max_future_s)
        self.clock = clock

    def decode(self, payload: bytes | bytearray | memoryview | str, origin: str = "") -> Event:
        """The event a payload carries; raises ``Rejected`` naming the first problem found.
        ``origin`` (topic, or ``stream#id``) tells a complaint app's reports apart."""
        return self.decode_with_form(payload, origin).event

    def decode_with_form(self, payload: bytes | bytearray | memoryview | str, origin: str = "") -> Decoded:
        """Like ``decode``, and also says which NGSI form the message used."""
        return self.from_entity(parse_payload(payload, self.max_payload_bytes), origin)

    def from_entity(self, entity: dict[str, Any], origin: str = "") -> Decoded:
        """Map an already parsed JSON object (the checks after "not an object")."""
        canonical, mapper = _route(entity.get("type"))
        flat = unwrap(entity)
        fields = _Fields(flat.attrs, flat.units, self)
        if origin and self.channels:
            fields.channel = next((c for c in self.channels if c.matches(origin)), None)
        return Decoded(mapper(fields, canonical), flat.form)

    # used by the mappers ------------------------------------------------------------

    def horizon(self) -> datetime:
        """The latest acceptable message time: now plus the allowed clock skew."""
        return self.clock() + self.max_future

    def kecamatan(self, attrs: dict[str, Any], lat: float | None, lon: float | None) -> str | None:
        """An explicit district name wins when it names a known district; else the map decides."""
        if self.districts is None:
            named = attrs.get("kecamatan")
            return _clip(clean(named).strip(), NAME_MAX) if isinstance(named, str) and clean(named).strip() else None
        for name in _named_districts(attrs):
            known = self.districts.match(name)
            if known:
                return known
        if lat is None or lon is None or not self._in_bbox(lat, lon):
            return None
        return self.districts.kecamatan_at(lat, lon)

    def _in_bbox(self, lat: float, lon: float) -> bool:
        if self.bbox is None:
            return True
        lon_min, lat_min, lon_max, lat_max = self.bbox
        return lon_min <= lon <= lon_max and lat_min <= lat <= lat_max


# --------------------------------------------------------------------------------------
# bytes -> dict


class _Constant(Exception):
    """Raised from inside the JSON parser on NaN/Infinity, turned into a rejection outside it."""


def _refuse_constant(name: str) -> Any:
    raise _Constant(name)


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def parse_payload(payload: bytes | bytearray | memoryview | str, max_bytes: int) -> dict[str, Any]:
    """Size, UTF-8, JSON, depth and object checks, in that order; returns the parsed object."""
    data = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else bytes(payload)
    if len(data) > max_bytes:
        raise Rejected(Reason.TOO_LARGE, f"{len(data)} bytes, limit {max_bytes}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(Reason.NOT_UTF8, f"invalid byte at offset {exc.start}") from None
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark says nothing; some Windows tools add one
    try:
        value = _DECODER.decode(text)
    except _Constant as exc:
        raise Rejected(Reason.NON_FINITE_NUMBER, f"{exc.args[0]} is not a JSON number") from None
    except RecursionError:
        raise Rejected(Reason.TOO_DEEP, f"nesting deeper than {MAX_DEPTH}") from None
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise Rejected(Reason.MALFORMED_JSON, str(exc)[:120]) from None
    if text.count("{") + text.count("[") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise Rejected(Reason.TOO_DEEP, f"nesting deeper than {MAX_DEPTH}")
    if not isinstance(value, dict):
        raise Rejected(Reason.NOT_AN_OBJECT, f"top level is a JSON {_json_kind(value)}")
    return value


def _depth(value: Any) -> int:
    """Nesting depth (a bare object is 1), iteratively so it cannot itself overflow the stack."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"


# --------------------------------------------------------------------------------------
# field readers


_MISSING = object()


class _Fields:
    """Typed access to one flattened entity; every failure names the field it is about."""

    __slots__ = ("attrs", "units", "normalizer", "_horizon", "channel")

    def __init__(self, attrs: dict[str, Any], units: dict[str, str], normalizer: Normalizer) -> None:
        self.attrs = attrs
        self.units = units
        self.normalizer = normalizer
        self._horizon: datetime | None = None
        self.channel: ChannelRule | None = None

    def first(self, *keys: str) -> tuple[str, Any]:
        """The first of ``keys`` that is present and not null or blank (neither says anything)."""
        for key in keys:
            value = self.attrs.get(key)
            if value is not None and not (isinstance(value, str) and not value.strip()):
                return key, value
        return keys[0], _MISSING

    def entity_id(self) -> str:
        value = self.attrs.get("id")
        if value is None or value == "":
            raise Rejected(Reason.MISSING_FIELD, "id")
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise _wrong("id", "a string", value)
        value = str(value).strip()
        if not value or len(value) > ID_MAX:
            raise Rejected(Reason.INVALID_VALUE, f"id: must be 1-{ID_MAX} characters")
        if not is_clean(value):
            raise Rejected(Reason.BAD_TEXT, "id: holds a control, bidi or unencodable character")
        return value

    def ident(self, *keys: str) -> str | None:
        """A secondary identifier (a station, a device): optional, else the same rules as ``id``."""
        key, value = self.first(*keys)
        if value is _MISSING:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise _wrong(key, "a string", value)
        value = str(value).strip()
        if not is_clean(value):
            raise Rejected(Reason.BAD_TEXT, f"{key}: holds a control, bidi or unencodable character")
        return _clip(value, ID_MAX)

    @overload
    def text(self, *keys: str, limit: int = NAME_MAX, required: Literal[True]) -> str: ...
    @overload
    def text(self, *keys: str, limit: int = NAME_MAX, required: bool = False) -> str | None: ...

    def text(self, *keys: str, limit: int = NAME_MAX, required: bool = False) -> str | None:
        """A string (numbers are spelled out), stripped and cut to ``limit`` characters."""
        key, value = self.first(*keys)
        if value is not _MISSING:
            if isinstance(value, str):
                value = clean(value).strip()
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                value = str(value)
            else:
                raise _wrong(key, "a string", value)
        if value is _MISSING or value == "":
            if required:
                raise Rejected(Reason.MISSING_FIELD, key)
            return None
        return _clip(value, limit)

    def number(self, *keys: str, required: bool = False) -> float | None:
        key, value = self.first(*keys)
        if value is _MISSING:
            if required:
                raise Rejected(Reason.MISSING_FIELD, key)
            return None
        return _to_float(key, value)

    def count(self, key: str) -> int | None:
        """A non-negative whole number: ticket counters and the like."""
        value = self.number(key)
        if value is None:
            return None
        if not value.is_integer():
            raise _wrong(key, "a whole number", value)
        if value < 0:
            raise Rejected(Reason.INVALID_VALUE, f"{key}: must not be negative")
        return int(value)

    def metres(self, *keys: str, required: bool = False) -> float | None:
        """A level in metres; ``unitCode`` CMT/MMT/FOT readings are converted, non-lengths refused.

        A gauge that reports 150 (cm) must not show up as a 150 m flood.
        """
        key, _ = self.first(*keys)
        value = self.number(*keys, required=required)
        if value is None:
            return None
        factor = _METRE_FACTORS.get(self.units.get(key, "MTR"))
        if factor is None:
            raise Rejected(Reason.INVALID_VALUE, f"{key}: unit {self.units[key]!r} is not a length")
        return value * factor

    @overload
    def time(self, *keys: str, required: Literal[True]) -> datetime: ...
    @overload
    def time(self, *keys: str, required: bool = False) -> datetime | None: ...

    def time(self, *keys: str, required: bool = False) -> datetime | None:
        """The first present time stamp among ``keys``, in UTC, and not in the future."""
        key, value = self.first(*keys)
        if value is _MISSING:
            if required:
                raise Rejected(Reason.MISSING_FIELD, f"{key} (or {', '.join(keys[1:])})" if len(keys) > 1 else key)
            return None
        return self.check_time(key, value)

    def check_time(self, key: str, value: Any) -> datetime:
        if not isinstance(value, str):
            raise _wrong(key, "an ISO 8601 date-time string", value)
        moment = parse_time(value)
        if moment is None:
            raise Rejected(Reason.INVALID_VALUE, f"{key}: not an ISO 8601 time: {_sample(value)}")
        if self._horizon is None:
            self._horizon = self.normalizer.horizon()
        if moment > self._horizon:
            raise Rejected(Reason.FUTURE_TIME, f"{key}: {moment.isoformat()} is ahead of the clock")
        return moment

    def location(self, required: bool = False) -> tuple[float, float] | tuple[None, None]:
        """(lat, lon) from a GeoJSON ``location``; other shapes give the centre of their extent."""
        value = self.attrs.get("location")
        if value is None:
            if required:
                raise Rejected(Reason.MISSING_FIELD, "location")
            return None, None
        return _lat_lon(value)

    def enum(self, key: str, table: dict[str, Any], default: Any) -> Any:
        """A value looked up case-insensitively in ``table``; unknown values are refused."""
        value = self.attrs.get(key)
        if value is None or value == "":
            return default
        if not isinstance(value, str):
            raise _wrong(key, "a string", value)
        found = table.get(value)
        if found is None:
            found = table.get(_fold(value))
        if found is None:
            raise Rejected(Reason.INVALID_VALUE, f"{key}: unknown value {_sample(value)}")
        return found

    def place(self, lat: float | None, lon: float | None) -> str | None:
        return self.normalizer.kecamatan(self.attrs, lat, lon)


_METRE_FACTORS = {"MTR": 1.0, "CMT": 0.01, "MMT": 0.001, "FOT": 0.3048}  # UN/CEFACT codes


def _to_float(key: str, value: Any) -> float:
    """A finite float from a JSON number or a numeric string ("12", " 3.5 ")."""
    if isinstance(value, bool):
        raise _wrong(key, "a number", value)
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            raise Rejected(Reason.NON_FINITE_NUMBER, f"{key}: too large") from None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise _wrong(key, "a number", value) from None
    else:
        raise _wrong(key, "a number", value)
    if not math.isfinite(number):
        raise Rejected(Reason.NON_FINITE_NUMBER, f"{key}: {_sample(value)}")
    return number


def _lat_lon(geometry: Any) -> tuple[float, float]:
    if not isinstance(geometry, dict):
        raise _wrong("location", "a GeoJSON geometry", geometry)
    if geometry.get("type") == "Feature":
        return _lat_lon(geometry.get("geometry"))
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point":
        position = coordinates
    elif kind in {"LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"}:
        position = _extent_centre(coordinates)
    else:
        raise _wrong("location", "a GeoJSON geometry", geometry)
    if not isinstance(position, list) or len(position) < 2:
        raise _wrong("location.coordinates", "[lon, lat]", position)
    lon = _to_float("location.coordinates", position[0])
    lat = _to_float("location.coordinates", position[1])
    if abs(lon) <= 90 < abs(lat) <= 180:
        lon, lat = lat, lon  # [lat, lon] sent by mistake: only this reading is on Earth
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise Rejected(Reason.COORDINATES_OUT_OF_RANGE, f"location: lat {lat}, lon {lon}")
    return lat, lon


def _extent_centre(coordinates: Any) -> list[float] | None:
    """Centre of the bounding box of any nested GeoJSON position array (None if it has none)."""
    xs: list[float] = []
    ys: list[float] = []
    stack = [coordinates]
    while stack:
        node = stack.pop()
        if not isinstance(node, list):
            return None
        if node and not isinstance(node[0], list):
            if len(node) < 2:
                return None
            xs.append(_to_float("location.coordinates", node[0]))
            ys.append(_to_float("location.coordinates", node[1]))
        else:
            stack.extend(node)
    if not xs:
        return None
    return [(min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2]


def _named_districts(attrs: dict[str, Any]) -> list[str]:
    """Free-text fields that may name a kecamatan, most specific first."""
    names = [attrs.get("kecamatan"), attrs.get("district")]
    address = attrs.get("address")
    if isinstance(address, dict):
        names += [address.get("kecamatan"), address.get("district"), address.get("addressLocality")]
    names.append(attrs.get("areaServed"))
    return [n for n in names if isinstance(n, str) and n.strip()]


def _address(attrs: dict[str, Any]) -> str | None:
    address = attrs.get("address") or attrs.get("address_string")
    if isinstance(address, dict):
        parts = [address.get(k) for k in ("streetAddress", "addressLocality")]
        address = ", ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    if not isinstance(address, str):
        return None
    address = clean(address).strip()
    return _clip(address, ADDRESS_MAX) if address else None


# --------------------------------------------------------------------------------------
# time


_OFFSET_THEN_Z = re.compile(r"[+-]\d{2}:?\d{2}[Zz]$")


def parse_time(text: str) -> datetime | None:
    """ISO 8601 (with or without zone, fractions, date-only) as an aware UTC datetime, or None.

    A missing zone means UTC. An offset followed by a stray ``Z`` ("-08:00Z", seen in the
    upstream Open311 example) is read as the offset: both name a zone and the offset is the
    more specific.
    """
    if len(text) > _TIME_TEXT_MAX:
        return None
    moment: datetime | None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = _parse_noisy_time(text)
        if moment is None:
            return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def _parse_noisy_time(text: str) -> datetime | None:
    """The slow path for stamps ``fromisoformat`` refuses: spaces, "-08:00Z", a lower-case z."""
    text = text.strip()
    if not text:
        return None
    if _OFFSET_THEN_Z.search(text):
        text = text[:-1]
    elif text[-1] == "z":
        text = text[:-1] + "Z"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


# --------------------------------------------------------------------------------------
# one mapper per Smart Data Model


_SEVERITY = {
    "informational": "informational", "info": "informational", "informasi": "informational",
    "low": "low", "rendah": "low",
    "medium": "medium", "moderate": "medium", "sedang": "medium",
    "high": "high", "tinggi": "high",
    "critical": "critical", "kritis": "critical",
}  # fmt: skip
_INCIDENT_STATUS = {
    "new": "new", "open": "new", "baru": "new",
    "acknowledged": "acknowledged", "diterima": "acknowledged",
    "dispatched": "dispatched", "dikirim": "dispatched",
    "resolved": "resolved", "closed": "resolved", "selesai": "resolved",
}  # fmt: skip
_REPORT_RESOLVED = frozenset({"closed", "resolved", "selesai", "done"})
_SERVICE_OPEN = {"open": True, "buka": True, "closed": False, "suspended": False, "tutup": False, "ditutup": False}
_STANDING = {
    "verygood": "veryGood", "sangatbaik": "veryGood",
    "good": "good", "baik": "good",
    "fair": "fair", "cukup": "fair",
    "bad": "bad", "buruk": "bad",
    "verybad": "veryBad", "sangatburuk": "veryBad",
}  # fmt: skip
_TOPIC_FIELDS = ("category", "subCategory", "title", "service_name", "description", "comments")
_DRAINAGE = re.compile(r"\b(?:drain|banjir|flood|genangan|selokan|parit|saluran)")
_WASTE = re.compile(r"\b(?:sampah|waste|garbage|trash|litter|tps|rubbish)")


def _alert(f: _Fields, source: str) -> Incident:
    """Alert -> Incident. Category and a time are what an operator cannot do without.

    ``observed_at`` is the newest time the alert carries (it orders updates); ``opened_at``
    is when it began (dateIssued), which is what age and SLA are measured from.
    """
    entity_id = f.entity_id()
    category = f.text("category", required=True)
    observed = f.time("dateModified", "modifiedAt", "dateIssued", "dateCreated", "validFrom", required=True)
    lat, lon = f.location()
    return Incident(
        id=entity_id,
        observed_at=observed,
        source_type=source,
        lat=lat,
        lon=lon,
        kecamatan=f.place(lat, lon),
        category=category,
        sub_category=f.text("subCategory"),
        severity=f.enum("severity", _SEVERITY, "medium"),
        status=f.enum("status", _INCIDENT_STATUS, "new"),
        description=f.text("description", limit=DESCRIPTION_MAX) or "",
        address=_address(f.attrs),
        opened_at=f.time("dateIssued", "dateCreated", "validFrom") or observed,
    )


def _flood_monitoring(f: _Fields, source: str) -> WaterLevel:
    """FloodMonitoring -> WaterLevel; the station, not the entity, identifies the gauge."""
    entity_id = f.entity_id()
    level = f.metres("currentLevel", required=True)
    observed = f.time("observationDateTime", "dateObserved", "dateModified", "modifiedAt", required=True)
    lat, lon = f.location()
    return WaterLevel(
        id=entity_id,
        observed_at=observed,
        source_type=source,
        lat=lat,
        lon=lon,
        kecamatan=f.place(lat, lon),
        station_id=f.ident("stationID") or entity_id,
        name=f.text("name"),
        level_m=level,  # type: ignore[arg-type]
        alert_level_m=f.metres("alertLevel"),
        danger_level_m=f.metres("dangerLevel"),
        status_text=f.text("floodLevelStatus"),
    )


def _water_observed(f: _Fields, source: str) -> WaterLevel:
    """WaterObserved -> WaterLevel; the schema requires location and dateObserved."""
    entity_id = f.entity_id()
    lat, lon = f.location(required=True)
    level = f.metres("waterLevel", "height", required=True)
    observed = f.time("dateObserved", required=True)
    return WaterLevel(
        id=entity_id,
        observed_at=observed,
        source_type=source,
        lat=lat,
        lon=lon,
        kecamatan=f.place(lat, lon),
        station_id=f.ident("refDevice") or entity_id,
        name=f.text("name"),
        level_m=level,  # type: ignore[arg-type]
    )


def _citizen_report(f: _Fields, source: str) -> CitizenReport:
    """IssueReporting / Open311 -> CitizenReport; the topic decides drainage vs waste panels."""
    entity_id = f.entity_id()
    opened = f.time("requested_datetime", "observationDateTime", "dateCreated", required=True)
    times = [t for t in (opened, f.time("updated_datetime"), f.time("observationDateTime"), f.time("dateModified")) if t]
    observed = max(times)
    status = _report_status(f)
    resolved_at = None
    if status == "resolved":
        resolved_at = f.time("updated_datetime", "dateModified") or observed
    lat, lon = f.location()
    channel = f.channel
    topic = channel.family(f.text("category"), f.text("subCategory"), f.text("service_name")) if channel else _topic(f)
    return CitizenReport(
        id=entity_id,
        observed_at=observed,
        source_type=source,
        lat=lat,
        lon=lon,
        kecamatan=f.place(lat, lon),
        topic=topic,  # type: ignore[arg-type]
        channel=channel.name if channel else "",
        category=f.text("category", "service_name", "title") or "",
        description=f.text("description", "comments", limit=DESCRIPTION_MAX) or "",
        status=status,
        opened_at=opened,
        resolved_at=resolved_at,
    )


def _report_status(f: _Fields) -> Literal["open", "resolved"]:
    """Only a clear "closed/resolved/selesai/done" closes a report; anything else is still open."""
    status = f.text("resolutionStatus", "status")
    return "resolved" if status and status.lower().rstrip(".") in _REPORT_RESOLVED else "open"


def _topic(f: _Fields) -> str:
    words = " | ".join(
        t for t in (f.text(k, limit=DESCRIPTION_MAX) for k in _TOPIC_FIELDS) if t
    ).lower()
    if _DRAINAGE.search(words):
        return "drainage"
    if _WASTE.search(words):
        return "waste"
    return "other"


def _waste_container(f: _Fields, source: str) -> WasteFill:
    """WasteContainer -> WasteFill. Without ``fillingLevel`` there is nothing to show."""
    entity_id = f.entity_id()
    fill = _fill(f.number("fillingLevel", required=True))  # type: ignore[arg-type]
    lat, lon = f.location(required=True)
    observed = f.time("dateObserved", "dateModified", "modifiedAt", "dateUpdated", "binLoggedTime", required=True)
    return WasteFill(
        id=entity_id,
        observed_at=observed,
        source_type=source,
        lat=lat,
        lon=lon,
        kecamatan=f.place(lat, lon),
        name=f.text("name"),
        fill=fill,
        status=f.text("status"),
    )


def _fill(value: float) -> float:
    """0..1 as the schema says; 1 < x <= 100 can only be a percentage."""
    if 0.0 <= value <= 1.0:
        return value
    if 1.0 < value <= 100.0:
        return value / 100.0
    raise Rejected(Reason.INVALID_VALUE, f"fillingLevel: {value} is neither a fraction nor a percentage")


def _queue_monitor(f: _Fields, source: str) -> QueueReading:
    """QueueMonitor -> QueueReading, one MPP counter line."""
    entity_id = f.entity_id()
    agency = f.text("officeName", "name", required=True)
    observed = f.time("dateModified", "modifiedAt", "dateObserved", "observationDateTime", "dateCreated", required=True)
    _line_priority(f)
    wait = f.number("averageWaitingTime")
    if wait is not None and wait < 0:
        raise Rejected(Reason.INVALID_VALUE, "averageWaitingTime: must not be negative")
    return QueueReading(
        id=entity_id,
        observed_at=observed,
        source_type=source,
        agency=agency,
        service=f.text("serviceName"),
        waiting=f.count("ticketsToServe") or 0,
        serving=f.count("ticketsBeingServed") or 0,
        served_today=f.count("ticketServed") or 0,
        avg_wait_min=wait,
        open=_service_open(f),
    )


def _line_priority(f: _Fields) -> None:
    """Not shown, but checked: upstream sends it as a boolean or an integer, both fine."""
    value = f.attrs.get("linePriority")
    if value is not None and not isinstance(value, bool):
        _to_float("linePriority", value)


def _service_open(f: _Fields) -> bool:
    value = f.attrs.get("serviceStatus")
    if isinstance(value, bool):
        return value
    return bool(f.enum("serviceStatus", _SERVICE_OPEN, True))


def _kpi(f: _Fields, source: str) -> KpiReading:
    """KeyPerformanceIndicator -> KpiReading; the value must be a number to be plotted."""
    entity_id = f.entity_id()
    value = f.number("kpiValue", required=True)
    observed = f.time("dateModified", "modifiedAt", "updatedAt", "dateObserved")
    if observed is None:
        observed = _period_end(f)
    return KpiReading(
        id=entity_id,
        observed_at=observed,
        source_type=source,
        kpi_id=entity_id.removeprefix(KPI_ID_PREFIX),
        name=f.text("name"),
        value=value,  # type: ignore[arg-type]
        standing=f.enum("currentStanding", _STANDING, None),
    )


def _period_end(f: _Fields) -> datetime:
    period = f.attrs.get("calculationPeriod")
    if isinstance(period, dict) and period.get("to") is not None:
        return f.check_time("calculationPeriod.to", period["to"])
    raise Rejected(Reason.MISSING_FIELD, "dateModified (or modifiedAt, updatedAt, calculationPeriod.to)")


Mapper = Callable[[_Fields, str], Event]

_ROUTES: dict[str, tuple[str, Mapper]] = {
    "Alert": ("Alert", _alert),
    "FloodMonitoring": ("FloodMonitoring", _flood_monitoring),
    "WaterObserved": ("WaterObserved", _water_observed),
    "IssueReporting": ("IssueReporting", _citizen_report),
    "Open311_ServiceRequest": ("Open311_ServiceRequest", _citizen_report),
    "Open311ServiceRequest": ("Open311_ServiceRequest", _citizen_report),
    "WasteContainer": ("WasteContainer", _waste_container),
    "QueueMonitor": ("QueueMonitor", _queue_monitor),
    "KeyPerformanceIndicator": ("KeyPerformanceIndicator", _kpi),
}
SOURCE_TYPES: tuple[str, ...] = tuple(sorted({canonical for canonical, _ in _ROUTES.values()}))
_IRI_TAIL = re.compile(r"[#/:]")


def _route(kind: Any) -> tuple[str, Mapper]:
    """The mapper for a payload's ``type``.

    An NGSI-LD expanded IRI is matched by its last segment, and an NGSI-LD type array by its
    first known member; anything else unknown is refused.
    """
    if kind is None or kind == "":
        raise Rejected(Reason.UNKNOWN_TYPE, "type is missing")
    for name in kind if isinstance(kind, list) else [kind]:
        if isinstance(name, str) and name:
            route = _ROUTES.get(name) or _ROUTES.get(_IRI_TAIL.split(name)[-1])
            if route is not None:
                return route
    raise Rejected(Reason.UNKNOWN_TYPE, f"type: {_sample(kind)}")


# --------------------------------------------------------------------------------------
# small helpers


def _fold(value: str) -> str:
    """Case, spaces, dashes and underscores carry no meaning in enum values ("Very good")."""
    return "".join(ch for ch in value.lower() if ch.isalnum())


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _sample(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _DETAIL_SAMPLE else text[: _DETAIL_SAMPLE - 1] + "…"


def _wrong(key: str, expected: str, value: Any) -> Rejected:
    return Rejected(Reason.WRONG_TYPE, f"{key}: expected {expected}, got {_json_kind(value)} {_sample(value)}")
