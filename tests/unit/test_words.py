"""Every word the code asks for exists in every language.

``t()`` shows a missing word's key on a running wall; these tests make the gap fail here
instead: both languages hold the same keys, every literal key passed to ``t(...)`` or the
tablet's ``w(...)`` anywhere in ``layouts/`` or ``dashboard/`` is there, and a miss raises under
the test suite (``tests/conftest.py`` sets ``CITYWALL_STRICT_WORDS``), which catches the keys
built at run time (a severity, a stage) in every rendering test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from layouts.i18n import LABELS, t
from layouts.tablet import WORDS, w

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("id", "en")


def literal_keys(function: str) -> set[tuple[str, str]]:
    """(file:line, key) for each call ``function("literal", ...)`` in the product's code."""
    found = set()
    for folder in ("layouts", "dashboard"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == function
                        and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                    found.add((f"{path.relative_to(ROOT)}:{node.lineno}", node.args[0].value))
    return found


def test_both_languages_hold_the_same_words() -> None:
    assert set(LABELS) == set(LANGUAGES) == set(WORDS)
    assert sorted(set(LABELS["id"]) ^ set(LABELS["en"])) == []
    assert sorted(set(WORDS["id"]) ^ set(WORDS["en"])) == []


def test_the_scan_finds_the_calls() -> None:
    """The scan itself can fail: it must see calls we know are there."""
    assert ("no_data" in {key for _, key in literal_keys("t")})
    assert ("title" in {key for _, key in literal_keys("w")})


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_literal_key_exists(language: str) -> None:
    missing_t = sorted(f"{where} t({key!r})" for where, key in literal_keys("t") if key not in LABELS[language])
    missing_w = sorted(f"{where} w({key!r})" for where, key in literal_keys("w")
                       if key not in WORDS[language] and key not in LABELS[language])
    assert missing_t + missing_w == []


def test_a_missing_word_raises_under_the_tests_and_shows_its_key_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(KeyError, match="no word for 'no-such-word' in language 'en'"):
        t("no-such-word", "en")
    with pytest.raises(KeyError):
        w("no-such-word", "id")
    monkeypatch.delenv("CITYWALL_STRICT_WORDS")
    assert t("no-such-word", "en") == "no-such-word"
    assert t("no_data", "en") == "No data yet"
    assert t("no_data", "xx") == "Belum ada data", "an unknown language falls back to Indonesian"
