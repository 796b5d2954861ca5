"""Typed reading of one flattened entity, with the text limits and the repairs every model shares.

Each per-model mapper (``feeds.mappers``) reads its fields through a ``Fields``, so every
model applies the same rules: numeric strings become numbers, lengths in other units become
metres, free text is cleaned (``feeds.text``) and clipped to a limit, identifiers with
unreadable characters are refused, time stamps in the future are refused, and every
failure names the field it is about.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast, overload

from feeds.events import Reason, Rejected
from feeds.payload import json_kind
from feeds.text import clean, is_clean
from feeds.timestamps import names_zone, parse_time

if TYPE_CHECKING:
    from feeds.channels import ChannelRule

__all__ = [
    "ADDRESS_MAX",
    "DESCRIPTION_MAX",
    "ID_MAX",
    "NAME_MAX",
    "Context",
    "Fields",
    "address_text",
    "clip",
    "fold",
    "lat_lon",
    "named_districts",
    "sample",
    "to_float",
    "wrong",
]

ID_MAX = 256
NAME_MAX = 120
#: Said of a stamp from the future that names no zone, read as UTC: most likely local time.
UNZONED = (
    " (it names no time zone, so it was read as UTC: send its offset, e.g. +07:00,"
    " or set feeds.zoneless_times: city if the field sends local time)"
)
DESCRIPTION_MAX = 500
ADDRESS_MAX = 200
DETAIL_SAMPLE = 40


class Context(Protocol):
    """What the fields need from the normalizer reading them: its clock and its map."""

    def horizon(self) -> datetime:
        """The latest acceptable message time."""
        ...

    def now(self) -> datetime:
        """The time now, on the clock the horizon is counted from."""
        ...

    def kecamatan(self, attrs: dict[str, Any], lat: float | None, lon: float | None) -> str | None:
        """The district an entity is in, by name or by position."""
        ...

    @property
    def zoneless(self) -> tzinfo:
        """The zone a time stamp that names none is read in."""
        ...

    @property
    def level_range(self) -> tuple[float, float] | None:
        """The water levels, in metres, a gauge of this city can read (None: any)."""
        ...


_MISSING = object()


class Fields:
    """Typed access to one flattened entity; every failure names the field it is about."""

    __slots__ = ("attrs", "units", "normalizer", "_horizon", "channel")

    def __init__(self, attrs: dict[str, Any], units: dict[str, str], normalizer: Context) -> None:
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
            raise wrong("id", "a string", value)
        value = str(value).strip()
        if not value or len(value) > ID_MAX:
            raise Rejected(Reason.INVALID_VALUE, f"id: must be 1-{ID_MAX} characters")
        if not is_clean(value):
            raise Rejected(Reason.BAD_TEXT, "id: holds a control, bidi, invisible or unencodable character")
        return value

    def ident(self, *keys: str) -> str | None:
        """A secondary identifier (a station, a device): optional, else the same rules as ``id``."""
        key, value = self.first(*keys)
        if value is _MISSING:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise wrong(key, "a string", value)
        value = str(value).strip()
        if not is_clean(value):
            raise Rejected(Reason.BAD_TEXT, f"{key}: holds a control, bidi, invisible or unencodable character")
        return clip(value, ID_MAX)

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
                raise wrong(key, "a string", value)
        if value is _MISSING or value == "":
            if required:
                raise Rejected(Reason.MISSING_FIELD, key)
            return None
        return clip(value, limit)

    def number(self, *keys: str, required: bool = False) -> float | None:
        """A number within ``NUMBER_RANGE``. Beyond it no city reading lies (a budget in
        rupiah stays below 1e15), and the panels could not draw it: a gauge's 3.4e38 (float
        max, an error code of some sensors) or a queue's 1e28 broke the drainage, MPP and KPI
        panels for as long as that reading was the last."""
        key, value = self.first(*keys)
        if value is _MISSING:
            if required:
                raise Rejected(Reason.MISSING_FIELD, key)
            return None
        number = to_float(key, value)
        smallest, largest = NUMBER_RANGE
        if number and not smallest <= abs(number) <= largest:
            raise Rejected(Reason.INVALID_VALUE, f"{key}: {sample(value)} is out of range")
        return number

    def count(self, key: str) -> int | None:
        """A non-negative whole number: ticket counters and the like."""
        value = self.number(key)
        if value is None:
            return None
        if not value.is_integer():
            raise wrong(key, "a whole number", value)
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

    def level(self, *keys: str) -> float:
        """A gauge's water level in metres, refused outside the city's ``level_range``.

        A gauge that fails reports an error code (9999, -9999) where its level goes. Taken as
        a level, 9999 m put a station at AWAS on the wall, a flood that was never there."""
        value = cast(float, self.metres(*keys, required=True))
        bounds = self.normalizer.level_range
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            key, _ = self.first(*keys)
            raise Rejected(
                Reason.INVALID_VALUE,
                f"{key}: {value:g} m is outside the levels a gauge here reads ({bounds[0]:g} to {bounds[1]:g} m,"
                " thresholds.drainage_range_m): a sensor's error code?",
            )
        return value

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

    def check_time(self, key: str, value: Any, until_now: bool = False) -> datetime:
        """``value`` as a time; ``until_now``: a time still to come is read as now (the end of
        a period not yet over, by which the value it carries stands now), not refused."""
        if until_now and isinstance(value, str):
            moment = parse_time(value, self.normalizer.zoneless)
            now = self.normalizer.now()
            if moment is not None and moment > now:
                return now
        if not isinstance(value, str):
            raise wrong(key, "an ISO 8601 date-time string", value)
        moment = parse_time(value, self.normalizer.zoneless)
        if moment is None:
            raise Rejected(Reason.INVALID_VALUE, f"{key}: not an ISO 8601 time: {sample(value)}")
        if self._horizon is None:
            self._horizon = self.normalizer.horizon()
        if moment > self._horizon:
            unzoned = "" if names_zone(value) or self.normalizer.zoneless is not UTC else UNZONED
            raise Rejected(Reason.FUTURE_TIME, f"{key}: {moment.isoformat()} is ahead of the clock{unzoned}")
        if moment < EARLIEST_TIME:
            raise Rejected(Reason.INVALID_VALUE, f"{key}: {moment.isoformat()} is before {EARLIEST_TIME.year}")
        return moment

    def location(self, required: bool = False) -> tuple[float, float] | tuple[None, None]:
        """(lat, lon) from a GeoJSON ``location``; other shapes give the centre of their extent."""
        value = self.attrs.get("location")
        if value is None:
            if required:
                raise Rejected(Reason.MISSING_FIELD, "location")
            return None, None
        return lat_lon(value)

    def enum(self, key: str, table: dict[str, Any], default: Any) -> Any:
        """A value looked up case-insensitively in ``table``; unknown values are refused."""
        value = self.attrs.get(key)
        if value is None or value == "":
            return default
        if not isinstance(value, str):
            raise wrong(key, "a string", value)
        found = table.get(value)
        if found is None:
            found = table.get(fold(value))
        if found is None:
            raise Rejected(Reason.INVALID_VALUE, f"{key}: unknown value {sample(value)}")
        return found

    def place(self, lat: float | None, lon: float | None) -> str | None:
        return self.normalizer.kecamatan(self.attrs, lat, lon)


#: No reading is older (the oldest in FIWARE's own examples is from 2010). A critical Alert
#: "issued" in the year 1 went to the head of the unacknowledged queue and took the
#: critical-incident screen over from the real one.
EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)

#: The magnitudes a field's number may have, zero apart.
NUMBER_RANGE = (1e-9, 1e15)

_METRE_FACTORS = {"MTR": 1.0, "CMT": 0.01, "MMT": 0.001, "FOT": 0.3048}  # UN/CEFACT codes


def to_float(key: str, value: Any) -> float:
    """A finite float from a JSON number or a numeric string ("12", " 3.5 ")."""
    if isinstance(value, bool):
        raise wrong(key, "a number", value)
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            raise Rejected(Reason.NON_FINITE_NUMBER, f"{key}: too large") from None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise wrong(key, "a number", value) from None
    else:
        raise wrong(key, "a number", value)
    if not math.isfinite(number):
        raise Rejected(Reason.NON_FINITE_NUMBER, f"{key}: {sample(value)}")
    return number


def lat_lon(geometry: Any) -> tuple[float, float]:
    if not isinstance(geometry, dict):
        raise wrong("location", "a GeoJSON geometry", geometry)
    if geometry.get("type") == "Feature":
        return lat_lon(geometry.get("geometry"))
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if not isinstance(kind, str):  # a list or an object as the type reached the decoder's safety net
        raise wrong("location.type", "a GeoJSON type name", kind)
    if kind == "Point":
        position = coordinates
    elif kind in POSITION_DEPTH:
        position = _extent_centre(coordinates, POSITION_DEPTH[kind])
    else:
        raise wrong("location", "a GeoJSON geometry", geometry)
    if not isinstance(position, list) or len(position) < 2:
        raise wrong("location.coordinates", "[lon, lat]", position)
    lon = to_float("location.coordinates", position[0])
    lat = to_float("location.coordinates", position[1])
    if abs(lon) <= 90 < abs(lat) <= 180:
        lon, lat = lat, lon  # [lat, lon] sent by mistake: only this reading is on Earth
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise Rejected(Reason.COORDINATES_OUT_OF_RANGE, f"location: lat {lat}, lon {lon}")
    return lat, lon


#: How many arrays down a geometry's positions are (RFC 7946): a Polygon is rings of positions.
POSITION_DEPTH = {"LineString": 1, "MultiPoint": 1, "Polygon": 2, "MultiLineString": 2, "MultiPolygon": 3}


def _extent_centre(coordinates: Any, depth: int) -> list[float] | None:
    """Centre of the bounding box of a geometry's positions, found ``depth`` arrays down
    (None if there are none, or any is elsewhere: a Polygon six arrays deep was given a centre)."""
    xs: list[float] = []
    ys: list[float] = []
    stack = [(coordinates, 0)]
    while stack:
        node, level = stack.pop()
        if not isinstance(node, list):
            return None
        if level == depth:
            if len(node) < 2 or isinstance(node[0], list):
                return None
            xs.append(to_float("location.coordinates", node[0]))
            ys.append(to_float("location.coordinates", node[1]))
        else:
            stack.extend((child, level + 1) for child in node)
    if not xs:
        return None
    return [(min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2]


def named_districts(attrs: dict[str, Any]) -> list[str]:
    """Free-text fields that may name a kecamatan, most specific first."""
    names = [attrs.get("kecamatan"), attrs.get("district")]
    address = attrs.get("address")
    if isinstance(address, dict):
        names += [address.get("kecamatan"), address.get("district"), address.get("addressLocality")]
    names.append(attrs.get("areaServed"))
    return [n for n in names if isinstance(n, str) and n.strip()]


def address_text(attrs: dict[str, Any]) -> str | None:
    address = attrs.get("address") or attrs.get("address_string")
    if isinstance(address, dict):
        parts = [address.get(k) for k in ("streetAddress", "addressLocality")]
        address = ", ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    if not isinstance(address, str):
        return None
    address = clean(address).strip()
    return clip(address, ADDRESS_MAX) if address else None


def fold(value: str) -> str:
    """Case, spaces, dashes and underscores carry no meaning in enum values ("Very good")."""
    return "".join(ch for ch in value.lower() if ch.isalnum())


def clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def sample(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= DETAIL_SAMPLE else text[: DETAIL_SAMPLE - 1] + "…"


def wrong(key: str, expected: str, value: Any) -> Rejected:
    return Rejected(Reason.WRONG_TYPE, f"{key}: expected {expected}, got {json_kind(value)} {sample(value)}")
