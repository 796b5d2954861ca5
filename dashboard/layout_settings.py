"""The config, translated into the plain settings ``layouts`` takes (it never sees pydantic).

Named for what it holds: the layouts' settings (``layouts.ports.ViewSettings``), made once per
app by the factory. A panel's ``view()`` is something else: what it reads of the picture.
"""

from __future__ import annotations

from datetime import time

from dashboard.config import Config
from dashboard.kpis import DERIVED
from feeds.geo import Districts
from layouts.ports import PillarInfo, Span, ViewSettings, WallGeometry


def view_settings(config: Config) -> ViewSettings:
    wall = config.wall
    return ViewSettings(
        city_name=config.city.name,
        language=config.city.language,
        timezone=config.city.timezone,
        timezone_label=config.city.timezone_label,
        wall=WallGeometry(wall.columns, wall.rows, wall.screen_width_px, wall.screen_height_px, wall.bezel_px),
        screens={n: tuple(p) for n, p in config.screens.items()},
        spans=tuple(Span(s.panel, tuple(config.span_screens(s)), s.top_left, s.bottom_right) for s in config.spans),
        playlists={n: (tuple(p.panels), p.every_s) for n, p in config.playlists.items()},
        poll_ms=config.server.poll_ms,
        heartbeat_s=config.server.heartbeat_s,
        stale_after_s=config.thresholds.stale_after_s,
        reload_at=wall.reload_at.strftime("%H:%M") if wall.reload_at else None,
        districts_geojson=_geojson(config),
        pillars=tuple(PillarInfo(p.id, p.label(config.city.language), p.icon) for p in config.pillars),
        kpi_families=tuple(sorted({"kpis" if k.source == "message" else DERIVED[k.id].family for _, k in config.kpis()})),
        presets={p.name: {n: tuple(names) for n, names in p.screens.items()} for p in config.operations.presets},
        mpp_hours=(config.mpp.opens.hour, _closing_hour(config.mpp.closes)),
    )


def _closing_hour(closes: time) -> int:
    """The last hour the MPP serves in: 16 for 16:30, 15 for 16:00."""
    return closes.hour if closes.minute else max(0, closes.hour - 1)


def _geojson(config: Config) -> dict | None:
    """The districts as the map draws them: one outline per district, kept to a size that
    every map update can carry (``feeds.geo.Districts.drawing``)."""
    path = config.districts_path()
    return Districts.load(path).drawing() if path.exists() else None
