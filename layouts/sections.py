"""The shapes of the picture's read models: one definition for the store side that builds
them (``dashboard.picture``), the panels, the tablet, the API, the PDF and the tests.

They are ``TypedDict``s: the picture travels as JSON to the browser, the API and the PDF
unchanged, and a type checker holds every reader and the builder to the same keys.
"""

from __future__ import annotations

from typing import Any, TypedDict


class IncidentsSection(TypedDict):
    """Open incidents, from the read models the store keeps at write time."""

    open: list[dict[str, Any]]  #: the most urgent first (severity, then newest), at most ``TOP_ROWS``, with ``age_s``
    open_count: int
    by_severity: dict[str, int]
    by_status: dict[str, int]
    by_kecamatan: dict[str, int]
    by_category: dict[str, int]
    by_assignee: dict[str, int]
    resolved_24h: int
    resolved_within_sla_24h: int


class ReportsSection(TypedDict):
    """Open citizen reports, whatever their family or channel."""

    open: int
    open_by_topic: dict[str, int]
    open_by_channel: dict[str, int]


class Page(TypedDict):
    """One page of a paginated list (``GET /api/v1/incidents``, ``/reports``)."""

    items: list[dict[str, Any]]
    next: str | None  #: the cursor of the next page; None at the end


def incidents_of(picture: dict[str, Any] | None) -> IncidentsSection:
    """The picture's incidents section, or an empty one: a panel renders, never raises, on gaps."""
    found = (picture or {}).get("incidents")
    if isinstance(found, dict) and "open" in found:
        return found  # type: ignore[return-value]
    return IncidentsSection(open=[], open_count=0, by_severity={}, by_status={}, by_kecamatan={}, by_category={},
                            by_assignee={}, resolved_24h=0, resolved_within_sla_24h=0)


def reports_of(picture: dict[str, Any] | None) -> ReportsSection:
    """The picture's reports section, or an empty one."""
    found = (picture or {}).get("reports")
    if isinstance(found, dict) and "open" in found:
        return found  # type: ignore[return-value]
    return ReportsSection(open=0, open_by_topic={}, open_by_channel={})
