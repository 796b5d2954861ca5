"""How a KPI's numbers read on the tablet: values, targets, changes and the times on a chart's axis.

Every figure is written out as text in the city's language (separators, units, words), so
what a chart shows can also be read without it, and in the PDF.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from layouts.i18n import age_words, number, t
from layouts.ports import ViewSettings
from layouts.sections import round_half_up


def decimals(value: float, unit: str) -> int:
    """How many decimals a KPI value shows: whole numbers none, percentages and tens one, else two."""
    return 0 if float(value).is_integer() else (1 if unit == "%" or abs(value) >= 10 else 2)


def shown(value: float, unit: str) -> float:
    """The value as the tablet writes it. Its standing is judged on this, so 79.96 against a
    target of 80 % reads "80,0 %" and good, not "80,0 %" and fair."""
    return round_half_up(float(value), decimals(value, unit))


def amount(value: float | int | None, unit: str, language: str) -> str:
    """A KPI value: whole numbers stay whole, others get one decimal, percent sticks to the number."""
    if value is None:
        return "–"
    places = decimals(value, unit)
    text = number(float(value), language, places)
    return f"{text}%" if unit == "%" else (f"{text} {unit}" if unit else text)


def target_text(k: dict[str, Any], language: str) -> str:
    sign = "≥" if k["better"] == "higher" else "≤"
    return f"{t('target', language)} {sign} {amount(k['target'], k['unit'], language)}"


def _local(ts: float, pattern: str, settings: ViewSettings) -> str:
    return format_datetime(datetime.fromtimestamp(ts, UTC), pattern, tzinfo=ZoneInfo(settings.timezone), locale=settings.language)


def axis_labels(range_: str, start: float, end: float, settings: ViewSettings) -> list[str]:
    """Start, middle and end of a span in the city's time: hours for a day, dates beyond."""
    first, middle = {"day": ("EEE HH:mm", "HH:mm"), "week": ("EEE d/M", "EEE d/M"), "month": ("d MMM", "d MMM")}[range_]
    return [_local(start, first, settings), _local((start + end) / 2, middle, settings), t("now", settings.language)]


def delta_amount(size: float, scale: float, unit: str, language: str) -> str:
    """A change at the precision of the KPI itself; a change of a percentage is in points."""
    if unit == "%":
        return f"{number(float(size), language, 1)} {t('points', language)}"
    decimals = 0 if float(size).is_integer() else (1 if scale >= 10 else 2)
    text = number(float(size), language, decimals)
    return f"{text} {unit}" if unit else text


def covered_text(s: dict[str, Any], range_: str, language: str) -> str:
    """How long the change was measured over: the span ("24 h"), or, while the history is
    shorter than nine tenths of it, the time since its first point ("12 min"). A KPI five
    minutes old read "up 3 over 24 h" on the mayor's tablet."""
    covered = s["end"] - s.get("first_at", s["start"])
    if covered >= 0.9 * (s["end"] - s["start"]):
        return t(f"span_short_{range_}", language)
    return age_words(covered, language)


def change_text(s: dict[str, Any], k: dict[str, Any], range_: str, language: str) -> tuple[str, str]:
    """How the KPI moved over the span, and whether that is good: ("▲ up 5 over 24 h", "worse")."""
    first, last = s["first"], s["last"]
    delta = last - first
    scale = max(abs(k["target"] or 0), abs(last), 1.0)
    within = t("in_span", language, span=covered_text(s, range_, language))
    if abs(delta) < 0.01 * scale:
        return f"● {t('steady', language)} {within}", "steady"
    up = delta > 0
    arrow, verb = ("▲", t("up", language)) if up else ("▼", t("down", language))
    good = up == (k["better"] == "higher")
    size = delta_amount(abs(delta), max(abs(first), abs(last)), k["unit"], language)
    return f"{arrow} {verb} {size} {within}", "better" if good else "worse"
