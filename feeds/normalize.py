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

The steps, in the order a message meets them: ``feeds.payload`` (bytes -> one JSON object),
``feeds.ngsi`` (the four NGSI wire forms -> one flat dict), ``feeds.mappers`` (the model's
``type`` -> its mapper -> one typed event), reading through ``feeds.fields`` (limits,
repairs and refusals shared by every model). ``Normalizer`` ties them together and owns what
needs the city and the clock: the district map and the future-time horizon.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, NamedTuple

from feeds.channels import ChannelRule
from feeds.events import Event
from feeds.fields import NAME_MAX, Fields, clip, named_districts
from feeds.geo import Districts
from feeds.mappers import route
from feeds.ngsi import Form, unwrap
from feeds.payload import parse_payload
from feeds.text import clean

__all__ = ["Decoded", "Normalizer", "now_utc"]


def now_utc() -> datetime:
    """The default clock; injected so tests and replays can pin "now"."""
    return datetime.now(UTC)


class Decoded(NamedTuple):
    """An event with the NGSI form its message arrived in (for metrics and the conformance report)."""

    event: Event
    form: Form


class Normalizer:
    """Turns payloads into events; one instance per process, shared by every adapter.

    ``districts`` tags located events with their kecamatan (None: no tagging, an explicit
    ``kecamatan`` field is kept as sent). ``bbox`` (lon_min, lat_min, lon_max, lat_max)
    limits the district lookup to the city's box, so far-away points cost one comparison.
    ``level_range`` (low, high) bounds the water levels a gauge may report, in metres;
    ``zoneless`` is the zone a time stamp naming none is read in.
    """

    def __init__(
        self,
        districts: Districts | None,
        bbox: tuple[float, float, float, float] | None,
        max_payload_bytes: int,
        max_future_s: int,
        clock: Callable[[], datetime] = now_utc,
        channels: Sequence[ChannelRule] = (),
        language: str = "id",
        level_range: tuple[float, float] | None = None,
        zoneless: tzinfo = UTC,
    ) -> None:
        self.channels = tuple(channels)
        #: a text sent in several languages is read in the city's first (an English wall
        #: showed the Indonesian of every LanguageProperty)
        self.languages = (language, *(x for x in ("id", "en") if x != language))
        self.districts = districts
        self.bbox = bbox
        self.max_payload_bytes = max_payload_bytes
        self.max_future = timedelta(seconds=max_future_s)
        self.clock = clock
        self.level_range = level_range
        self.zoneless = zoneless

    def decode(self, payload: bytes | bytearray | memoryview | str, origin: str = "") -> Event:
        """The event a payload carries; raises ``Rejected`` naming the first problem found.
        ``origin`` (topic, or ``stream#id``) tells a complaint app's reports apart."""
        return self.decode_with_form(payload, origin).event

    def decode_with_form(self, payload: bytes | bytearray | memoryview | str, origin: str = "") -> Decoded:
        """Like ``decode``, and also says which NGSI form the message used."""
        return self.from_entity(parse_payload(payload, self.max_payload_bytes), origin)

    def from_entity(self, entity: dict[str, Any], origin: str = "") -> Decoded:
        """Map an already parsed JSON object (the checks after "not an object")."""
        canonical, mapper = route(entity.get("type"))
        flat = unwrap(entity, self.languages)
        fields = Fields(flat.attrs, flat.units, self)
        if origin and self.channels:
            fields.channel = next((c for c in self.channels if c.matches(origin)), None)
        return Decoded(mapper(fields, canonical), flat.form)

    # used by the mappers ------------------------------------------------------------

    def horizon(self) -> datetime:
        """The latest acceptable message time: now plus the allowed clock skew."""
        return self.clock() + self.max_future

    def now(self) -> datetime:
        return self.clock()

    def kecamatan(self, attrs: dict[str, Any], lat: float | None, lon: float | None) -> str | None:
        """An explicit district name wins when it names a known district; else the map decides."""
        if self.districts is None:
            named = attrs.get("kecamatan")
            return clip(clean(named).strip(), NAME_MAX) if isinstance(named, str) and clean(named).strip() else None
        for name in named_districts(attrs):
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
