"""What wall control lays over a screen: its card speaks the wall's colours, and its banner
keeps off the middle of a spanned map.

The card's map pin was red, and a station's badge red with "■", whatever it showed: a high
incident pushed to a screen read "▲ TINGGI" in orange beside a red pin, and a gauge at
Siaga, orange on the drainage panel, came up red with Awas's square.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote

import pytest

from layouts import overlay
from layouts.picture import CityPicture
from layouts.ports import Span
from layouts.sections import Broadcast, WallSection
from tests.support.trees import texts
from tests.support.views import wall_settings

#: One small square district around (0.55, 101.45), so the card draws its map.
DISTRICTS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Sail"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[101.4, 0.5], [101.5, 0.5], [101.5, 0.6], [101.4, 0.6], [101.4, 0.5]]],
            },
        }
    ],
}


def card_of(shown: dict[str, Any]) -> dict[str, Any]:
    """The card's badge text, the badge's classes and the pin's colours in the map's SVG."""
    out = overlay.render(
        {"preset": "default", "broadcast": None, "takeover": None, "pushed": None, **shown},
        wall_settings(districts_geojson=DISTRICTS),
    )
    card = next(node for node in out if node["p"].get("className") in ("cw-takeover", "cw-pushed"))
    badge = next(c for c in card["c"] if c["p"].get("className", "").startswith("cw-card-badge"))
    svg = unquote(next(c for c in card["c"] if c["t"] == "img")["p"]["src"])
    circles = svg[svg.index("<circle") :]
    return {"badge": badge["c"], "class": badge["p"]["className"], "pin": sorted(set(_colours(circles))), "texts": texts(card)}


def _colours(svg: str) -> list[str]:
    return [
        part.split('"')[1] for part in svg.split(" ") if part.startswith(("fill=", "stroke=")) and part.split('"')[1] != "none"
    ]


@pytest.mark.parametrize(
    ("severity", "badge", "colour"),
    [("high", "▲ TINGGI", "#ff922b"), ("medium", "● SEDANG", "#ffd43b"), ("critical", "◆ KRITIS", "#ff5c5c")],
)
def test_a_pushed_incident_shows_its_severitys_colour_on_badge_and_pin(severity: str, badge: str, colour: str) -> None:
    pushed = overlay._card(
        title="Pohon tumbang", severity=severity, where="Sail", lat=0.55, lon=101.45, status="new", incident="I-1"
    )
    shown = card_of({"pushed": pushed})
    assert (shown["badge"], shown["class"], shown["pin"]) == (badge, f"cw-card-badge sev-{severity}", [colour])


@pytest.mark.parametrize(
    ("stage", "badge", "colour"),
    [("Siaga", "◆ SIAGA", "#ff922b"), ("Awas", "■ AWAS", "#ff5c5c")],
)
def test_a_station_takeover_shows_its_stage_as_the_drainage_panel_does(stage: str, badge: str, colour: str) -> None:
    station = overlay._card(
        id="ST-1", kind="station", stage=stage, title="Pos Sail", where="Sail", level_m=2.1, lat=0.55, lon=101.45
    )
    shown = card_of({"takeover": station})
    assert (shown["badge"], shown["class"], shown["pin"]) == (badge, f"cw-card-badge stage-{stage}", [colour])
    assert "Pos drainase · 2,10\u00a0m" in shown["texts"]  # as the drainage panel writes a level; it said "2.1 m"


def test_the_broadcast_runs_along_the_top_of_a_span_not_across_its_middle() -> None:
    """The map spans screens 2, 3, 8 and 9 of a 6 x 4 wall: the banner on 8 and 9 lay across
    the middle of the map, over the city centre. Every other screen keeps it."""
    settings = wall_settings(spans=(Span("incidents_map", (2, 3, 8, 9), 2, 9),))
    banner = Broadcast("RED", "Banjir", time.time() + 600, "budi", "")
    wall = WallSection(presets=[], current="default", broadcast=banner, pushed=[], takeovers=[])
    picture = CityPicture().but(wall=wall)
    shown = {n: overlay.view_for(n)(picture, settings)["broadcast"] for n in range(1, 25)}
    assert sorted(n for n, banner in shown.items() if banner is None) == [8, 9]
    assert shown[2] == shown[3] == shown[14] == ["RED", "Banjir"]
