"""The sections of ``config.yaml`` that set the product itself: wall, feeds, store, limits.

Each section is a small frozen model that forbids unknown keys (a key nobody reads is a typo
until proven otherwise). The root model that ties them together, and the checks that span
sections (a screen number must be on the wall), are in ``dashboard.config_model``; the parts
that describe the city rather than the product are in ``dashboard.city_config`` and
``dashboard.ops_config``.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from dashboard.city_config import Agency, CityTime

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Strict(BaseModel):
    """Unknown keys are typos until proven otherwise, so every section forbids them; and no
    number of the config is NaN or infinite (``.nan`` in a bounding box turned district
    tagging off without a word)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def refuse_gone(data: Any, gone: dict[str, str]) -> Any:
    """A key a config once had is named with why it went: a config copied from an older one
    is told so, not just "unknown key"."""
    for key, why in gone.items():
        if isinstance(data, dict) and key in data:
            raise ValueError(f"{key} is gone: {why}")
    return data


GONE_CITY_KEYS = {
    # nothing drew from it: the map centres on the districts
    "map_center": "the map centres on the districts of city.districts_geojson",
    # one copied from another city's config turned district tagging off without a word
    "bbox": "the districts' own extent is used",
}
#: The incident SLAs were here as well as in ``operations.sla``, and the tablet and the shift
#: report judged the same incidents by different tables (20 % against 60 %).
GONE_THRESHOLD_KEYS = {"incident_sla_min": "set each severity's resolve_min in operations.sla"}


#: Indonesia's zone labels and the UTC offset (hours) each stands for.
INDONESIAN_LABELS = {"WIB": 7, "WITA": 8, "WIT": 9}


class City(Strict):
    name: str = Field(min_length=1, max_length=120)
    slug: str = Field(pattern=r"^[a-z0-9_-]+$")
    timezone: str = "Asia/Jakarta"
    #: default: the zone's own abbreviation (WIB, WITA, WIT); it was WIB whatever the zone
    timezone_label: str = Field(default="", max_length=16)
    language: Literal["id", "en"] = "id"
    districts_geojson: str = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError, RecursionError):  # "Asia" is a folder of zones, not one
            raise ValueError(  # Surabaya, Medan, Bali have no zone of their own
                f"unknown time zone {value[:64]!r}: Indonesia's are Asia/Jakarta (WIB), Asia/Pontianak (WIB),"
                " Asia/Makassar (WITA) and Asia/Jayapura (WIT)"
            ) from None
        return value

    @model_validator(mode="before")
    @classmethod
    def _no_gone_keys(cls, data: Any) -> Any:
        return refuse_gone(data, GONE_CITY_KEYS)

    @model_validator(mode="before")
    @classmethod
    def _label_of_the_zone(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("timezone_label"):
            return data
        zone = data.get("timezone", "Asia/Jakarta")
        try:
            label = datetime.now(ZoneInfo(zone)).tzname()
        except (ZoneInfoNotFoundError, ValueError, TypeError, OSError, RecursionError):  # its own check says what is wrong
            return data
        return {**data, "timezone_label": label or zone}

    @model_validator(mode="after")
    def _indonesian_label_fits_the_zone(self) -> City:
        """WIB, WITA and WIT each mean one offset: a config copied from a WIB city and moved
        to Asia/Makassar kept ``timezone_label: WIB`` and printed WITA times as WIB, an hour
        off to anyone who reads the label. A label in the city's own words is its business."""
        offset_h = INDONESIAN_LABELS.get(self.timezone_label.strip().upper())
        if offset_h is None:
            return self
        now = datetime.now(self.tz)
        utc_offset = now.utcoffset()
        if utc_offset is not None and utc_offset.total_seconds() != offset_h * 3600:
            own = now.tzname() or self.timezone
            raise ValueError(
                f"timezone_label {self.timezone_label!r} is not the label of {self.timezone} ({own}):"
                " write the zone's own or leave timezone_label out"
            )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Span(Strict):
    """One panel stretched over a rectangle of screens (top-left to bottom-right)."""

    panel: str
    top_left: int = Field(ge=1)
    bottom_right: int = Field(ge=1)


class Playlist(Strict):
    """Panels a single screen rotates through, for walls with fewer screens than panels."""

    panels: list[str] = Field(min_length=1)
    every_s: int = Field(default=30, ge=5)


class Wall(Strict):
    columns: int = Field(default=6, ge=1, le=16)
    rows: int = Field(default=4, ge=1, le=16)
    screen_width_px: int = Field(default=1920, ge=320)
    screen_height_px: int = Field(default=1080, ge=240)
    screen_width_mm: float = Field(default=1209.6, gt=0)
    screen_height_mm: float = Field(default=680.4, gt=0)
    bezel_mm: float = Field(default=3.5, ge=0)
    reload_at: CityTime | None = time(3, 0)

    @property
    def screen_count(self) -> int:
        return self.columns * self.rows

    @property
    def bezel_px(self) -> int:
        """The gap between two screens in canvas pixels, so lines stay straight across it."""
        return round(self.screen_width_px * self.bezel_mm / self.screen_width_mm)

    def position(self, screen: int) -> tuple[int, int]:
        """(row, column), 0-based, of a 1-based screen number counted left to right."""
        return divmod(screen - 1, self.columns)


class Tls(Strict):
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False

    @field_validator("ca_file", "cert_file", "key_file")
    @classmethod
    def _readable(cls, path: str | None) -> str | None:
        """A missing file stopped ingest with a traceback that named no key."""
        if path is not None and not Path(path).is_file():
            raise ValueError(f"file not found ({path})")
        return path


def mqtt_filter_problem(topic: str) -> str | None:
    """Why ``topic`` is no MQTT subscription filter, or None: the broker's rules, checked at the
    door, where a bad one had passed and then stopped ingest with a traceback."""
    if not topic or len(topic.encode()) > 65_535 or "\x00" in topic:
        return "must be 1 to 65,535 bytes, without NUL"
    levels = topic.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            return "'#' must be a whole level, and the last"
        if "+" in level and level != "+":
            return "'+' must be a whole level"
    return None


class MqttFeed(Strict):
    url: str | None = None
    topics: list[str] = Field(default_factory=list)  # empty: "<city.slug>/#"
    qos: Literal[0, 1] = 1
    protocol: Literal["5", "3.1.1"] = "5"
    #: a persistent session needs a name; the broker keys the session by it
    client_id: str = Field(default="citywall-ingest", min_length=1, max_length=128)
    #: ``$share/<group>/<filter>``: a name of one level, no wildcard
    shared_group: str | None = Field(default=None, pattern=r"^[^/+#\x00]{1,64}$")
    #: This process's name in the shared group (``citywall-ingest@%i``'s ``%i``): its client id
    #: is then the same after a restart, and the broker gives it back its own session
    member: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    session_expiry_s: int = Field(default=86_400, ge=0)
    username: str | None = None
    password: str | None = None
    tls: Tls | None = None
    status_topic: str = "citywall/status"
    keepalive_s: int = Field(default=30, ge=5)
    #: shared-group members record a heartbeat this often; one silent for two is dead and its
    #: session is emptied by a survivor (see feeds/membership.py)
    heartbeat_s: int = Field(default=5, ge=1, le=300)
    #: while the feed is busy, acknowledgements are held this long at most and sent together:
    #: less CPU, more latency for every message (see feeds/ack_window.py); 0 is off
    hold_ms: int = Field(default=0, ge=0, le=50)
    #: once a message came, what comes next is read for this long at most before it is
    #: handled, a message naming a critical severity ending the wait: less CPU for a busy
    #: feed (see feeds/gather.py); 0 is off, and so is a hold_ms above 0
    gather_ms: int = Field(default=20, ge=0, le=50)

    @field_validator("qos", mode="before")
    @classmethod
    def _qos_from_text(cls, value: object) -> object:
        """An environment variable is text, and a choice of numbers takes no text: ``"0"`` and
        ``"1"`` are the numbers they spell (any other text still fails as "0 or 1")."""
        return int(value) if value in ("0", "1") else value

    @field_validator("topics")
    @classmethod
    def _filters(cls, topics: list[str]) -> list[str]:
        for i, topic in enumerate(topics):
            problem = mqtt_filter_problem(topic)
            if problem:
                raise ValueError(f"item {i} ({topic!r}): {problem}")
        return topics

    @field_validator("status_topic")
    @classmethod
    def _status_topic(cls, topic: str) -> str:
        """A topic published to: no wildcard (the client refused it when ingest started)."""
        if not topic or "+" in topic or "#" in topic or "\x00" in topic:
            raise ValueError(f"{topic!r}: a topic to publish to, without '+' or '#'")
        return topic

    @field_validator("url")
    @classmethod
    def _mqtt_url(cls, value: str | None) -> str | None:
        """Parsed here, so a wrong port or a stray character in the password stops start-up
        with a line that names the key; it was a traceback from the MQTT client."""
        if value is not None:
            from feeds.mqtt import parse_url

            parse_url(value)  # ValueError, worded without the URL (it may carry a password)
        return value


class RedisFeed(Strict):
    url: str | None = None
    streams: list[str] = Field(default_factory=list)  # empty: "<city.slug>:events"
    field: str = "data"
    group: str = "citywall"
    consumer: str | None = None
    channels: list[str] = Field(default_factory=list)

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        """Parsed as the store's URL is: a ``#`` in the password passed a check of the prefix
        alone, and the feed then failed to connect, for ever, quoting part of the password."""
        if value is None:
            return value
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        from dashboard.store.redis_client import parse

        parse(value)  # ValueError, worded without the URL (it may carry a password)
        return value


class Feeds(Strict):
    mqtt: MqttFeed = MqttFeed()
    redis: RedisFeed = RedisFeed()
    max_payload_bytes: int = Field(default=64 * 1024, ge=256, le=16 * 1024 * 1024)
    max_future_s: int = Field(default=300, ge=0)
    dead_letters_kept: int = Field(default=500, ge=0, le=10_000)
    #: how a time stamp that names no zone is read: ``utc`` as NGSI has it, or ``city``, in the
    #: city's ``timezone``, for field systems that send their local time without an offset
    zoneless_times: Literal["utc", "city"] = "utc"


class Store(Strict):
    url: str = "memory://"
    key_prefix: str = "citywall"

    @field_validator("url")
    @classmethod
    def _store_scheme(cls, value: str) -> str:
        """memory://, or a single Redis, a Cluster or a Sentinel master (see
        ``dashboard.store.redis_client``); checked here so a typo stops start-up, not ingest."""
        if value.startswith("memory://"):
            return value
        from dashboard.store.redis_client import parse

        parse(value)  # ValueError, worded without the URL (it may carry a password)
        return value

    @property
    def backend(self) -> Literal["memory", "redis"]:
        return "memory" if self.url.startswith("memory://") else "redis"


class History(Strict):
    """Bounds on everything that grows, so a wall that runs for weeks stays flat in memory."""

    series_points: int = Field(default=1_440, ge=10)
    series_age_h: int = Field(default=24 * 31, ge=1)
    resolved_days: int = Field(default=7, ge=0)
    open_incidents_max: int = Field(default=20_000, ge=100)
    reports_max: int = Field(default=20_000, ge=100)
    ticker_events: int = Field(default=50, ge=5, le=500)
    # distinct ids per kind; a new id past its cap is dead-lettered as too_many_entities
    stations_max: int = Field(default=2_000, ge=1)
    sites_max: int = Field(default=5_000, ge=1)
    queues_max: int = Field(default=1_000, ge=1)
    kpis_max: int = Field(default=500, ge=1)


class DrainageLevels(Strict):
    """Water level in metres at which a station enters each Indonesian alert stage."""

    waspada: float
    siaga: float
    awas: float

    @model_validator(mode="after")
    def _rising(self) -> DrainageLevels:
        if not self.waspada < self.siaga < self.awas:
            raise ValueError("levels must rise: waspada < siaga < awas")
        return self


class LevelRange(Strict):
    """The water levels, in metres, that a gauge of this city can read. A reading outside is
    a failing sensor's error code (9999, -9999) or a unit slip, not a flood: it is
    dead-lettered, where as a level it raised AWAS on the wall."""

    low: float = -20.0
    high: float = 50.0

    @model_validator(mode="after")
    def _ordered(self) -> LevelRange:
        if not self.low < self.high:
            raise ValueError("low must be below high")
        return self


#: The panel families a staleness limit of their own may be set for.
PanelFamily = Literal["incidents", "drainage", "waste", "mpp", "kpis"]


#: Tenants of an MPP at most: Pekanbaru's has 26; a slip of 100,000 made the simulator's
#: queues pass the store's caps, and -3 made it divide by zero.
MPP_AGENCIES_MAX = 500


def _default_stale_after_family() -> dict[PanelFamily, int]:
    return {"incidents": 300, "waste": 300, "mpp": 900, "kpis": 900}


class Thresholds(Strict):
    stale_after_s: int = Field(default=60, ge=1)
    stale_after_family_s: dict[PanelFamily, Annotated[int, Field(ge=1)]] = Field(default_factory=_default_stale_after_family)
    drainage: DrainageLevels = DrainageLevels(waspada=1.5, siaga=2.0, awas=2.5)
    drainage_stations: dict[str, DrainageLevels] = Field(default_factory=dict)
    drainage_range_m: LevelRange = LevelRange()
    waste_full: float = Field(default=0.8, gt=0, le=1)
    waste_report_sla_h: int = Field(default=24, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _no_gone_keys(cls, data: Any) -> Any:
        return refuse_gone(data, GONE_THRESHOLD_KEYS)

    @field_validator("stale_after_family_s", mode="before")
    @classmethod
    def _families_keep_their_defaults(cls, given: Any) -> Any:
        """A city that sets one family keeps the others' defaults: setting ``incidents`` alone
        had left the MPP stale after 60 s instead of its 900."""
        return {**_default_stale_after_family(), **given} if isinstance(given, dict) else given

    @model_validator(mode="after")
    def _stages_within_range(self) -> Thresholds:
        """A stage past the gauges' range could never be reached, nor its flood shown."""
        span = self.drainage_range_m
        for where, levels in [
            ("drainage", self.drainage),
            *((f"drainage_stations.{k}", v) for k, v in self.drainage_stations.items()),
        ]:
            if not (span.low <= levels.waspada and levels.awas <= span.high):
                raise ValueError(
                    f"{where}: its levels ({levels.waspada:g} to {levels.awas:g} m) must lie within"
                    f" drainage_range_m ({span.low:g} to {span.high:g} m)"
                )
        return self

    def stale_after(self, family: str) -> int:
        """A family's staleness limit, or the general one. Takes any name: the keys are checked
        at the door, lookups come from stored data whose family is just text."""
        return cast(dict[str, int], self.stale_after_family_s).get(family, self.stale_after_s)


class MppTargets(Strict):
    permits_per_day: int = Field(default=700, ge=0)
    permits_busy_day: int = Field(default=1_000, ge=0)
    busy_weekdays: list[Literal[WEEKDAYS]] = Field(default_factory=lambda: ["monday", "friday"])  # type: ignore[valid-type]
    services: int = Field(default=0, ge=0)
    #: how many tenants, or the tenants themselves (the simulator's queues follow them)
    agencies: Annotated[
        Annotated[int, Tag("count"), Field(ge=0, le=MPP_AGENCIES_MAX)]
        | Annotated[list[Agency], Tag("tenants"), Field(max_length=MPP_AGENCIES_MAX)],
        # one tenant's typo was reported as "mpp.agencies.int: Input should be a valid integer"
        Discriminator(lambda v: "tenants" if isinstance(v, list) else "count"),
    ] = Field(default=0)
    name: str = ""  # "Mal Pelayanan Publik Kota Pekanbaru"
    location: tuple[float, float] | None = None  # lat, lon
    #: opening hours (city time) and days: how much of the day's target is due by a moment
    opens: CityTime = time(8, 0)
    closes: CityTime = time(16, 0)
    open_weekdays: list[Literal[WEEKDAYS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["monday", "tuesday", "wednesday", "thursday", "friday"]
    )
    #: public holidays and collective leave (cuti bersama): closed, so no target is due. Without
    #: them every national holiday stood "bad" on the tablet, 0 of 700 permits.
    closed_dates: list[date] = Field(default_factory=list, max_length=400)

    @model_validator(mode="after")
    def _open_some_time(self) -> MppTargets:
        if self.closes <= self.opens:
            raise ValueError(f"closes ({self.closes:%H:%M}) must be after opens ({self.opens:%H:%M})")
        return self

    @model_validator(mode="after")
    def _busy_day_is_busier(self) -> MppTargets:
        """The two targets swapped (busy 700, normal 1,000) passed, and the tablet then held the
        quiet days to the higher one and the busy days to the lower."""
        if self.busy_weekdays and self.permits_busy_day < self.permits_per_day:
            raise ValueError(
                f"permits_busy_day ({self.permits_busy_day}) is below permits_per_day ({self.permits_per_day}):"
                " a busy day's target is the higher one"
            )
        return self

    @model_validator(mode="after")
    def _busy_on_open_days(self) -> MppTargets:
        """A busy day the MPP is closed is a target that never applies: the default Monday and
        Friday kept by a city open Saturday to Thursday meant another busy day was forgotten."""
        closed = [day for day in self.busy_weekdays if day not in self.open_weekdays]
        if closed:
            raise ValueError(f"busy_weekdays {', '.join(closed)}: the MPP is not open that day (open_weekdays)")
        return self

    @property
    def agency_count(self) -> int:
        return len(self.agencies) if isinstance(self.agencies, list) else self.agencies


class Server(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8050, ge=1, le=65_535)
    websocket: bool = True
    poll_ms: int = Field(default=1_000, ge=100)
    # hardening (see dashboard/web_security.py): docs off, origins, sizes, connections
    api_docs: bool = False
    allowed_origins: list[str] = Field(default_factory=list, max_length=64)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1_024, le=64 * 1024 * 1024)
    max_callback_bytes: int = Field(default=256 * 1024, ge=1_024, le=16 * 1024 * 1024)
    max_response_bytes: int = Field(default=32 * 1024 * 1024, ge=64 * 1024)
    max_connections_per_client: int = Field(default=48, ge=1)  # a wall controller opens 24, plus reconnects
    max_connections: int = Field(default=200, ge=1)  # pushing pages; more fall back to the poll
    screens_expected: int | None = Field(default=None, ge=0)  # default: the wall's screen count
    heartbeat_s: int = Field(default=10, ge=1, le=600)  # how often each open screen reports

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        """An origin is what a browser sends: ``scheme://host[:port]``, nothing after. With a
        trailing slash, or without the scheme, it never matched, and logins were refused."""
        for i, origin in enumerate(origins):
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or origin != f"{parts.scheme}://{parts.netloc}":
                raise ValueError(f"item {i} ({origin!r}): write it as https://host[:port], with nothing after")
        return origins


class Auth(Strict):
    """Who may read and write. Closed by default: reading needs a login or a kiosk token.

    The cookie-signing secret is not here on purpose: it comes from ``CITYWALL_SECRET_KEY`` or
    is generated once and kept in the store, so it never sits in a file or a log.
    """

    anonymous_read: bool = False
    session_ttl_h: int = Field(default=12, ge=1, le=24 * 30)
    users_file: str | None = None
    secure_cookies: bool = False
