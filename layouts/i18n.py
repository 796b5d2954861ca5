"""Words, numbers and times as the operators read them: Bahasa Indonesia first, English by config.

Every word the product shows comes from one gettext catalog per language,
``layouts/locale/<language>/LC_MESSAGES/citywall.po``, read with Babel. The msgid is a short
key (``no_data``), the msgstr the word on the screen; Python asks through ``t()`` and the
browser gets the same catalog handed to it (``words_holder``, read by ``assets/words.js``), so
a translator edits one file per language and nothing else. The ``.po`` files are read as
they are (no compile step a clean clone could miss) and ship as package data.

Numbers use the locale's separators (``1.000,5`` in Indonesian) and times are shown in the
city's zone with its label (``Jumat, 5 Juli 2024 14:32 WIB``); Babel does the locale work.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from dash import html

from layouts.sections import half_up
from layouts.tree import attrs

#: The languages with a catalog; the first is the fallback for any other.
LANGUAGES = ("id", "en")
DOMAIN = "citywall"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

#: Set by the test suite: a missing word raises instead of showing its key, so a gap fails a
#: test rather than reaching a wall. Read on each miss only, so it costs nothing otherwise.
STRICT_ENV = "CITYWALL_STRICT_WORDS"
#: The hidden element whose ``data-words`` hands the catalog to the browser (``assets/words.js``).
WORDS_ID = "cw-words"


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def catalog(language: str) -> Mapping[str, str]:
    """Every word of a language (Indonesian for an unknown one), read once per process.

    Cached for the life of the process because the files are part of the installed package
    and never change under it. An entry left empty or marked fuzzy counts as missing, so an
    unfinished translation fails the word tests instead of showing English on a wall.
    """
    language = language if language in LANGUAGES else LANGUAGES[0]
    with catalog_path(language).open("rb") as f:
        po = read_po(f, locale=language, domain=DOMAIN)
    return MappingProxyType({str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy})


def age_words(seconds: float, language: str) -> str:
    """A length of time the way the screens write an age ("2 h 5 min"), as ``assets/citywall.js``
    does in the browser: days and hours past a day, hours and minutes past an hour."""
    s = max(0, int(seconds))
    if s >= 86_400:
        text = t("age_days", language, n=s // 86_400)
        return text + (f" {t('age_hours', language, n=s % 86_400 // 3_600)}" if s % 86_400 >= 3_600 else "")
    if s >= 3_600:
        text = t("age_hours", language, n=s // 3_600)
        return text + (f" {t('age_minutes', language, n=s % 3_600 // 60)}" if s % 3_600 >= 60 else "")
    if s >= 60:
        return t("age_minutes", language, n=s // 60)
    return t("age_seconds", language, n=s)


def word_or_code(prefix: str, code: str, language: str) -> str:
    """The catalog's word for ``<prefix>_<code>`` when it has one, else the code as it came:
    for sets the feeds or another version may extend (categories, dead-letter reasons), where
    a missing word is normal and the panel must still draw."""
    return catalog(language).get(f"{prefix}_{code}", code)


def category_word(key: str, language: str) -> str:
    """An incident category's word, else the category as the feed named it (any feed's)."""
    return word_or_code("cat", key, language)


def t(key: str, language: str, **fill: object) -> str:
    """The word for ``key`` in the configured language (Indonesian for an unknown language);
    ``fill`` fills its ``{placeholders}``.

    A missing word shows as its key on a running wall, where a gap is better than an error;
    under the test suite (``CITYWALL_STRICT_WORDS=1``) it raises ``KeyError`` instead.
    """
    try:
        word = catalog(language)[key]
    except KeyError:
        if os.environ.get(STRICT_ENV) == "1":
            raise KeyError(f"no word for {key!r} in language {language!r}") from None
        return key
    return word.format(**fill) if fill else word


def words_holder(language: str) -> html.Div:
    """A hidden element carrying the language's whole catalog as JSON, for the browser's words.

    Sent once with the app's layout (a few kilobytes), so scripts need no request of their own.
    """
    return html.Div(
        id=WORDS_ID,
        hidden=True,
        **attrs(
            {
                "data-words": json.dumps(dict(catalog(language)), ensure_ascii=False, sort_keys=True),
                "data-language": language if language in LANGUAGES else LANGUAGES[0],
            }
        ),
    )


def number(value: float | int | None, language: str, decimals: int = 0) -> str:
    if value is None:
        return "–"
    # 0, 0.0 and -0.0 are one cache entry, and Babel writes -0.0 as "-0": all zeros are 0
    return _number(value or 0, language, decimals)


@functools.lru_cache(maxsize=4_096)
def _number(value: float | int, language: str, decimals: int) -> str:
    """Babel parses the pattern and the locale on every call, and a panel that follows the
    city formats the same few counts again with each change."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    exact = half_up(value, decimals) if isinstance(value, float) and math.isfinite(value) else value
    return format_decimal(exact, format=pattern, locale=language)


def when(iso: str | None, tz: str, tz_label: str, language: str, with_date: bool = False) -> str:
    """An ISO time in the city's zone: ``14:32 WIB``, or with the long date."""
    if not iso:
        return "–"
    return f"{local_time(iso, tz, language, 'EEEE, d MMMM y HH:mm' if with_date else 'HH:mm')} {tz_label}"


def when_lately(iso: str | None, tz: str, tz_label: str, language: str, now: float) -> str:
    """``14:32 WIB`` for a time of the city's day at ``now``, ``3 Des 14:32 WIB`` for an
    earlier one: a monthly KPI measured three days ago read as this morning's."""
    if not iso:
        return "–"
    return f"{local_time_lately(iso, tz, language, now)} {tz_label}"


def local_time_lately(iso: str, tz: str, language: str, now: float, pattern: str = "HH:mm") -> str:
    """``pattern`` on the city's clock for a time of the city's day at ``now``, with the day
    before it (``3 Des 14:32``) for an earlier one."""
    zone = ZoneInfo(tz)
    today = datetime.fromtimestamp(now, zone).date() == _aware(iso).astimezone(zone).date()
    return local_time(iso, tz, language, pattern if today else f"d MMM {pattern}")


def day_start(now: float, tz: str) -> float:
    """The start of the city's day at ``now`` (epoch seconds): a view that says "today or not"
    keeps it, rather than ``now``, so it changes once a day and not with every second."""
    local = datetime.fromtimestamp(now, ZoneInfo(tz))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def _aware(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def local_time(iso: str, tz: str, language: str, pattern: str = "HH:mm") -> str:
    """An ISO time (UTC when it names no zone) on the city's clock, in a CLDR ``pattern``."""
    return format_datetime(_aware(iso), pattern, tzinfo=ZoneInfo(tz), locale=language)
