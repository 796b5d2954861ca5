"""The shift report's words, shared by its page and its XLSX download: a table's title, a
column's header, and a category, a severity or "no agency" as the wall says them.

The XLSX is what a supervisor opens in a spreadsheet and passes on; it said
``naturalDisaster``, ``critical`` and ``ack_median_min`` beside a page that said "Bencana
alam", "kritis" and "Median menit terima". The CSV keeps the data's codes, for programs.
"""

from __future__ import annotations

from typing import Any

from layouts.frame import SEVERITY_SHAPES
from layouts.i18n import category_word, t
from layouts.sections import REPORT_FIGURES, REPORT_UNASSIGNED

#: The catalog key of each table's title and of each column's header (``layouts.i18n``).
TITLES = {
    "by_period": "report_by_period",
    "by_severity": "report_by_severity",
    "by_category": "report_by_category",
    "by_agency": "report_by_agency",
}
HEADERS = {c: f"report_col_{c}" for c in ("period", "severity", "category", "agency", *REPORT_FIGURES)}


def title(name: str, language: str) -> str:
    return t(TITLES[name], language) if name in TITLES else name


def header(column: str, language: str) -> str:
    return t(HEADERS[column], language) if column in HEADERS else column


def word(value: Any, column: str, language: str) -> str | None:
    """A category, a severity or no agency in the wall's words ("Bencana alam", "kritis",
    "tanpa instansi"), not the data's codes; None for a value that has no word."""
    if column == "category" and isinstance(value, str):
        return category_word(value, language)
    if column == "severity" and isinstance(value, str):
        return t(value, language).lower() if value in SEVERITY_SHAPES else value
    if column == "agency" and value == REPORT_UNASSIGNED:
        # not "belum ditugaskan": most of these were dispatched or resolved by the field, whose
        # messages name no agency, while the wall showed them "dikirim"
        return t("agency_unnamed", language)
    return None
