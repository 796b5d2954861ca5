"""The read models of the sets that grow with the city: incidents and citizen reports.

A city keeps thousands of open incidents, yet a screen shows the dozen most urgent, a
count per severity and a count per kecamatan. So each incident or report, when it is
written, also writes its rows in a few indexes (``IndexRow``), in the same atomic step; a
reader then takes the top rows, the counts per tag and the counts in a time window, each in
O(log n), and nothing ever reads every incident to draw a screen.

Keys sort as plain strings: a fixed-width prefix (severity rank, a time) and then the id, so
two rows never share a key and ties fall back to the id, as the screens always sorted.

=====================  ===============================================  =======================
index                  key                                              for
=====================  ===============================================  =======================
``incidents:open``     severity rank, newest opened first, id           the queue, the map,
                                                                        counts per tag
``incidents:new``      severity rank, oldest opening first, id          takeover rules
``incidents:all``      id                                               the paginated API
``incidents:resolved`` resolution time, id                              resolved in 24 h
``…:resolved_sla``     the same, only those within their SLA            … within SLA
``reports:open``       newest observation first, id                     counts per topic,
                                                                        channel, kecamatan
``reports:all``        id                                               the paginated API
``reports:waste_resolved`` hours to resolve, id                         median
``…:waste_resolved_at``    resolution time, id                              resolved in 24 h
``…:waste_resolved_sla``   the same, only those within the waste SLA        … within SLA
=====================  ===============================================  =======================
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from dashboard.config import Config
from dashboard.store.base import IndexRow, StateStore
from feeds.events import SEVERITY_RANK

INCIDENTS_OPEN = "incidents:open"
INCIDENTS_NEW = "incidents:new"
INCIDENTS_ALL = "incidents:all"
INCIDENTS_RESOLVED = "incidents:resolved"
INCIDENTS_RESOLVED_SLA = "incidents:resolved_sla"
REPORTS_OPEN = "reports:open"
REPORTS_ALL = "reports:all"
REPORTS_RESOLVED = "reports:resolved"
WASTE_RESOLVED = "reports:waste_resolved"
WASTE_RESOLVED_AT = "reports:waste_resolved_at"
WASTE_RESOLVED_SLA = "reports:waste_resolved_sla"

#: Which layout of rows this release writes. Raise it with any change to a row's key, tags or
#: document, or to the indexes a kind writes: an ingest process that finds a store written
#: under another layout rewrites every row once (``dashboard.reindex``).
READ_MODELS_VERSION = 2

#: Every index a kind writes rows in: a deleted entity leaves all of them.
INDEXES: dict[str, tuple[str, ...]] = {
    "incident": (INCIDENTS_OPEN, INCIDENTS_NEW, INCIDENTS_ALL, INCIDENTS_RESOLVED, INCIDENTS_RESOLVED_SLA),
    "report": (REPORTS_OPEN, REPORTS_ALL, REPORTS_RESOLVED, WASTE_RESOLVED, WASTE_RESOLVED_AT, WASTE_RESOLVED_SLA),
}

#: Times in keys: epoch seconds, fixed width, so string order is time order until year 5138.
_LATEST = 99_999_999_999.999
#: Hours to resolve are never below 0 (``report_rows``); the offset keeps a key written by an
#: older writer, which let them be negative when clocks disagreed, in order.
_HOURS_OFFSET = 1_000_000.0


def time_key(t: float) -> str:
    return f"{max(t, 0.0):015.3f}"


def newest_first(t: float) -> str:
    return f"{_LATEST - max(t, 0.0):015.3f}"


def hours_key(hours: float) -> str:
    return f"{hours + _HOURS_OFFSET:018.6f}"


def _key(prefix: str, entity_id: str) -> str:
    return _clean(f"{prefix}|{entity_id}")


def _clean(text: str) -> str:
    """The Redis store separates key and tags with U+001F; the text normaliser already
    refuses control characters, this keeps the store safe from any other writer."""
    return text.replace("\x1f", " ")


def ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


# --- incidents ----------------------------------------------------------------------------
def incident_rows(doc: dict[str, Any], config: Config) -> tuple[IndexRow, ...]:
    """The rows of one incident as the wall shows it (already merged with the operators' record)."""
    entity_id = str(doc["id"])
    severity = doc.get("severity") or "medium"
    rank = SEVERITY_RANK.get(severity, 2)
    opened = ts(doc.get("opened_at") or doc["observed_at"])
    rows = [IndexRow(INCIDENTS_ALL, entity_id, _key("", entity_id), doc)]
    if doc.get("status") == "resolved":
        resolved = ts(doc.get("resolved_at") or doc["observed_at"])
        key = _key(time_key(resolved), entity_id)
        limits = cast(dict[str, Any], config.operations.sla).get(severity)  # stored text, not a Severity
        within = limits is None or (resolved - opened) / 60 <= limits.resolve_min  # the shift report's table
        small = {"id": entity_id, "severity": severity}
        rows += [
            IndexRow(INCIDENTS_OPEN, entity_id),
            IndexRow(INCIDENTS_NEW, entity_id),
            IndexRow(INCIDENTS_RESOLVED, entity_id, key, small),
            IndexRow(INCIDENTS_RESOLVED_SLA, entity_id, key if within else None, small if within else None),
        ]
        return tuple(rows)
    tags = [
        f"severity:{doc.get('severity')}",
        f"status:{doc.get('status')}",
        f"kecamatan:{doc.get('kecamatan') or '?'}",
        f"category:{counted_category(doc.get('category'), config)}",
    ]
    if doc.get("assignee"):
        tags.append(f"assignee:{doc['assignee']}")
    rows.append(
        IndexRow(INCIDENTS_OPEN, entity_id, _key(f"{rank}{newest_first(opened)}", entity_id), doc, tuple(_clean(t) for t in tags))
    )
    if (doc.get("status") or "new") == "new":
        rows.append(IndexRow(INCIDENTS_NEW, entity_id, _key(f"{rank}{time_key(opened)}", entity_id), doc))
    else:
        rows.append(IndexRow(INCIDENTS_NEW, entity_id))
    rows += [IndexRow(INCIDENTS_RESOLVED, entity_id), IndexRow(INCIDENTS_RESOLVED_SLA, entity_id)]
    return tuple(rows)


# --- citizen reports ----------------------------------------------------------------------
def report_rows(doc: dict[str, Any], config: Config) -> tuple[IndexRow, ...]:
    entity_id = str(doc["id"])
    topic = doc.get("topic") or "other"
    rows = [IndexRow(REPORTS_ALL, entity_id, _key("", entity_id), doc)]
    if doc.get("status") == "resolved":
        resolved = ts(doc.get("resolved_at") or doc["observed_at"])
        rows.append(IndexRow(REPORTS_OPEN, entity_id))
        rows.append(IndexRow(REPORTS_RESOLVED, entity_id, _key(time_key(resolved), entity_id), {"id": entity_id}))
    else:
        rows.append(IndexRow(REPORTS_RESOLVED, entity_id))
        tags = [f"topic:{topic}", f"kecamatan:{topic}:{doc.get('kecamatan') or '?'}"]
        if doc.get("channel"):
            tags.append(f"channel:{doc['channel']}")
        rows.append(
            IndexRow(
                REPORTS_OPEN,
                entity_id,
                _key(newest_first(ts(doc["observed_at"])), entity_id),
                doc,
                tuple(_clean(t) for t in tags),
            )
        )
    if topic == "waste" and doc.get("status") == "resolved" and doc.get("resolved_at") and doc.get("opened_at"):
        resolved = ts(doc["resolved_at"])
        # closed "before" it opened: two systems' clocks disagree, and it took no time (as the
        # shift report counts it); the wall read "-0,2 jam" as the median time to resolve
        hours = max(0.0, resolved - ts(doc["opened_at"])) / 3_600
        at = _key(time_key(resolved), entity_id)
        within = hours <= config.thresholds.waste_report_sla_h
        rows += [
            IndexRow(WASTE_RESOLVED, entity_id, _key(hours_key(hours), entity_id), {"hours": hours}),
            IndexRow(WASTE_RESOLVED_AT, entity_id, at, {"id": entity_id}),
            IndexRow(WASTE_RESOLVED_SLA, entity_id, at if within else None, {"id": entity_id} if within else None),
        ]
    else:
        rows += [
            IndexRow(WASTE_RESOLVED, entity_id),
            IndexRow(WASTE_RESOLVED_AT, entity_id),
            IndexRow(WASTE_RESOLVED_SLA, entity_id),
        ]
    return tuple(rows)


#: Categories counted under their own name: the Alert data model's and those the word catalog
#: names. A city counts more of its own by giving each a procedure (``operations.sop``).
COUNTED_CATEGORIES = frozenset(
    {"traffic", "naturalDisaster", "weather", "environment", "health", "security", "agriculture", "water"}
)
OTHER_CATEGORY = "other"


def counted_category(category: Any, config: Config) -> str:
    """The category an open incident is counted under (``by_category``): its own, or "other".

    Each category counted is a tag that every picture reads on every change of the incidents;
    a feed of made-up categories (any text up to 120 characters) made that cost grow with the
    city, 11.5 ms a change at 19,000 open incidents. The incident itself keeps its word."""
    if category in COUNTED_CATEGORIES or category in config.operations.sop:
        return str(category)
    return OTHER_CATEGORY


def rows_for(kind: str, doc: dict[str, Any], config: Config) -> tuple[IndexRow, ...]:
    if kind == "incident":
        return incident_rows(doc, config)
    if kind == "report":
        return report_rows(doc, config)
    return ()


# --- reading ------------------------------------------------------------------------------
def tag_counts(tags: dict[str, int], name: str) -> dict[str, int]:
    """``{"severity:high": 3}`` -> ``{"high": 3}`` for one tag name."""
    prefix = f"{name}:"
    return {tag[len(prefix) :]: n for tag, n in tags.items() if tag.startswith(prefix)}


def waste_resolved_day(store: StateStore, now: float) -> tuple[int, int]:
    """(resolved in the last 24 hours, of those within the SLA): two O(log n) counts. They
    counted every resolution held, up to ``history.resolved_days``, under headings that said
    today and 24 h."""
    day_ago = time_key(now - 86_400)
    return store.index_count(WASTE_RESOLVED_AT, low=day_ago), store.index_count(WASTE_RESOLVED_SLA, low=day_ago)


def waste_median_hours(store: StateStore) -> float | None:
    """The median hours to resolve over the resolutions held, from the hours index: O(log n)."""
    resolved = store.index_count(WASTE_RESOLVED)
    if not resolved:
        return None
    middle = store.index_page(WASTE_RESOLVED, offset=(resolved - 1) // 2, limit=2 - resolved % 2)
    hours = [float(doc["hours"]) for _, doc in middle]
    return sum(hours) / len(hours)


def page(store: StateStore, index: str, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """One page of an index and the cursor of the next (None at the end): the paginated API."""
    rows = store.index_page(index, after=cursor, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return [doc for _, doc in rows], (rows[-1][0] if more and rows else None)
