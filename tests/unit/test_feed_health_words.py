"""Feed health names the dead-letter reasons in the city's language, not as codes.

The feeds count each rejected message under its reason code (``rejected.unknown_type``);
the API and the dead-letter records keep those codes, but an operator reading an Indonesian
wall read "37 ditolak (unknown_type 21, missing_field 16)". The panel now shows the
catalog's word for each reason, and every reason the feeds can give has one in both
catalogs, so a reason added later cannot reach a wall untranslated.
"""

from __future__ import annotations

from typing import Any

import pytest
from babel.messages.pofile import read_po

from feeds.events import Reason
from layouts.i18n import catalog_path
from layouts.panels import feed_health
from layouts.picture import CityPicture
from layouts.ports import ViewSettings
from layouts.sections import Freshness
from tests.support.trees import texts
from tests.support.views import wall_settings


def settings(language: str) -> ViewSettings:
    return wall_settings(language, size=(6, 4), screens={})


def counts_drawn(counts: dict[str, Any], language: str) -> list[str]:
    """The one feed row's counts as drawn, one string per count ("37 ditolak (...)")."""
    picture = CityPicture(feeds={"mqtt": {"counts": counts, "connected": True, "last_message_at": None}})
    shown = feed_health.view(picture, settings(language))
    head, counts_row = feed_health.feed_row(shown["feeds"][0], settings(language))["c"]
    return ["".join(texts(count)) for count in counts_row["c"]]


def po(language: str) -> dict[str, str]:
    """The raw catalog file, read here rather than through the code under test."""
    with catalog_path(language).open("rb") as f:
        return {str(m.id): str(m.string) for m in read_po(f, locale=language) if m.id and not m.fuzzy}


MORNING = {"received": 41_870, "accepted": 41_602, "rejected": 37, "rejected.unknown_type": 21, "rejected.missing_field": 16}


def test_indonesian_wall_names_the_reasons_in_indonesian() -> None:
    assert "37 ditolak (jenis tak dikenal 21, kolom hilang 16)" in counts_drawn(MORNING, "id")


def test_english_wall_names_the_reasons_in_english() -> None:
    assert "37 rejected (unknown type 21, missing field 16)" in counts_drawn(MORNING, "en")


def test_a_code_no_catalog_knows_is_shown_as_it_came() -> None:
    """A store written by an older or newer writer may count a reason this build has no word
    for: the panel still draws (a raise would blank it), showing the code."""
    counts = {"rejected": 3, "rejected.from_the_future": 3}
    assert "3 ditolak (from_the_future 3)" in counts_drawn(counts, "id")


@pytest.mark.parametrize("language", ["id", "en"])
def test_every_reason_has_a_word_in_every_catalog(language: str) -> None:
    words = po(language)
    missing = sorted(r.value for r in Reason if not words.get(f"reason_{r.value}", "").strip())
    assert missing == []
    assert len(Reason) >= 15, "the scan must see the feeds' reasons"


def test_each_reason_word_is_the_language_s_own() -> None:
    """A code copied into a catalog (``bad_text``), or the English word left in the Indonesian
    one, would pass a presence check and still not be Indonesian on the wall."""
    ids, ens = po("id"), po("en")
    as_codes = sorted(r.value for r in Reason for words in (ids, ens) if words.get(f"reason_{r.value}") == r.value)
    assert as_codes == []
    untranslated = sorted(r.value for r in Reason if ids.get(f"reason_{r.value}") == ens.get(f"reason_{r.value}"))
    assert untranslated == []


def test_a_last_message_of_an_earlier_day_says_which_day() -> None:
    """A feed silent since Wednesday's 14:30 read "pesan terakhir 14:30 WIB" on Friday
    morning: this afternoon's, or a minute's silence, for all the panel said."""
    picture = CityPicture(
        generated_at="2024-07-05T02:00:00+00:00",  # Friday 09:00 WIB
        feeds={
            "mqtt": {"counts": {}, "connected": True, "last_message_at": "2024-07-05T01:45:00+00:00"},
            "redis": {"counts": {}, "connected": False, "last_message_at": "2024-07-03T07:30:00+00:00"},
        },
        freshness={
            "incidents": Freshness(updated_at="2024-07-05T01:45:00+00:00", stale=False, stale_after_s=300),
            "drainage": Freshness(updated_at="2024-07-04T16:59:00+00:00", stale=True, stale_after_s=60),
        },
    )
    drawn = " | ".join(texts(feed_health.render(feed_health.view(picture, settings("id")), settings("id"))))
    assert "pesan terakhir 08:45 WIB" in drawn  # today's: the time alone
    assert "pesan terakhir 3 Jul 14:30 WIB" in drawn
    assert "4 Jul 23:59 WIB" in drawn  # the drainage gauges' last, a minute before midnight
    english = " | ".join(texts(feed_health.render(feed_health.view(picture, settings("en")), settings("en"))))
    assert "3 Jul 14:30 WIB" in english


@pytest.mark.parametrize(("language", "word"), [("id", "✖ TIDAK MELAPOR"), ("en", "✖ NOT REPORTING")])
def test_a_silent_feed_says_its_ingest_is_not_reporting(language: str, word: str) -> None:
    picture = CityPicture(feeds={"mqtt": {"counts": {}, "connected": False, "silent": True, "last_message_at": None}})
    row = feed_health.feed_row(feed_health.view(picture, settings(language))["feeds"][0], settings(language))
    head = row["c"][0]
    assert texts(head)[1] == word
    assert "is-silent" in row["p"]["className"]
