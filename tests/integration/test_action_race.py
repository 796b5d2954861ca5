"""A field message and an operator's action on one incident at the same moment: whichever
writes last, the incident's rows (what the queue, the map and the counts read) show both.

Each test puts one writer's whole write between the other's read and its write, on both
stores (Redis: a real server)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dashboard.config import Config, load_config
from dashboard.desk import Desk
from dashboard.incident_ops import OPS_KIND, Action, Actor
from dashboard.ingest import CityState
from dashboard.read_models import INCIDENTS_OPEN
from dashboard.runtime import build_normalizer
from dashboard.store.memory import MemoryStore
from dashboard.store.redis_store import RedisStore

pytestmark = pytest.mark.integration

INCIDENT = "urn:ngsi-ld:Alert:race-1"
OPENED = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
OPERATOR = Actor("siti", "operator")


def alert(severity: str, minutes_later: int) -> bytes:
    def iso(t: datetime) -> str:
        return t.isoformat().replace("+00:00", "Z")

    return json.dumps(
        {
            "id": INCIDENT,
            "type": "Alert",
            "category": "traffic",
            "severity": severity,
            "dateIssued": iso(OPENED),
            "dateModified": iso(OPENED + timedelta(minutes=minutes_later)),
            "description": f"Kemacetan, {severity}",
            "location": {"type": "Point", "coordinates": [101.45, 0.51]},
        }
    ).encode()


class Meddling:
    """The store, except that the first call of ``method`` runs ``between`` after its read."""

    def __init__(self, store: Any, method: str, between: Callable[[], None]) -> None:
        self._store, self._method, self._between = store, method, between

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._store, name)
        if name != self._method or self._between is None:
            return real

        def meddled(*args: Any, **kwargs: Any) -> Any:
            got = real(*args, **kwargs)
            between, self._between = self._between, None  # type: ignore[assignment]
            between()
            return got

        return meddled


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryStore()
        return
    made = RedisStore(request.getfixturevalue("redis_url"), prefix="race")
    yield made
    made.close()


@pytest.fixture
def config() -> Config:
    return load_config()


def open_row(store: Any) -> dict[str, Any]:
    (row,) = [doc for _, doc in store.index_page(INCIDENTS_OPEN, limit=50) if doc["id"] == INCIDENT]
    return row


def test_an_action_between_a_message_s_read_and_its_write_stays_in_the_rows(store: Any, config: Config) -> None:
    normalizer = build_normalizer(config)
    CityState(store, config).accept(normalizer.decode(alert("high", 0)))
    desk = Desk(store, config)

    def acknowledge() -> None:
        desk.act(INCIDENT, Action("acknowledge"), OPERATOR)

    CityState(Meddling(store, "get_each", acknowledge), config).accept(normalizer.decode(alert("high", 1)))

    row = open_row(store)
    assert (row["status"], row["description"]) == ("acknowledged", "Kemacetan, high")
    assert store.index_tags(INCIDENTS_OPEN) == {
        "severity:high": 1,
        "status:acknowledged": 1,
        "kecamatan:Pekanbaru Kota": 1,
        "category:traffic": 1,
    }


def test_a_message_between_an_action_s_read_and_its_write_stays_in_the_rows(store: Any, config: Config) -> None:
    normalizer = build_normalizer(config)
    state = CityState(store, config)
    state.accept(normalizer.decode(alert("high", 0)))

    def raised_to_critical() -> None:
        state.accept(normalizer.decode(alert("critical", 1)))

    Desk(Meddling(store, "read_stamped", raised_to_critical), config).act(INCIDENT, Action("acknowledge"), OPERATOR)

    row = open_row(store)
    assert (row["status"], row["severity"], row["description"]) == ("acknowledged", "critical", "Kemacetan, critical")
    assert store.index_tags(INCIDENTS_OPEN) == {
        "severity:critical": 1,
        "status:acknowledged": 1,
        "kecamatan:Pekanbaru Kota": 1,
        "category:traffic": 1,
    }
    assert store.get(OPS_KIND, [INCIDENT])[INCIDENT]["status"] == "acknowledged"
