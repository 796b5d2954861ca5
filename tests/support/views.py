"""What the panel tests draw from: view settings for a small wall, and the rows of a picture."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from layouts.ports import ViewSettings, WallGeometry
from layouts.sections import GaugeRow, StageLevels

#: Friday 14:32 WIB.
NOW = "2024-07-05T07:32:00+00:00"


def wall_settings(
    language: str = "id",
    city_name: str = "Kota Pekanbaru",
    size: tuple[int, int] = (6, 4),
    screens: dict[int, tuple[str, ...]] | None = None,
    **more: Any,
) -> ViewSettings:
    """A wall of ``size`` (columns, rows) of 1920 x 1080 screens in WIB."""
    return ViewSettings(
        city_name=city_name,
        language=language,
        timezone="Asia/Jakarta",
        timezone_label="WIB",
        wall=WallGeometry(size[0], size[1], 1920, 1080, 6),
        screens=screens or {},
        **more,
    )


def gauge(
    station_id: str,
    name: str,
    stage: str,
    level_m: float = 1.6,
    kecamatan: str = "Rumbai",
    trend: Sequence[Any] = (),
    gauge_id: str | None = None,
) -> GaugeRow:
    """A drainage station's row, its stages at 1,5 / 2,0 / 2,5 m."""
    return GaugeRow(
        id=gauge_id or station_id,
        station_id=station_id,
        name=name,
        kecamatan=kecamatan,
        lat=None,
        lon=None,
        level_m=level_m,
        alert_level_m=None,
        danger_level_m=None,
        status_text=None,
        source_type="FloodMonitoring",
        observed_at=NOW,
        stage=stage,
        levels=StageLevels(waspada=1.5, siaga=2.0, awas=2.5),
        trend=list(trend),
    )
