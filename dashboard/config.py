"""The city's configuration: read ``config.yaml``, apply the environment, validate once.

Configuration is data. Everything a city changes (wall geometry, which panels each screen
shows, feeds, thresholds, targets, language) lives in ``config.yaml``; everything else is
code. A bad file must stop start-up with one line that names the file, the key path and the
reason, so an integrator at a terminal can fix it without reading a traceback.

This module is the door the rest of the product uses (``load_config``, ``Config`` and the
section models are all importable from here). Behind it, one concern per module:

- ``dashboard.yaml_loader``: reading YAML with limits (size, depth, aliases, duplicate keys);
- ``dashboard.config_env``: environment variables that override any key (pydantic-settings);
- ``dashboard.config_sections``: the product's sections (wall, feeds, store, server, ...);
- ``dashboard.config_model``: the root model and the checks that span sections;
- ``dashboard.city_config``, ``dashboard.ops_config``: what differs from city to city;
- ``dashboard.config_errors``: the one-line error, key path and reason, never the value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dashboard.city_config import Kpi
from dashboard.config_env import apply, overrides, source_of
from dashboard.config_errors import ConfigError, dotted, kind_of, one_line
from dashboard.config_model import DEFAULT_CONFIG, Config, available_panels
from dashboard.config_sections import (
    WEEKDAYS,
    Auth,
    City,
    DrainageLevels,
    Feeds,
    History,
    MppTargets,
    MqttFeed,
    Playlist,
    RedisFeed,
    Server,
    Span,
    Store,
    Thresholds,
    Tls,
    Wall,
)
from dashboard.yaml_loader import YamlRefused, load_yaml_bytes, read_file
from feeds.text import clean

__all__ = [
    "DEFAULT_CONFIG",
    "WEEKDAYS",
    "Auth",
    "City",
    "Config",
    "ConfigError",
    "DrainageLevels",
    "Feeds",
    "History",
    "Kpi",
    "MppTargets",
    "MqttFeed",
    "Playlist",
    "RedisFeed",
    "Server",
    "Span",
    "Store",
    "Thresholds",
    "Tls",
    "Wall",
    "available_panels",
    "check_places",
    "config_path",
    "load_config",
]


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The file to read: the command line wins, then CITYWALL_CONFIG, then the shipped default."""
    chosen = explicit or os.environ.get("CITYWALL_CONFIG") or DEFAULT_CONFIG
    return Path(chosen)


def load_config(path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read, override from the environment, validate; raise ConfigError with one clear line.

    ``environ`` defaults to the process environment; tests and scripts pass their own.
    """
    file = config_path(path)
    environ = dict(os.environ) if environ is None else environ
    raw = _read_tree(file)
    base = file.resolve().parent
    if isinstance(raw.get("simulation"), str):
        raw["simulation"] = _data_file(file, base, raw["simulation"])
    found = overrides(environ, file)
    apply(raw, found, file)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(one_line(file, exc, source_of(found), Config)) from None
    config._base_dir = base
    check_places(config, file)
    return config


def _read_tree(file: Path) -> dict[str, Any]:
    """The file as a tree of sections, or one line saying why it cannot be."""
    try:
        raw = load_yaml_bytes(read_file(file))
    except FileNotFoundError:
        if file == DEFAULT_CONFIG:  # an installed package: the default names a file beside its code
            raise ConfigError(
                f"{file}: file not found (the default, read when neither --config nor CITYWALL_CONFIG names a"
                " file; an installed citywall has none of its own: name a city's config.yaml with either)"
            ) from None
        raise ConfigError(f"{file}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror or type(exc).__name__}") from None
    except YamlRefused as exc:
        raise ConfigError(f"{file}: {exc}") from None
    except ValueError:  # a NUL in the path
        raise ConfigError(f"{file}: not a path this machine can open") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{file}:{where} not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if raw is None:  # "got NoneType" did not say the file was empty
        raise ConfigError(f"{file}: the file is empty: a config needs at least the city and pillars sections")
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: (top level): must be a mapping of sections, got {kind_of(raw)}")
    return raw


def _data_file(file: Path, base: Path, name: str) -> Any:
    """``simulation: <file>``: the section lives in a YAML file next to the config."""
    path = Path(name) if Path(name).is_absolute() else base / name
    try:
        data = load_yaml_bytes(read_file(path))  # the config file's own limits (size, depth, aliases)
    except YamlRefused as exc:
        raise ConfigError(f"{file}: simulation: the file it names is refused: {exc}") from None
    except FileNotFoundError:
        raise ConfigError(f"{file}: simulation: file not found ({_shown_path(path)})") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        raise ConfigError(f"{file}: simulation: cannot read the file it names ({type(exc).__name__})") from None
    except yaml.YAMLError:
        raise ConfigError(f"{file}: simulation: the file it names is not valid YAML") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: simulation: the file it names must hold a mapping")
    return data


def _shown_path(path: Path) -> str:
    """A path for a one-line error, cleaned as any outside text is (``feeds.text.clean``), and
    its last 200 characters: the file's name is the end of it."""
    text = clean(str(path))
    return text if len(text) <= 200 else "…" + text[-199:]


#: How far outside every district a configured site may lie: the published boundaries are
#: approximate, and a river gauge may stand on the far bank. The city's extent plus 5 km, as
#: it was, let a gauge 2 km south of a city 8 km across through, and tagged it with the
#: district nearest the message's point.
NEAR_KM = 1.0


#: How far, in hours, a city's zone may be from its sun's (its longitude / 15). Indonesia's are
#: within an hour of theirs, and a neighbouring zone is no further off than that slack allows, so
#: this catches only the zone from elsewhere: ``Etc/GMT+7`` (which is UTC-7) for a city at 112.9
#: degrees east is 14 hours off.
ZONE_SLACK_H = 3.0


def _check_zone(config: Config, longitudes: list[float], file: Path | str) -> None:
    """The zone must be one a city at these longitudes can keep: a valid zone on the wrong side of
    the world passed, and every clock, shift, opening hour and nightly reload ran 14 hours off."""
    if not longitudes:
        return
    lon = sum(longitudes) / len(longitudes)
    year = datetime.now(config.city.tz).year  # winter's and summer's offsets: a zone with DST is judged by either
    offsets = [datetime(year, month, 1, tzinfo=config.city.tz).utcoffset() for month in (1, 7)]
    hours_each = [o.total_seconds() / 3600 if o is not None else 0.0 for o in offsets]
    hours = min(hours_each, key=lambda h: abs(h - lon / 15))
    if abs(hours - lon / 15) > ZONE_SLACK_H:
        raise ConfigError(
            f"{file}: city.timezone: {config.city.timezone} is UTC{hours:+g}, but the districts lie at"
            f" longitude {lon:.1f} (the sun's time there is about UTC{lon / 15:+.1f}); Indonesia's zones are"
            " Asia/Jakarta (WIB), Asia/Pontianak (WIB), Asia/Makassar (WITA) and Asia/Jayapura (WIT)"
        )


def check_places(config: Config, file: Path | str = "config") -> None:
    """The districts GeoJSON must be readable and hold polygons, and every place the config
    names must be one of its districts: otherwise the map is blank and points land nowhere."""
    from feeds.geo import Districts, GeoJsonError

    try:
        districts = Districts.load(config.districts_path())
    except GeoJsonError as exc:  # the path as resolved: a relative name is read beside the config file
        raise ConfigError(f"{file}: city.districts_geojson: {exc} ({_shown_path(config.districts_path())})") from None
    except (OSError, ValueError, RuntimeError):  # a NUL in the name, "~nosuchuser/...", a name too long
        raise ConfigError(f"{file}: city.districts_geojson: not a path this machine can open") from None
    _check_zone(config, [districts.centroid(name)[1] for name in districts.names()], file)
    sim = config.simulation
    where: list[tuple[tuple[Any, ...], str]] = [(("simulation", "places", name), name) for name in sim.places]
    where += [(("simulation", "stations", i, "district"), s.district) for i, s in enumerate(sim.stations)]
    where += [(("simulation", "waste_sites", i, "district"), w.district) for i, w in enumerate(sim.waste_sites)]
    for path, name in where:
        if districts.match(name) is None:
            raise ConfigError(f"{file}: {dotted(path)}: no district of that name in city.districts_geojson")
    # a gauge, a TPS or an MPP copied from another city's config lies outside this one
    sites: list[tuple[str, float, float, str | None]] = [
        (f"simulation.stations.{i}", s.lat, s.lon, s.district) for i, s in enumerate(sim.stations)
    ]
    sites += [(f"simulation.waste_sites.{i}", w.lat, w.lon, w.district) for i, w in enumerate(sim.waste_sites)]
    if config.mpp.location is not None:  # the demo's queues are published from there
        sites.append(("mpp.location", *config.mpp.location, None))
    for key, lat, lon, _ in sites:
        away = districts.km_from(lat, lon)
        if away > NEAR_KM:
            raise ConfigError(f"{file}: {key}: lat {lat}, lon {lon} is {away:.1f} km outside the city's districts")


def sites_elsewhere(config: Config) -> list[str]:
    """Each demo site whose point lies in another district than the one it names: valid (a
    gauge a few metres over a border still runs), but its readings and alerts are counted
    under the other district, so check-config says so."""
    from feeds.geo import Districts

    districts = Districts.load(config.districts_path())
    sim = config.simulation
    named = [(f"simulation.stations.{i}", s.lat, s.lon, s.district) for i, s in enumerate(sim.stations)]
    named += [(f"simulation.waste_sites.{i}", w.lat, w.lon, w.district) for i, w in enumerate(sim.waste_sites)]
    out = []
    for key, lat, lon, district in named:
        at = districts.kecamatan_at(lat, lon)
        if at is not None and at != districts.match(district):
            out.append(f"{key}: lat {lat}, lon {lon} lies in {at}, not in {district}")
    return out
