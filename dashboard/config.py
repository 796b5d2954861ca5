"""The city's configuration: one pydantic model, validated once at start-up.

Configuration is data. Everything a city changes (wall geometry, which panels each screen
shows, feeds, thresholds, targets, language) lives in ``config.yaml``; everything else is
code. A bad file must stop start-up with one line that names the file, the key path and the
reason, so an integrator at a terminal can fix it without reading a traceback.
"""

from __future__ import annotations

import os
import pkgutil
from datetime import time
from pathlib import Path
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from dashboard.city_config import Agency, ComplaintChannel, Kpi, Pillar, Simulation
from dashboard.ops_config import Operations
from dashboard.yaml_loader import YamlRefused, load_yaml_bytes

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


#: A config error is one line on a terminal; a longer one is cut (it never carries a value).
ERROR_MAX = 300


class ConfigError(Exception):
    """A configuration that cannot run; its message is the one line the user sees."""

    def __init__(self, message: str) -> None:
        message = " ".join(message.split())
        super().__init__(message if len(message) <= ERROR_MAX else message[: ERROR_MAX - 1] + "…")


class Strict(BaseModel):
    """Unknown keys are typos until proven otherwise, so every section forbids them."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def available_panels() -> set[str]:
    """Panel names are the module names in ``layouts/panels``: one file is one panel.

    Listing the modules (not importing them) keeps ``check-config`` fast and free of Dash.
    """
    import layouts.panels

    return {m.name for m in pkgutil.iter_modules(layouts.panels.__path__) if not m.name.startswith("_")}


class City(Strict):
    name: str
    slug: str = Field(pattern=r"^[a-z0-9_-]+$")
    timezone: str = "Asia/Jakarta"
    timezone_label: str = "WIB"
    language: Literal["id", "en"] = "id"
    districts_geojson: str = Field(min_length=1)
    map_center: tuple[float, float] | None = None  # lat, lon; None: the middle of the districts
    bbox: tuple[float, float, float, float] | None = None  # lon/lat min/max; None: the districts' own

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

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
    reload_at: time | None = time(3, 0)

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


class MqttFeed(Strict):
    url: str | None = None
    topics: list[str] = Field(default_factory=list)  # empty: "<city.slug>/#"
    qos: Literal[0, 1] = 1
    protocol: Literal["5", "3.1.1"] = "5"
    client_id: str = "citywall-ingest"
    shared_group: str | None = None
    session_expiry_s: int = Field(default=86_400, ge=0)
    username: str | None = None
    password: str | None = None
    tls: Tls | None = None
    status_topic: str = "citywall/status"
    keepalive_s: int = Field(default=30, ge=5)
    #: shared-group members record a heartbeat this often; one silent for two is dead and its
    #: session is emptied by a survivor (see feeds/membership.py)
    heartbeat_s: int = Field(default=5, ge=1, le=300)

    @field_validator("url")
    @classmethod
    def _mqtt_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("mqtt://", "mqtts://")):
            raise ValueError("must start with mqtt:// or mqtts://")
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
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value


class Feeds(Strict):
    mqtt: MqttFeed = MqttFeed()
    redis: RedisFeed = RedisFeed()
    max_payload_bytes: int = Field(default=64 * 1024, ge=256)
    max_future_s: int = Field(default=300, ge=0)
    dead_letters_kept: int = Field(default=500, ge=0, le=10_000)


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


#: The panel families a staleness limit of their own may be set for.
PanelFamily = Literal["incidents", "drainage", "waste", "mpp", "kpis"]
#: The severities an incident SLA may be set for.
SeverityName = Literal["critical", "high", "medium", "low", "informational"]


def _default_stale_after_family() -> dict[PanelFamily, int]:
    return {"incidents": 300, "waste": 300, "mpp": 900, "kpis": 900}


def _default_incident_sla() -> dict[SeverityName, int]:
    return {"critical": 30, "high": 60, "medium": 240, "low": 1_440, "informational": 2_880}


class Thresholds(Strict):
    stale_after_s: int = Field(default=60, ge=1)
    stale_after_family_s: dict[PanelFamily, int] = Field(default_factory=_default_stale_after_family)
    drainage: DrainageLevels = DrainageLevels(waspada=1.5, siaga=2.0, awas=2.5)
    drainage_stations: dict[str, DrainageLevels] = Field(default_factory=dict)
    waste_full: float = Field(default=0.8, gt=0, le=1)
    incident_sla_min: dict[SeverityName, int] = Field(default_factory=_default_incident_sla)
    waste_report_sla_h: int = Field(default=24, ge=1)

    def stale_after(self, family: str) -> int:
        """A family's staleness limit, or the general one. Takes any name: the keys are checked
        at the door, lookups come from stored data whose family is just text."""
        return cast(dict[str, int], self.stale_after_family_s).get(family, self.stale_after_s)

    def sla_minutes(self, severity: str, default: int) -> int:
        """The SLA for a severity read from a stored document (text), or ``default``."""
        return cast(dict[str, int], self.incident_sla_min).get(severity, default)


class MppTargets(Strict):
    permits_per_day: int = Field(default=700, ge=0)
    permits_busy_day: int = Field(default=1_000, ge=0)
    busy_weekdays: list[Literal[WEEKDAYS]] = Field(default_factory=lambda: ["monday", "friday"])  # type: ignore[valid-type]
    services: int = Field(default=0, ge=0)
    #: how many tenants, or the tenants themselves (the simulator's queues follow them)
    agencies: int | list[Agency] = Field(default=0)
    name: str = ""  # "Mal Pelayanan Publik Kota Pekanbaru"
    location: tuple[float, float] | None = None  # lat, lon

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


class Auth(Strict):
    """Who may read and write. Closed by default: reading needs a login or a kiosk token.

    The cookie-signing secret is not here on purpose: it comes from ``CITYWALL_SECRET_KEY`` or
    is generated once and kept in the store, so it never sits in a file or a log.
    """

    anonymous_read: bool = False
    session_ttl_h: int = Field(default=12, ge=1, le=24 * 30)
    users_file: str | None = None
    secure_cookies: bool = False


class Config(Strict):
    city: City
    wall: Wall = Wall()
    screens: dict[int, list[str]] = Field(default_factory=dict)
    spans: list[Span] = Field(default_factory=list)
    playlists: dict[int, Playlist] = Field(default_factory=dict)
    feeds: Feeds = Feeds()
    store: Store = Store()
    history: History = History()
    thresholds: Thresholds = Thresholds()
    mpp: MppTargets = MppTargets()
    pillars: list[Pillar] = Field(min_length=3, max_length=8)
    complaints: list[ComplaintChannel] = Field(default_factory=list, max_length=20)
    simulation: Simulation = Simulation()
    server: Server = Server()
    operations: Operations = Operations()
    auth: Auth = Auth()
    #: the folder relative paths in the config start from: the config file's own folder
    _base_dir: Path = PrivateAttr(default=DEFAULT_CONFIG.parent)

    @model_validator(mode="before")
    @classmethod
    def _feeds_named_for_the_city(cls, raw: Any) -> Any:
        """Topics and streams left out are named after the city's slug, not any one city."""
        if not isinstance(raw, dict) or not isinstance(raw.get("city"), dict) or not isinstance(raw["city"].get("slug"), str):
            return raw
        slug = raw["city"]["slug"]
        feeds = _mapping(raw.get("feeds"))
        mqtt = _mapping(feeds.get("mqtt"))
        redis = _mapping(feeds.get("redis"))
        if not mqtt.get("topics"):
            mqtt = {**mqtt, "topics": [f"{slug}/#"]}
        if "streams" not in redis:
            redis = {**redis, "streams": [f"{slug}:events"]}
        return {**raw, "feeds": {**feeds, "mqtt": mqtt, "redis": redis}}

    @model_validator(mode="after")
    def _operations_fit_the_wall(self) -> Config:
        """Presets and takeover rules name screens and panels: both must exist."""
        count, known = self.wall.screen_count, available_panels()
        for i, preset in enumerate(self.operations.presets):
            for screen, names in preset.screens.items():
                if not 1 <= screen <= count:
                    raise _at(("operations", "presets", i, "screens", screen), f"screen {screen} is outside the wall (1-{count})")
                for j, name in enumerate(names):
                    if name not in known:
                        raise _at(("operations", "presets", i, "screens", screen, j), _unknown_panel(name, known))
        for i, rule in enumerate(self.operations.takeovers):
            if rule.screen > count:
                raise _at(("operations", "takeovers", i, "screen"), f"screen {rule.screen} is outside the wall (1-{count})")
        return self

    @model_validator(mode="after")
    def _screens_fit_the_wall(self) -> Config:
        count = self.wall.screen_count
        known = available_panels()
        where = f"the {self.wall.columns}x{self.wall.rows} wall (screens 1-{count})"
        for screen, panels in self.screens.items():
            if not 1 <= screen <= count:
                raise _at(("screens", screen), f"screen {screen} is outside {where}")
            for i, name in enumerate(panels):
                if name not in known:
                    raise _at(("screens", screen, i), _unknown_panel(name, known))
        for screen, playlist in self.playlists.items():
            if not 1 <= screen <= count:
                raise _at(("playlists", screen), f"screen {screen} is outside {where}")
            for i, name in enumerate(playlist.panels):
                if name not in known:
                    raise _at(("playlists", screen, "panels", i), _unknown_panel(name, known))
        taken: dict[int, str] = {}
        for i, span in enumerate(self.spans):
            if span.panel not in known:
                raise _at(("spans", i, "panel"), _unknown_panel(span.panel, known))
            for field in ("top_left", "bottom_right"):
                n = getattr(span, field)
                if n > count:
                    raise _at(("spans", i, field), f"screen {n} is outside {where}")
            (r0, c0), (r1, c1) = self.wall.position(span.top_left), self.wall.position(span.bottom_right)
            if r1 < r0 or c1 < c0:
                raise _at(("spans", i), "bottom_right must be below and right of top_left")
            for screen in self.span_screens(span):
                if screen in self.screens or screen in taken:
                    other = "screens" if screen in self.screens else f"span {taken[screen]}"
                    raise _at(("spans", i), f"screen {screen} is already used by {other}")
                taken[screen] = span.panel
        first: dict[str, int] = {}
        for i, pillar in enumerate(self.pillars):
            if pillar.id in first:
                raise _at(("pillars", i, "id"), f"the same id as pillars.{first[pillar.id]}")
            first[pillar.id] = i
        ids = [kpi.id for _, kpi in self.kpis()]
        duplicates = {k for k in ids if ids.count(k) > 1}
        if duplicates:
            raise _at(("pillars",), f"KPI ids must be unique, repeated: {', '.join(sorted(duplicates))}")
        seen: dict[str, int] = {}
        for i, channel in enumerate(self.complaints):
            if channel.id in seen:
                raise _at(("complaints", i, "id"), f"the same id as complaints.{seen[channel.id]}")
            seen[channel.id] = i
        return self

    def span_screens(self, span: Span) -> list[int]:
        (r0, c0), (r1, c1) = self.wall.position(span.top_left), self.wall.position(span.bottom_right)
        return [r * self.wall.columns + c + 1 for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]

    def span_at(self, screen: int) -> Span | None:
        return next((s for s in self.spans if screen in self.span_screens(s)), None)

    def kpis(self) -> list[tuple[str, Kpi]]:
        return [(pillar.id, kpi) for pillar in self.pillars for kpi in pillar.kpis]

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    def resolve(self, name: str) -> Path:
        """A path from the config: relative ones start next to the config file."""
        path = Path(name).expanduser()
        return path if path.is_absolute() else self._base_dir / path

    def districts_path(self) -> Path:
        return self.resolve(self.city.districts_geojson)


class _LocatedError(ValueError):
    """A cross-field error that knows its key path, so the message can name it exactly."""

    def __init__(self, path: tuple[Any, ...], reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


def _at(path: tuple[Any, ...], reason: str) -> _LocatedError:
    return _LocatedError(path, reason)


def _unknown_panel(name: str, known: set[str]) -> str:
    return f"no panel named {name!r} (known: {', '.join(sorted(known))})"


ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "CITYWALL_MQTT_URL": ("feeds", "mqtt", "url"),
    "CITYWALL_REDIS_URL": ("feeds", "redis", "url"),
    "CITYWALL_STORE_URL": ("store", "url"),
    "CITYWALL_LANGUAGE": ("city", "language"),
    "CITYWALL_MQTT_CLIENT_ID": ("feeds", "mqtt", "client_id"),
    "CITYWALL_MQTT_SHARED_GROUP": ("feeds", "mqtt", "shared_group"),
    "CITYWALL_AUTH_ANONYMOUS_READ": ("auth", "anonymous_read"),
}


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The file to read: the command line wins, then CITYWALL_CONFIG, then the shipped default."""
    chosen = explicit or os.environ.get("CITYWALL_CONFIG") or DEFAULT_CONFIG
    return Path(chosen)


def load_config(path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read, override from the environment, validate; raise ConfigError with one clear line."""
    file = config_path(path)
    environ = dict(os.environ) if environ is None else environ
    try:
        raw = load_yaml_bytes(file.read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"{file}: file not found") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None
    except YamlRefused as exc:
        raise ConfigError(f"{file}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{file}:{where} not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: (top level): must be a mapping of sections, got {type(raw).__name__}")
    for var, keys in ENV_OVERRIDES.items():
        if environ.get(var):
            _set_path(raw, keys, environ[var])
    base = file.resolve().parent
    if isinstance(raw.get("simulation"), str):
        raw["simulation"] = _data_file(file, base, raw["simulation"])
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_one_line(file, exc)) from None
    config._base_dir = base
    check_places(config, file)
    return config


def _data_file(file: Path, base: Path, name: str) -> Any:
    """``simulation: <file>``: the section lives in a YAML file next to the config."""
    path = Path(name) if Path(name).is_absolute() else base / name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: simulation: cannot read the file it names ({type(exc).__name__})") from None
    except yaml.YAMLError:
        raise ConfigError(f"{file}: simulation: the file it names is not valid YAML") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: simulation: the file it names must hold a mapping")
    return data


def check_places(config: Config, file: Path | str = "config") -> None:
    """The districts GeoJSON must be readable and hold polygons, and every place the config
    names must be one of its districts: otherwise the map is blank and points land nowhere."""
    from feeds.geo import Districts, GeoJsonError

    try:
        districts = Districts.load(config.districts_path())
    except GeoJsonError as exc:
        raise ConfigError(f"{file}: city.districts_geojson: {exc}") from None
    sim = config.simulation
    where: list[tuple[tuple[Any, ...], str]] = [(("simulation", "places", name), name) for name in sim.places]
    where += [(("simulation", "stations", i, "district"), s.district) for i, s in enumerate(sim.stations)]
    where += [(("simulation", "waste_sites", i, "district"), s.district) for i, s in enumerate(sim.waste_sites)]
    for path, name in where:
        if districts.match(name) is None:
            dotted = ".".join(str(p) for p in path)
            raise ConfigError(f"{file}: {dotted}: no district of that name in city.districts_geojson")


def _set_path(tree: dict[str, Any], keys: tuple[str, ...], value: str) -> None:
    for key in keys[:-1]:
        node = tree.get(key)
        if not isinstance(node, dict):
            node = tree[key] = {}
        tree = node
    tree[keys[-1]] = value


def _one_line(file: Path, exc: ValidationError) -> str:
    """The first error, as ``file: key.path: reason``; pydantic's own text is too long for a terminal."""
    error: dict[str, Any] = dict(exc.errors()[0])  # pydantic's ErrorDetails, as a plain dict
    located = (error.get("ctx") or {}).get("error")
    if isinstance(located, _LocatedError):
        path, reason = located.path, located.reason
    else:
        path = tuple(p for p in error["loc"] if not (isinstance(p, str) and (p.startswith("function-") or p == "[key]")))
        reason = _reason(error)
    dotted = ".".join(str(p) for p in path) or "(top level)"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more)" if more > 0 else ""
    return f"{file}: {dotted}: {reason}{suffix}"


def _mapping(value: Any) -> dict[str, Any]:
    """A raw YAML section as a dict, or an empty one when it is absent or not a mapping (the
    field validation that follows reports the latter with its key path)."""
    return value if isinstance(value, dict) else {}


def _reason(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind == "literal_error" and "[key]" in error["loc"]:
        return f"not a known name ({message.removeprefix('Input should be ')})"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"{message} (got {_kind_of(error.get('input'))})"  # the kind, never the value: it may be a password
    return message


def _kind_of(value: Any) -> str:
    """What a YAML value is, in YAML's words."""
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "a mapping"}.get(type(value), type(value).__name__)
