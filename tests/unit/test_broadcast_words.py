"""The broadcast's levels and the wall presets, in the words the wall and the desk both read.

Reviewers found the console offering "GREEN/ORANGE/RED" and writing "ORANGE: Hujan lebat…"
while the wall's banner called ORANGE "WASPADA" in orange, on a wall whose drainage rows
colour Waspada yellow and Siaga orange; and the console's wall box saying "preset: default"
and "Ganti preset". The API keeps the codes GREEN/ORANGE/RED; the words shown follow the
stages' scale (Normal green, Siaga orange, Awas red) in the desk's language.
"""

from __future__ import annotations

from typing import Any

import pytest

from dashboard import wall_control
from dashboard.config import load_config
from layouts import overlay
from layouts.console import wall_mini
from layouts.i18n import t
from layouts.ports import ViewSettings
from layouts.sections import Broadcast, WallPreset, WallSection
from tests.support.trees import texts
from tests.support.views import wall_settings

CHOICES = {
    "presets": [WallPreset("default", "Default"), WallPreset("banjir", "Siaga banjir")],
    "levels": ["GREEN", "ORANGE", "RED"],
    "broadcast_minutes_max": 720,
}


def settings(language: str) -> ViewSettings:
    return wall_settings(
        language,
        size=(2, 1),
        screens={1: ("clock",), 2: ("drainage",)},
        presets={"banjir": {2: ("waste",)}},
    )


def options(tree: Any, ident: str) -> list[tuple[str, str]]:
    """The (label, value) pairs of the select with id ``ident`` in a component tree."""
    found = []

    def walk(node: Any) -> None:
        if isinstance(node, list | tuple):
            for n in node:
                walk(n)
        elif hasattr(node, "to_plotly_json"):
            props = node.to_plotly_json()["props"]
            if props.get("id") == ident:
                found.extend((o["label"], o["value"]) for o in props["options"])
            walk(props.get("children"))

    walk(tree)
    return found


def banner_word(level: str, language: str) -> str:
    shown = {"preset": "default", "broadcast": [level, "Hujan lebat"], "takeover": None, "pushed": None}
    return texts(overlay.render(shown, settings(language)))[0]


@pytest.mark.parametrize(
    ("language", "words"),
    [("id", ["INFO", "SIAGA", "AWAS"]), ("en", ["INFO", "SIAGA", "AWAS"])],
)
def test_the_banner_names_orange_and_red_as_the_stages_of_the_same_colour(language: str, words: list[str]) -> None:
    assert [banner_word(level, language) for level in ("GREEN", "ORANGE", "RED")] == words
    # the drainage rows on the same wall: Siaga is orange, Awas red, and Waspada (yellow) is no level's word
    assert (t("Siaga", language), t("Awas", language), t("Waspada", language)) == ("SIAGA", "AWAS", "WASPADA")


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_console_offers_the_levels_in_the_banners_words_and_sends_the_codes(language: str) -> None:
    assert options(wall_mini.layout(settings(language), CHOICES), "cw-broadcast-level") == [
        ("INFO", "GREEN"),
        ("SIAGA", "ORANGE"),
        ("AWAS", "RED"),
    ]


def wall(current: str) -> WallSection:
    return WallSection(
        presets=[WallPreset("default", "Default"), WallPreset("banjir", "Siaga banjir")],
        current=current,
        broadcast=Broadcast(level="ORANGE", text="Hujan lebat: waspada genangan", until=2e9, by="budi", at=""),
        pushed=[],
        takeovers=[],
    )


def test_the_consoles_status_line_reads_the_level_as_the_wall_does() -> None:
    shown = texts(wall_mini.miniature(wall("default"), settings("id")))
    assert shown[0] == "SIAGA: Hujan lebat: waspada genangan"


@pytest.mark.parametrize(
    ("language", "current", "line"),
    [
        ("id", "default", "tata letak: Standar"),
        ("id", "banjir", "tata letak: Siaga banjir"),
        ("en", "default", "preset: Default"),
        ("en", "banjir", "preset: Siaga banjir"),
    ],
)
def test_the_wall_box_names_the_current_preset_by_its_label(language: str, current: str, line: str) -> None:
    assert line in texts(wall_mini.miniature(wall(current), settings(language)))


@pytest.mark.parametrize(
    ("language", "button", "default"),
    [("id", "Ganti tata letak", "Standar"), ("en", "Switch preset", "Default")],
)
def test_the_preset_choice_shows_labels_in_the_desks_language(language: str, button: str, default: str) -> None:
    box = wall_mini.layout(settings(language), CHOICES)
    assert options(box, "cw-preset-choice") == [(default, "default"), ("Siaga banjir", "banjir")]
    assert button in texts(box)


def test_the_desk_and_the_wall_offer_the_configs_presets_by_their_labels() -> None:
    assert wall_control.presets(load_config(environ={}).operations) == [
        WallPreset("default", "Default"),
        WallPreset("banjir", "Siaga banjir"),
        WallPreset("layanan", "Layanan publik"),
    ]
