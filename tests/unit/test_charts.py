"""The SVG line charts shared by the tablet's trends and the drainage sparklines.

Each image is decoded and parsed back as XML, and its geometry compared with numbers worked
out by hand from the scale each chart promises.
"""

from __future__ import annotations

from urllib.parse import unquote
from xml.etree import ElementTree

from layouts import charts
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
