"""Helpers shared by the operations tests: a small city and signed-in browser contexts.

People sign in through the real login API (``POST /api/v1/login``) with the users that
``tests.support.auth.add_users`` creates, one per role.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dashboard.config import Config
from dashboard.ingest import CityState
from feeds.events import Incident, WaterLevel
from tests.support.auth import KNOWN_USERS


def incident(
    id: str,
    severity: str = "high",
    category: str = "traffic",
    ago_s: float = 5.0,
    status: str = "new",
    description: str | None = None,
) -> Incident:
    now = datetime.now(UTC) - timedelta(seconds=ago_s)
    return Incident(
        id=id,
        observed_at=now,
        source_type="Alert",
        category=category,
        severity=severity,  # type: ignore[arg-type]
        status=status,
        kecamatan="Sail",
        lat=0.5125,
        lon=101.4475,  # type: ignore[arg-type]
        description=description or f"Uji operasi {id}",
        opened_at=now,
    )


def gauge(station_id: str, level: float, observed_at: datetime | None = None, name: str | None = None) -> WaterLevel:
    """A drainage gauge whose entity id is a URN and whose station id is what the screens show."""
    return WaterLevel(
        id=f"urn:ngsi-ld:FloodMonitoring:{station_id}",
        observed_at=observed_at or datetime.now(UTC),
        source_type="FloodMonitoring",
        station_id=station_id,
        name=name or f"Pos {station_id}",
        level_m=level,
        lat=0.5,
        lon=101.4,
    )


def seed(state: CityState, count: int = 6) -> None:
    """A few open incidents, so the queue has rows around the ones a test acts on."""
    for i in range(count):
        state.accept(incident(f"SEED-{i}", severity="medium", ago_s=60.0 * (i + 1)))


def signed_in_context(browser: Any, base: str, role: str | None, width: int = 1600, height: int = 1000) -> Any:
    """A browser context logged in as the known user of ``role`` (None: not logged in)."""
    ctx = browser.new_context(viewport={"width": width, "height": height})
    if role is not None:
        creds = KNOWN_USERS[role]
        response = ctx.request.post(
            f"{base}/api/v1/login", data={"username": creds.name, "password": creds.password}, headers={"Origin": base}
        )
        assert response.status == 200, f"login as {role}: {response.status} {response.text()[:200]}"
    return ctx


def open_config(config: Config) -> Config:
    """Anonymous reading on, as for a wall of kiosks on a closed network; writing still needs a login."""
    return config.model_copy(update={"auth": config.auth.model_copy(update={"anonymous_read": True})})


def config_with(config: Config, **feeds: Any) -> Config:
    """The config with feed URLs set (write-back goes where the feeds are)."""
    updates = {}
    if "mqtt_url" in feeds:
        updates["mqtt"] = config.feeds.mqtt.model_copy(update={"url": feeds["mqtt_url"]})
    if "redis_url" in feeds:
        updates["redis"] = config.feeds.redis.model_copy(update={"url": feeds["redis_url"]})
    return config.model_copy(update={"feeds": config.feeds.model_copy(update=updates)})
