"""The drainage panel's rows and banner, as an operator at the wall reads them.

What the server draws is checked here (which words, which rows, which counts); how many rows
the browser's box holds is decided by ``assets/citywall.js`` (``.cw-fit``), which fills in the
"+N more" line the server leaves for it.
"""

from __future__ import annotations

from typing import Any

from layouts.panels import drainage
from layouts.picture import CityPicture
from layouts.ports import ViewSettings
from layouts.sections import DrainageSection, Freshness, GaugeRow
from tests.support.trees import texts
from tests.support.views import NOW, wall_settings
from tests.support.views import gauge as station


def settings(language: str = "id") -> ViewSettings:
    return wall_settings(language, "Kota Pariaman", (3, 2), {5: ("drainage", "waste")})


def gauge(n: int, name: str, stage: str, level_m: float = 1.6, kecamatan: str = "Pariaman Tengah") -> GaugeRow:
    return station(f"PRM-DR-{n:02d}", name, stage, level_m, kecamatan, gauge_id=f"g{n}")


def picture(stations: list[GaugeRow], flood_alert: bool = False, reports: dict[str, int] | None = None) -> CityPicture:
    """A picture with these stations, already in the order the picture gives (worst first)."""
    in_alert = sum(1 for s in stations if s.stage != "Normal")
    worst = stations[0].stage if stations else "Normal"
    return CityPicture(
        drainage=DrainageSection(
            stations=stations,
            worst_stage=worst,
            in_alert=in_alert,
            flood_alert=flood_alert,
            reports_open_by_kecamatan=reports or {},
        ),
        freshness={"drainage": Freshness(updated_at=NOW, stale=False, stale_after_s=60)},
        seen={"drainage": True},
    )


def drawn(p: CityPicture, language: str = "id") -> list[Any]:
    s = settings(language)
    return drainage.render(drainage.view(p, s), s)


def by_class(node: Any, name: str) -> list[dict[str, Any]]:
    """Every drawn element whose class list holds ``name``, in document order."""
    found: list[dict[str, Any]] = []
    if isinstance(node, (list, tuple)):
        for child in node:
            found += by_class(child, name)
    elif isinstance(node, dict):
        if name in str((node.get("p") or {}).get("className", "")).split():
            found.append(node)
        found += by_class(node.get("c"), name)
    return found


def text_of(node: Any) -> str:
    return "".join(texts(node))


# --- the reports count says what it counts ----------------------------------------------------


def test_the_open_reports_count_is_labelled_as_drainage_reports_in_both_languages() -> None:
    """It sums every open drainage report (blocked ditches, broken culverts), not only flooding."""
    p = picture([gauge(1, "Pos drainase Pariaman Tengah", "Normal", 1.0)], reports={"Pariaman Tengah": 13})
    labels_id = [text_of(n) for n in by_class(drawn(p, "id"), "cw-stat-label")]
    labels_en = [text_of(n) for n in by_class(drawn(p, "en"), "cw-stat-label")]
    assert "laporan drainase terbuka" in labels_id
    assert "open drainage reports" in labels_en
    assert not any("genangan" in label or "flooding" in label for label in labels_id + labels_en)


# --- each row shows the part of the name that tells the stations apart ------------------------


def name_spans(p: CityPicture) -> list[tuple[str, str]]:
    """(lead, own) as each row's name draws them; a row without a lead has ""."""
    found = []
    for name in by_class(drawn(p), "cw-station-name"):
        lead = by_class(name, "cw-name-lead")
        found.append((text_of(lead), text_of(by_class(name, "cw-name-own"))))
    return found


def test_alike_names_keep_the_words_that_tell_them_apart_apart_from_the_shared_lead() -> None:
    """Kota Pariaman at half width read "Pos drainase Pari…" four times: the shared lead is
    now its own span (shrunk first by the CSS), the distinguishing end another."""
    p = picture(
        [
            gauge(1, "Pos drainase Pariaman Selatan", "Waspada", 1.68),
            gauge(2, "Pos drainase Pariaman Tengah", "Waspada", 1.71),
            gauge(3, "Pos drainase Pariaman Utara", "Waspada", 1.87),
            gauge(4, "Pos drainase Pariaman Timur", "Normal", 1.08),
        ]
    )
    assert name_spans(p) == [
        ("Pos drainase Pariaman ", "Selatan"),
        ("Pos drainase Pariaman ", "Tengah"),
        ("Pos drainase Pariaman ", "Utara"),
        ("Pos drainase Pariaman ", "Timur"),
    ]


def test_pekanbaru_names_split_only_where_they_share_words_with_another() -> None:
    p = picture(
        [
            gauge(1, "Drainase Sialang Sakti", "Awas", 2.6),
            gauge(2, "Drainase Air Hitam", "Waspada"),
            gauge(3, "Rumbai Bukit", "Waspada"),
            gauge(4, "Sungai Sail - Tangkerang Labuai", "Waspada"),
            gauge(5, "Sungai Siak - Palas", "Waspada"),
            gauge(6, "Sungai Siak - Sri Meranti", "Waspada"),
            gauge(7, "Drainase Sialang Munggu", "Normal", 1.2),
        ]
    )
    assert name_spans(p) == [
        ("Drainase Sialang ", "Sakti"),
        ("Drainase ", "Air Hitam"),
        ("", "Rumbai Bukit"),
        ("Sungai ", "Sail - Tangkerang Labuai"),
        ("Sungai Siak - ", "Palas"),
        ("Sungai Siak - ", "Sri Meranti"),
        ("Drainase Sialang ", "Munggu"),
    ]


def test_a_name_that_is_all_shared_keeps_its_last_word_and_a_lone_station_its_whole_name() -> None:
    p = picture([gauge(1, "Pos Sibam", "Waspada"), gauge(2, "Pos Sibam Hulu", "Waspada")])
    assert name_spans(p) == [("Pos ", "Sibam"), ("Pos Sibam ", "Hulu")]
    p = picture([gauge(1, "Sungai Siak", "Waspada"), gauge(2, "Sungai Siak - Palas", "Waspada")])
    assert name_spans(p) == [("Sungai ", "Siak"), ("Sungai Siak - ", "Palas")]  # not "- Palas"
    assert name_spans(picture([gauge(1, "Pos drainase Pariaman Tengah", "Normal", 1.0)])) == [
        ("", "Pos drainase Pariaman Tengah")
    ]


# --- no station is hidden without saying so --------------------------------------------------


def stations(n: int, stage: str = "Waspada", start: int = 1) -> list[GaugeRow]:
    return [gauge(i, f"Sungai Nomor {i}", stage) for i in range(start, start + n)]


def top_classes(rendered: list[Any]) -> list[str]:
    return [str(node["p"].get("className", "")) for node in rendered]


def test_stations_past_the_panels_rows_are_counted_in_a_line_after_the_list() -> None:
    """20 gauges, 16 rows: the four least severe (last, as the picture sorts them) are not
    drawn, and the line after the list says so; the browser adds the rows it cuts to it."""
    p = picture(stations(4, "Awas") + stations(6, "Siaga", 5) + stations(10, "Normal", 11))
    rendered = drawn(p)
    assert top_classes(rendered)[-2:] == ["cw-stations cw-fit", "cw-fit-more"]  # the line right after the list
    rows = by_class(rendered, "cw-station")
    assert [row["p"]["key"] for row in rows] == [f"PRM-DR-{i:02d}" for i in range(1, 17)]
    more = rendered[-1]
    assert more["c"] == "+4 lainnya"
    assert more["p"]["data-hidden"] == "4"
    assert drawn(p, "en")[-1]["c"] == "+4 more"


def test_when_every_station_is_drawn_the_line_is_left_empty_for_the_browser_to_count() -> None:
    """Twelve gauges are all sent; whether the box holds them is the browser's to tell."""
    rendered = drawn(picture(stations(12)))
    assert len(by_class(rendered, "cw-station")) == 12
    assert top_classes(rendered)[-2:] == ["cw-stations cw-fit", "cw-fit-more"]
    assert rendered[-1]["c"] == ""
    assert rendered[-1]["p"]["data-hidden"] == "0"


def test_the_flood_banner_names_every_alerted_station_whole_and_counts_those_past_the_rows() -> None:
    """The banner joined three names into one text that the screen cut mid-word
    ("Sungai Sibam (AW…"): each name is now an element of its own in a fitted box, which
    the browser shows whole or not at all, counted in the line after it."""
    p = picture(
        [
            gauge(1, "Sungai Sibam", "Awas", 2.7, "Bina Widya"),
            gauge(2, "Sungai Siak - Palas", "Siaga", 2.2, "Rumbai"),
            gauge(3, "Drainase Sialang Sakti", "Siaga", 2.1, "Tenayan Raya"),
            gauge(4, "Jl. Kampung Baru - Bambu Kuning", "Siaga", 2.05, "Tenayan Raya"),
            gauge(5, "Rumbai Bukit", "Waspada", 1.7, "Rumbai Barat"),
        ],
        flood_alert=True,
    )
    banner = drawn(p)[0]
    names_box, more = banner["c"][1]["c"]  # the line after the names counts those not shown
    assert names_box["p"]["className"] == "cw-flood-names cw-fit"
    assert [text_of(n) for n in by_class(names_box, "cw-flood-name")] == [
        "Sungai Sibam (AWAS)",
        "Sungai Siak - Palas (SIAGA)",
        "Drainase Sialang Sakti (SIAGA)",
        "Jl. Kampung Baru - Bambu Kuning (SIAGA)",
    ]
    assert more["p"]["className"] == "cw-fit-more" and more["p"]["data-hidden"] == "0"

    crowded = picture(stations(20, "Awas"), flood_alert=True)
    names_box, more = drawn(crowded, "en")[0]["c"][1]["c"]
    assert len(by_class(names_box, "cw-flood-name")) == 16
    assert more["c"] == "+4 more" and more["p"]["data-hidden"] == "4"


def test_alike_names_in_the_banner_keep_the_part_that_tells_them_apart() -> None:
    p = picture(
        [gauge(1, "Pos drainase Pariaman Utara", "Siaga", 2.2), gauge(2, "Pos drainase Pariaman Tengah", "Siaga", 2.1)],
        flood_alert=True,
    )
    names = by_class(drawn(p)[0], "cw-flood-name")
    assert [(text_of(by_class(n, "cw-name-lead")), text_of(by_class(n, "cw-name-own"))) for n in names] == [
        ("Pos drainase Pariaman ", "Utara (SIAGA)"),
        ("Pos drainase Pariaman ", "Tengah (SIAGA)"),
    ]
