"""Helpers shared by the operations tests: a small city, the app on a port, signed-in clients.

``signed_in`` is the one place that knows how a test becomes an operator or a supervisor,
for HTTP clients and for browser contexts alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from dashboard.config import Config
from dashboard.state import CityState
from feeds.events import Incident

STAND_IN = "X-Stand-In-Principal"


def incident(id: str, severity: str = "high", category: str = "traffic", ago_s: float = 5.0, status: str = "new",
             description: str | None = None) -> Incident:
    now = datetime.now(timezone.utc) - timedelta(seconds=ago_s)
    return Incident(id=id, observed_at=now, source_type="Alert", category=category, severity=severity,  # type: ignore[arg-type]
                    status=status, kecamatan="Sail", lat=0.5125, lon=101.4475,  # type: ignore[arg-type]
                    description=description or f"Uji operasi {id}", opened_at=now)


def seed(state: CityState, count: int = 6) -> None:
    """A few open incidents, so the queue has rows around the ones a test acts on."""
    for i in range(count):
        state.accept(incident(f"SEED-{i}", severity="medium", ago_s=60.0 * (i + 1)))


def headers_for(role: str | None, name: str | None = None) -> dict[str, str]:
    return {} if role is None else {STAND_IN: f"{name or role}/{role}"}


def signed_in_context(browser: Any, role: str | None, width: int = 1600, height: int = 1000) -> Any:
    return browser.new_context(viewport={"width": width, "height": height}, extra_http_headers=headers_for(role))


def config_with(config: Config, **feeds: Any) -> Config:
    """The config with feed URLs set (write-back goes where the feeds are)."""
    updates = {}
    if "mqtt_url" in feeds:
        updates["mqtt"] = config.feeds.mqtt.model_copy(update={"url": feeds["mqtt_url"]})
    if "redis_url" in feeds:
        updates["redis"] = config.feeds.redis.model_copy(update={"url": feeds["redis_url"]})
    return config.model_copy(update={"feeds": config.feeds.model_copy(update=updates)})
