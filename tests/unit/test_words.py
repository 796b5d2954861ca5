"""Every word the product asks for exists in every language, in one catalog per language.

The words live in ``layouts/locale/<language>/LC_MESSAGES/citywall.po``. ``t()`` shows a
missing word's key on a running wall; these tests make a gap fail here instead: both
catalogs hold the same keys with the same placeholders and nothing unfinished, every literal
key passed to ``t(...)`` in ``layouts/`` or ``dashboard/`` and to ``word(...)`` in
``assets/`` is there, no script keeps words of its own, and a miss raises under the test
suite (``tests/conftest.py`` sets ``CITYWALL_STRICT_WORDS``), which catches the keys built at
run time (a severity, a stage, a span) in every rendering test.
"""

from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from dashboard.auth.routes import login_html
from layouts import report_words
from layouts.console import detail, queue, wall_mini
from layouts.i18n import LANGUAGES, WORDS_ID, catalog, catalog_path, t, words_holder
from layouts.mayor.headlines import headline_tiles, pillars_heading
from layouts.pages import report
from layouts.ports import ViewSettings, WallGeometry
from layouts.sections import WallPreset
from tests.support.trees import texts

ROOT = Path(__file__).resolve().parents[2]
#: Our own scripts (the vendored libraries have no words of ours).
SCRIPTS = sorted(p for p in (ROOT / "assets").glob("*.js"))


def po(language: str) -> dict[str, tuple[str, bool]]:
    """The raw catalog file: key -> (word, fuzzy), read here rather than through the code under test."""
    with catalog_path(language).open("rb") as f:
        entries = read_po(f, locale=language)
    return {str(m.id): (str(m.string), bool(m.fuzzy)) for m in entries if m.id}


def literal_keys(function: str) -> set[tuple[str, str]]:
    """(file:line, key) for each call ``function("literal", ...)`` in the product's Python."""
    found = set()
    for folder in ("layouts", "dashboard"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == function
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    found.add((f"{path.relative_to(ROOT)}:{node.lineno}", node.args[0].value))
    return found


JS_WORD = re.compile(r"""\bword\(\s*(["'])([^"']+)\1""")


def js_keys() -> set[tuple[str, str]]:
    """(file:line, key) for each ``word("literal", ...)`` in the browser's scripts."""
    found = set()
    for path in SCRIPTS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found.update((f"{path.relative_to(ROOT)}:{number}", m.group(2)) for m in JS_WORD.finditer(line))
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_one_catalog_per_language_with_the_same_keys() -> None:
    ids, ens = po("id"), po("en")
    assert LANGUAGES == ("id", "en")
    assert len(ids) > 150, "the catalog file was not read"
    assert sorted(set(ids) ^ set(ens)) == []


@pytest.mark.parametrize("language", ["id", "en"])
def test_no_entry_is_empty_or_fuzzy(language: str) -> None:
    unfinished = sorted(key for key, (word, fuzzy) in po(language).items() if not word.strip() or fuzzy)
    assert unfinished == []


def test_both_languages_fill_the_same_placeholders() -> None:
    ids, ens = po("id"), po("en")
    differ = sorted(k for k in ids if placeholders(ids[k][0]) != placeholders(ens[k][0]))
    assert differ == []
    assert placeholders(ids["stations_up"][0]) == {"n", "m"}, "the placeholder scan itself must see placeholders"


def test_the_scans_find_the_calls() -> None:
    """The scans themselves can fail: they must see calls we know are there."""
    assert "no_data" in {key for _, key in literal_keys("t")}
    assert "title" in {key for _, key in literal_keys("t")}
    assert {"age_days", "age_seconds", "updated_ago"} <= {key for _, key in js_keys()}


@pytest.mark.parametrize("language", ["id", "en"])
def test_every_literal_key_exists(language: str) -> None:
    words = po(language)
    missing = sorted(f"{where} t({key!r})" for where, key in literal_keys("t") if key not in words)
    missing += sorted(f"{where} word({key!r})" for where, key in js_keys() if key not in words)
    assert missing == []


def test_no_script_keeps_words_of_its_own() -> None:
    """A string in our JS that is an Indonesian word of the catalog means a word was hard-coded again."""
    ids, ens = po("id"), po("en")
    # words only the Indonesian catalog has (English ones would match code such as "open"), long enough to mean it
    indonesian = {w.lower() for k, (w, _) in ids.items() if w != ens[k][0] and len(w) >= 4 and "{" not in w}
    assert "diperbarui" in indonesian and "terbuka" in indonesian
    literal = re.compile(r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\'')
    found = []
    for path in SCRIPTS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in literal.finditer(line):
                text = (m.group(1) or m.group(2) or "").lower()
                found += [f"{path.name}:{number} {word!r}" for word in indonesian if re.search(rf"\b{re.escape(word)}\b", text)]
    assert found == []


def test_the_browser_gets_the_same_catalog() -> None:
    holder = words_holder("en").to_plotly_json()["props"]
    assert holder["id"] == WORDS_ID
    handed = json.loads(holder["data-words"])
    assert handed["updated_ago"] == "updated {age} ago"
    assert handed == {k: w for k, (w, _) in po("en").items()}
    assert json.loads(words_holder("xx").to_plotly_json()["props"]["data-words"])["no_data"] == "Belum ada data"


def test_words_read_through_t() -> None:
    assert t("no_data", "id") == "Belum ada data"
    assert t("stations_up", "en", n=2, m=9) == "2 of 9 stations above normal"
    assert catalog("id")["count_6"] == "enam"
    assert pillars_heading(6, "id") == "Enam pilar kota cerdas"
    assert pillars_heading(5, "en") == "The five smart-city pillars"


def test_the_login_page_says_everything_in_both_languages() -> None:
    page = login_html("/tablet")
    assert ">Masuk / Log in</button>" in page
    assert 'data-wrong="Nama pengguna atau kata sandi salah / Wrong user name or password"' in page
    assert 'data-failed="Tidak dapat masuk ({status}) / Cannot log in ({status})"' in page
    assert re.findall(r"\{(?!status\})\w+\}", page) == [], "a placeholder was left unfilled"
    assert 'data-next="/{title}"' in login_html("/{title}"), "a path is never filled in as a word"


def test_a_missing_word_raises_under_the_tests_and_shows_its_key_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(KeyError, match="no word for 'no-such-word' in language 'en'"):
        t("no-such-word", "en")
    with pytest.raises(KeyError):
        t("no-such-word", "id")
    monkeypatch.delenv("CITYWALL_STRICT_WORDS")
    assert t("no-such-word", "en") == "no-such-word"
    assert t("no_data", "en") == "No data yet"
    assert t("no_data", "xx") == "Belum ada data", "an unknown language falls back to Indonesian"


def console_settings(language: str) -> ViewSettings:
    return ViewSettings(
        city_name="Kota Pekanbaru",
        language=language,
        timezone="Asia/Jakarta",
        timezone_label="WIB",
        wall=WallGeometry(3, 2, 1920, 1080, 6),
        screens={1: ("clock",)},
    )


def text_of(node: Any) -> str:
    """Every text and placeholder in a component tree, read from the components' own props."""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list | tuple):
        return " ".join(text_of(n) for n in node)
    if node is None:
        return ""
    props = node.to_plotly_json()["props"]
    parts = [text_of(props.get("children"))]
    parts += [str(props[k]) for k in ("placeholder", "label") if isinstance(props.get(k), str)]
    parts += [str(o.get("label")) for o in props.get("options") or [] if isinstance(o, dict)]
    return " ".join(parts)


#: What the operator console and the shift report show, by language, written out here.
CONSOLE_WORDS = {
    "id": [
        "Kejadian",
        "Terima",
        "Tugaskan",
        "Selesaikan",
        "Kirim ke dinding",
        "instansi…",
        "catatan (n)",
        "Dinding",
        "Ganti tata letak",
        "Siarkan",
        "Hapus siaran",
        "tingkat",
        "/ cari",
    ],
    "en": [
        "Incident",
        "Acknowledge",
        "Assign",
        "Resolve",
        "Push to wall",
        "agency…",
        "note (n)",
        "Wall",
        "Switch preset",
        "Broadcast",
        "Clear broadcast",
        "severity",
        "/ search",
    ],
}
REPORT_WORDS = {
    "id": [
        "Per periode",
        "Per kategori",
        "Per instansi",
        "periode",
        "kejadian",
        "diterima",
        "median terima (mnt)",
        "selesai dalam SLA %",
    ],
    "en": ["Per period", "By category", "By agency", "period", "incidents", "acked", "ack median (min)", "resolve within SLA %"],
}


@pytest.mark.parametrize("language", ["id", "en"])
def test_the_console_and_the_report_speak_the_configured_language(language: str) -> None:
    """Their words come from the catalog (a missing one raises here, under the tests): the
    console's panels and the report's tables in each language, the other language absent."""
    settings = console_settings(language)
    choices = {
        "agencies": [{"id": "BPBD", "name": "BPBD"}],
        "codes": [],
        "presets": [WallPreset("default", "Default")],
        "levels": ["RED"],
    }
    console = text_of([detail.layout(settings, choices), queue.layout(settings), wall_mini.layout(settings, choices)])
    row = dict.fromkeys(report_words.HEADERS, 1)
    shown = text_of(report.tables({"by_period": [row], "by_category": [row], "by_agency": [row]}, language))
    other = "en" if language == "id" else "id"
    assert [w for w in CONSOLE_WORDS[language] if w not in console] == []
    assert [w for w in REPORT_WORDS[language] if w not in shown] == []
    assert [w for w in CONSOLE_WORDS[other] if w not in CONSOLE_WORDS[language] and w in console] == []
    assert [w for w in REPORT_WORDS[other] if w not in REPORT_WORDS[language] and w in shown.split(" ")] == []


def test_the_keys_the_console_and_the_report_look_up_by_table_are_in_both_catalogs() -> None:
    """Keys kept in tables (not literal ``t(...)`` calls, which the scan above checks)."""
    keys = {b[1] for b in detail.BUTTONS.values()} | set(report_words.TITLES.values()) | set(report_words.HEADERS.values())
    keys |= set(report.PERIOD_WORDS.values())
    assert len(keys) == 27
    for language in LANGUAGES:
        assert sorted(keys - set(po(language))) == [], language


def test_numbers_are_written_the_same_whatever_was_written_before() -> None:
    """Counts are formatted through a cache: a -0.0 written first must not make every later
    zero read "-0" (Babel writes -0.0 with its sign)."""
    from layouts.i18n import number

    assert number(-0.0, "id", 1) == "0,0"
    assert number(0, "id", 1) == "0,0"
    assert number(0.0, "en") == "0"
    assert number(1234567, "id") == "1.234.567"
    assert number(1234567, "en") == "1,234,567"
    assert number(None, "id") == "–"


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [(7.25, 1, "7,3"), (0.45, 1, "0,5"), (2.675, 2, "2,68"), (-7.25, 1, "-7,3"), (7.24, 1, "7,2"), (1234.45, 1, "1.234,5")],
)
def test_a_five_rounds_up_as_by_hand(value: float, places: int, text: str) -> None:
    """A supervisor checking 7.25 minutes by hand writes 7,3; rounding to the even digit on the
    binary float wrote 7,2, and 2.675 as 2,67."""
    from layouts.i18n import number
    from layouts.sections import round_half_up

    assert number(value, "id", places) == text
    assert number(round_half_up(value, places), "id", places) == text


@pytest.mark.parametrize(
    ("worst", "alert", "line"),
    [
        ("Normal", False, "Tidak ada peringatan banjir"),
        ("Waspada", False, "Dipantau, belum peringatan banjir"),
        ("Siaga", True, "PERINGATAN BANJIR"),
    ],
)
def test_the_tablets_flood_tile_never_says_no_alert_under_waspada(worst: str, alert: bool, line: str) -> None:
    """ "▲ WASPADA" over "Tidak ada peringatan banjir" read as a contradiction to the mayor."""
    view = {
        "incidents": {"seen": False},
        "flood": {"seen": True, "alert": alert, "worst": worst, "in_alert": 0 if worst == "Normal" else 1, "stations": 4},
        "mpp": {"seen": False},
        "waste": {"seen": False},
    }
    flood = texts(headline_tiles(view, "id")[1])
    assert flood[2:4] == [t(worst, "id"), line], flood


@pytest.mark.parametrize(
    ("worst", "language", "line"),
    [
        (["Jl. Kampung Baru - Bambu Kuning", 280], "id", "Pos terparah: Jl. Kampung Baru - Bambu Kuning, 2,80\u00a0m"),
        (["Pos Sail", 1205], "en", "Worst station: Pos Sail, 12.05\u00a0m"),
        (None, "id", None),
    ],
)
def test_the_tablets_flood_tile_names_the_worst_station_and_its_level(
    worst: list[object] | None, language: str, line: str | None
) -> None:
    """ "2 dari 12 pos di atas normal" left the mayor asking which one, and how high."""
    view = {
        "incidents": {"seen": False},
        "flood": {"seen": True, "alert": True, "worst": "Awas", "in_alert": 2, "stations": 12, "worst_station": worst},
        "mpp": {"seen": False},
        "waste": {"seen": False},
    }
    flood = texts(headline_tiles(view, language)[1])
    named = [x for x in flood if x.startswith(("Pos terparah", "Worst station"))]
    assert named == ([line] if line else []), flood
    if line:
        assert flood.index(line) == 5, flood  # under "2 of 12 stations above normal"


def test_a_tiles_figure_and_its_words_stay_apart() -> None:
    """The small words after a big figure are an inline-block, which dropped their leading
    space: the tablet and its PDF read "0selesai (24 jam)"."""
    view = {
        "incidents": {"seen": False},
        "flood": {"seen": True, "alert": False, "worst": "Normal", "in_alert": 0, "stations": 4},
        "mpp": {"seen": False},
        "waste": {"seen": True, "resolved": 0, "open": 3},
    }
    waste = texts(headline_tiles(view, "id")[3])
    assert "".join(waste[1:3]) == "0\u00a0selesai (24\u00a0jam)", waste  # the catalog keeps "24 jam" together
