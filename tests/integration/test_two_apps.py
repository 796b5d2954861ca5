"""Two apps in one process, each its own city: state lives on what the app factory makes.

Pekanbaru (a 6 x 4 wall) and Pariaman (a 3 x 2 wall, ``examples/pariaman``) are created one
after the other in this process and served side by side. Each must go on drawing its own
pages (the URL of a page is looked up in that app's own page table, not in one the second
app overwrote), claim its own live parts on the push route, and read its own store.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from websockets.sync.client import connect

from dashboard.config import Config, load_config
from dashboard.ingest import CityState
from dashboard.layout_settings import view_settings
from dashboard.local_services import running_app, wait_until
from dashboard.store.memory import MemoryStore
from feeds.events import Incident
from layouts.map_plan import cached_plan

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PEKANBARU = REPO / "config.yaml"
PARIAMAN = REPO / "examples" / "pariaman" / "config.yaml"


def open_for_reading(path: Path) -> Config:
    config = load_config(path, environ={})
    return config.model_copy(update={"auth": config.auth.model_copy(update={"anonymous_read": True})})


def route(base: str, path: str, search: str = "") -> dict[str, Any]:
    """What a browser gets when its page's router asks for ``path``: the page and its title."""
    body = {
        "output": "..cw-page.children...cw-page-title.data..",
        "outputs": [{"id": "cw-page", "property": "children"}, {"id": "cw-page-title", "property": "data"}],
        "inputs": [
            {"id": "cw-location", "property": "pathname", "value": path},
            {"id": "cw-location", "property": "search", "value": search},
        ],
        "changedPropIds": ["cw-location.pathname"],
        "state": [],
    }
    response = requests.post(f"{base}/_dash-update-component", json=body, headers={"Origin": base}, timeout=30)
    assert response.status_code == 200, response.text[:300]
    return response.json()["response"]


def text_of(tree: Any) -> str:
    if isinstance(tree, str | int | float):
        return str(tree)
    if isinstance(tree, list):
        return " ".join(text_of(t) for t in tree)
    if isinstance(tree, dict):
        return text_of(tree.get("props", {}).get("children", ""))
    return ""


def screens_on_wall(tree: Any) -> list[str]:
    """The ``data-screen`` of every tile on the /wall canvas, in order."""
    found: list[str] = []
    if isinstance(tree, list):
        for t in tree:
            found += screens_on_wall(t)
    elif isinstance(tree, dict):
        props = tree.get("props", {})
        if "cw-tile" in (props.get("className") or "") and "data-screen" in props:
            found.append(props["data-screen"])
        found += screens_on_wall(props.get("children"))
    return found


def open_ids(base: str) -> list[str]:
    response = requests.get(f"{base}/api/v1/incidents", params={"status": "open"}, timeout=30)
    assert response.status_code == 200, response.text[:300]
    return [item["id"] for item in response.json()["items"]]


def claimed(base: str, parts: list[list[str]]) -> list[list[str]]:
    """Claim live parts on the push route; the first frame with parts says which the server
    took (a part no page of this app holds is left out)."""
    with connect(base.replace("http://", "ws://") + "/_citywall/push", origin=base, open_timeout=20, max_size=2**24) as ws:
        ws.send(json.dumps({"parts": parts}))
        for _ in range(200):
            body = json.loads(ws.recv(timeout=20))
            if body["u"]:
                return sorted([u[0], u[1]] for u in body["u"])
            ws.send(json.dumps({"ack": body["v"]}))
    raise AssertionError("no frame with parts in 200 frames")


@pytest.fixture(scope="module")
def cities() -> Iterator[dict[str, tuple[str, MemoryStore, Config]]]:
    with ExitStack() as stack:
        out = {}
        for name, path in (("pekanbaru", PEKANBARU), ("pariaman", PARIAMAN)):
            config, store = open_for_reading(path), MemoryStore()
            out[name] = (stack.enter_context(running_app(config, store)), store, config)
        yield out


def test_each_app_draws_its_own_wall(cities: dict[str, tuple[str, MemoryStore, Config]]) -> None:
    pekanbaru, pariaman = cities["pekanbaru"][0], cities["pariaman"][0]
    wall = route(pekanbaru, "/wall")
    assert screens_on_wall(wall["cw-page"]["children"]) == [str(n) for n in range(1, 25)]
    assert wall["cw-page-title"]["data"] == {"title": "citywall – Kota Pekanbaru"}
    wall = route(pariaman, "/wall")
    assert screens_on_wall(wall["cw-page"]["children"]) == ["1", "2", "3", "4", "5", "6"]
    assert wall["cw-page-title"]["data"] == {"title": "citywall – Kota Pariaman"}


def test_each_app_knows_its_own_screens(cities: dict[str, tuple[str, MemoryStore, Config]]) -> None:
    pekanbaru, pariaman = cities["pekanbaru"][0], cities["pariaman"][0]
    # screen 7 is on Pekanbaru's 6 x 4 wall and past the end of Pariaman's 3 x 2
    seven = route(pekanbaru, "/screen/7")["cw-page"]["children"]
    assert seven["props"]["data-screen"] == "7"
    refused = route(pariaman, "/screen/7")["cw-page"]["children"]
    assert refused["props"]["className"] == "cw-error"
    assert text_of(refused).endswith("7 tidak ada di dinding ini: layarnya 1–6 (3 x 2)")
    assert route(pariaman, "/screen/6")["cw-page"]["children"]["props"]["data-screen"] == "6"


def test_the_tablet_names_its_own_city(cities: dict[str, tuple[str, MemoryStore, Config]]) -> None:
    for name, city in (("pekanbaru", "Kota Pekanbaru"), ("pariaman", "Kota Pariaman")):
        title = route(cities[name][0], "/tablet")["cw-page-title"]["data"]["title"]
        assert title.endswith(f" – {city}"), title


def test_each_app_pushes_only_its_own_pages_parts(cities: dict[str, tuple[str, MemoryStore, Config]]) -> None:
    """The push route takes the parts some page of the app holds: the incident queue of
    screen 10 is on Pekanbaru's wall only, the one of screen 4 on both (each city's config
    places it there)."""
    pekanbaru, pariaman = cities["pekanbaru"][0], cities["pariaman"][0]
    four, ten = ["incident_queue", "s4-0"], ["incident_queue", "s10-0"]
    assert claimed(pekanbaru, [four, ten]) == [["incident_queue-content", "s10-0"], ["incident_queue-content", "s4-0"]]
    assert claimed(pariaman, [four, ten]) == [["incident_queue-content", "s4-0"]]


def test_a_change_in_one_store_shows_in_that_app_alone(cities: dict[str, tuple[str, MemoryStore, Config]]) -> None:
    (pekanbaru, store, config), pariaman = cities["pekanbaru"], cities["pariaman"][0]
    alert = Incident(
        id="urn:ngsi-ld:Alert:two-apps-1",
        observed_at=datetime.now(UTC) - timedelta(minutes=5),
        source_type="Alert",
        category="flood",
        severity="high",
        kecamatan="Sukajadi",
        lat=0.517,
        lon=101.438,
        description="Banjir di Jl. Sudirman",
    )
    assert CityState(store, config).accept(alert)
    wait_until(lambda: open_ids(pekanbaru) == [alert.id], 20, "the incident in Pekanbaru's API")
    assert open_ids(pariaman) == []
    state = requests.get(f"{pekanbaru}/api/v1/state", timeout=30).json()
    assert state["incidents"]["open_count"] == 1
    assert requests.get(f"{pariaman}/api/v1/state", timeout=30).json()["incidents"]["open_count"] == 0


def test_each_apps_settings_keep_their_own_map_plan() -> None:
    """The map's plan is kept with the settings the factory makes, not in a module keyed by
    an object's id (which a later city's data may reuse)."""
    pekanbaru = view_settings(open_for_reading(PEKANBARU))
    pariaman = view_settings(open_for_reading(PARIAMAN))
    assert [d.name for d in cached_plan(pariaman, None).districts] == [
        "Pariaman Tengah",
        "Pariaman Utara",
        "Pariaman Selatan",
        "Pariaman Timur",
    ]
    assert "Sukajadi" in [d.name for d in cached_plan(pekanbaru, None).districts]
    assert cached_plan(pariaman, None) is cached_plan(pariaman, None), "planned once per settings"
    assert dataclasses.replace(pariaman).memo == {}, "a copy (other settings) plans again"
