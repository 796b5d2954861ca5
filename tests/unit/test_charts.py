"""The SVG line charts shared by the tablet's trends and the drainage sparklines.

Each image is decoded and parsed back as XML, and its geometry compared with numbers worked
out by hand from the scale each chart promises.
"""

from __future__ import annotations

from urllib.parse import unquote
from xml.etree import ElementTree

from layouts import charts
from layouts.i18n import age_words
from layouts.mayor.figures import change_text
from layouts.mayor.trends import BLANK_SVG, trend_svg

NS = "{http://www.w3.org/2000/svg}"


def parse(uri: str) -> ElementTree.Element:
    head, body = uri.split(",", 1)
    assert head == "data:image/svg+xml;charset=utf-8"
    return ElementTree.fromstring(unquote(body))


def test_values_map_top_down_and_are_clamped() -> None:
    assert charts.y_of(10, 0, 10, 4, 56) == 4
    assert charts.y_of(0, 0, 10, 4, 56) == 56
    assert charts.y_of(5, 0, 10, 0, 100) == 50
    assert charts.y_of(99, 0, 10, 0, 100) == 0, "a value above the range stays on the chart"
    assert charts.y_of(3, 3, 3, 0, 100) == 100, "an empty range does not divide by zero"


def test_a_range_is_padded_and_never_empty() -> None:
    assert charts.padded(10, 30) == (7.6, 32.4)
    assert charts.padded(10, 30, also=50) == (5.2, 54.8)
    assert charts.padded(5, 5) == (3.76, 6.24)


def test_the_tablet_trend_tints_the_good_side_and_marks_now() -> None:
    s = {"start": 0, "end": 100, "points": [[0, 10], [50, 20], [100, 30]], "lo": 10, "hi": 30}
    svg = parse(trend_svg(s, 20, "higher", "good"))
    assert svg.get("viewBox") == "0 0 1000 100" and svg.get("preserveAspectRatio") == "none"
    # range 10..30 padded by 12 % to 7.6..32.4; y = 100 - (v - 7.6) / 24.8 * 100; x runs to 988
    line = svg.find(f"{NS}polyline")
    assert line is not None and line.get("points") == "0,90.3 494,50 988,9.7"
    band = svg.find(f"{NS}rect")
    assert band is not None and (band.get("y"), band.get("height")) == ("0", "50"), "above the target is good"
    paths = [p.get("d") for p in svg.iter(f"{NS}path")]
    assert paths == ["M0 50H1000", "M988 9.7h0"]
    dot = list(svg.iter(f"{NS}path"))[-1]
    assert dot.get("stroke") == "#2f7d32"


def test_a_count_that_should_fall_tints_below_the_target() -> None:
    s = {"start": 0, "end": 100, "points": [[0, 10], [100, 30]], "lo": 10, "hi": 30}
    band = parse(trend_svg(s, 20, "lower", "bad")).find(f"{NS}rect")
    assert band is not None and (band.get("y"), band.get("height")) == ("50", "50")


def test_the_blank_image_is_an_empty_svg() -> None:
    svg = parse(BLANK_SVG)
    assert list(svg) == [] and svg.get("viewBox") == "0 0 10 10"


def test_text_that_a_uri_cannot_carry_is_escaped() -> None:
    uri = charts.data_uri(["<path d='M0 0' stroke='#fff' opacity='50%'/>"], 10, 10)
    assert "#" not in uri and "<" not in uri and ">" not in uri
    assert unquote(uri.split(",", 1)[1]).count("50%") == 1


def day(first_at: float) -> dict[str, float]:
    """A day's span ending at 86,400, its first point at ``first_at``, rising 10 to 13."""
    return {"start": 0.0, "end": 86_400.0, "first_at": first_at, "first": 10.0, "last": 13.0}


KPI = {"target": 20.0, "better": "higher", "unit": ""}


def test_a_change_says_the_time_it_was_measured_over_when_the_history_is_short() -> None:
    """A KPI five minutes old read "up 3 over 24 h" on the mayor's tablet."""
    assert change_text(day(86_400 - 300), KPI, "day", "en") == ("▲ up 3 over 5 min", "better")
    assert change_text(day(86_400 - 7_500), KPI, "day", "id")[0] == "▲ naik 3 dalam 2 j 5 mnt"
    assert change_text(day(8_000), KPI, "day", "en")[0] == "▲ up 3 over 24 h", "nine tenths of the span is the span"


def test_ages_are_written_as_the_screens_write_them() -> None:
    said = [age_words(s, "en") for s in (0, 59, 60, 3_599, 3_600, 3_660, 86_399, 86_400, 90_000, 2 * 86_400 + 59)]
    assert said == ["0 s", "59 s", "1 min", "59 min", "1 h", "1 h 1 min", "23 h 59 min", "1 d", "1 d 1 h", "2 d"]
