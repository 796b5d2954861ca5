"""What an event does to the city's state: the ingest (write) side of the core.

``CityState`` is the ``EventSink`` the feed adapters write into. It turns each typed event
into one idempotent ``upsert`` on the store (plus a series point and a ticker line), and
keeps every set bounded by count and age so a wall that runs for weeks stays flat in memory.
It holds no state of its own beyond a housekeeping clock: any number of ingest processes can
share one Redis store.

The read side is elsewhere: ``dashboard.reader`` and ``dashboard.picture`` assemble what pages
and ``/api/v1/state`` show.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from dashboard.config import Config
from dashboard.incident_ops import OPS_KIND, iso, merged
from dashboard.picture import ts
from dashboard.read_models import INCIDENTS_RESOLVED, INDEXES, REPORTS_RESOLVED, rows_for
from dashboard.store.base import CapReached, SeriesPoint, StateStore, entity_series
from feeds.events import (
    CitizenReport,
    DeadLetter,
    Event,
    Incident,
    KpiReading,
    QueueReading,
    Reason,
    Rejected,
    WasteFill,
    WaterLevel,
)

HOUSEKEEPING_EVERY_S = 30.0
HOUSEKEEPING_PAGE = 1_000
HOUSEKEEPING_MAX = 1_000_000
#: After an eviction found nothing resolved to remove, new ids of that kind are refused
#: without looking again for this long: a flood of new open incidents past the cap must not
#: rescan every incident per message.
FULL_RECHECK_S = 5.0
#: Kinds whose resolved items may make room for new ones; the others are refused at the cap.
LIFECYCLE_KINDS = ("incident", "report")
#: A station, site, queue or KPI silent this long before a new id's reading gives way to it at
#: the cap. These kinds never age out otherwise: a burst of made-up ids (a misconfigured
#: gauge numbering its readings) that filled a cap kept every new real one out for good.
SILENT_GIVES_WAY_S = 7 * 86_400
#: Compare-and-swap tries to move an incident's opening earlier against concurrent writes.
OPENING_TRIES = 5
#: Looks at the operators' record after writing an incident (``CityState._kept_current``).
CURRENT_TRIES = 5
#: Each lifecycle kind's resolved items, the longest resolved first (``trim_resolved``).
RESOLVED_INDEX = {"incident": INCIDENTS_RESOLVED, "report": REPORTS_RESOLVED}


class CityState:
    def __init__(self, store: StateStore, config: Config, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.config = config
        self._clock = clock
        self._next_housekeeping = 0.0
        self._full_until: dict[str, float] = {}
        history = config.history
        self.caps = {
            "incident": history.open_incidents_max,
            "report": history.reports_max,
            "water_level": history.stations_max,
            "waste_fill": history.sites_max,
            "queue": history.queues_max,
            "kpi": history.kpis_max,
        }
        # how long resolved incidents and reports are kept: a day at least (with ``0`` nothing is)
        self._kept_days = max(history.resolved_days, 1)
        # the KPIs messages may set, longest first: "..._tmp" before a KPI named "tmp"
        self._message_kpis = sorted((k.id for _, k in config.kpis() if k.source == "message"), key=len, reverse=True)

    # --- EventSink ------------------------------------------------------------------------
    def accept(self, event: Event) -> bool:
        """Store one event; a new id past its kind's cap raises ``Rejected(too_many_entities)``.

        For incidents and reports, resolved items make room first (longest resolved first);
        for the other kinds, one silent for a week before the new reading. Open incidents and
        reports are never evicted to make room, so an operator never loses one unseen:
        past the cap it is the *new* one that is refused, counted and dead-lettered, and feed
        health shows the alarm.
        """
        if isinstance(event, KpiReading):
            event = self._named_kpi(event)
        doc = event.to_doc()
        observed = event.observed_at.timestamp()
        kind = event.kind
        shown = doc
        before: dict[str, Any] = {}
        record: dict[str, Any] | None = None
        field = doc  # what the message itself says
        if kind == "incident":  # the operators' record laid over it, as the wall shows it
            got = self.store.get_each({"incident": [doc["id"]], OPS_KIND: [doc["id"]]})
            record = got[OPS_KIND].get(doc["id"])
            before = got["incident"].get(doc["id"]) or {}
            if not before and self._older_than_kept(observed):
                raise self._replay(kind, event.id)
            doc = self._incident_doc(field, before, record)
            shown = merged(doc, record)
        elif kind == "report" and self._older_than_kept(observed) and not self.store.get(kind, [event.id]):
            raise self._replay(kind, event.id)
        cap = self.caps.get(kind)
        rows = rows_for(kind, shown, self.config)
        urgent = _urgent(kind, shown)

        def upsert() -> bool:
            return self.store.upsert(
                kind,
                event.id,
                observed,
                doc,
                series=self._series_point(event, observed),
                recent=_ticker_line(event, shown),
                recent_keep=self.config.history.ticker_events,
                cap=cap,
                rows=rows,
                urgent=urgent,
            )

        try:
            changed = upsert()
        except CapReached:
            if not self._make_room(kind, cap or 0, observed):
                raise Rejected(Reason.TOO_MANY_ENTITIES, f"{kind}: {cap} distinct ids kept; a new one is refused") from None
            try:
                changed = upsert()
            except CapReached:
                raise Rejected(Reason.TOO_MANY_ENTITIES, f"{kind}: {cap} distinct ids kept; a new one is refused") from None
        if not changed and kind == "incident" and before and _opening(doc) < _opening(before):
            changed = self._opened_earlier(event.id, doc, record)
        elif changed and kind == "incident" and before:  # a new incident has no record yet: no action could race it
            self._kept_current(event.id, observed, field, before, record)
        self._maybe_housekeep()
        return changed

    def _incident_doc(self, field: dict[str, Any], before: dict[str, Any], record: dict[str, Any] | None) -> dict[str, Any]:
        """The incident a field message makes of the stored one (``before``), given the operators' record."""
        doc = _with_field_times(_with_field_severity(field, before), before, record)
        return _with_field_reopening(doc, before, record, self._clock())

    def _kept_current(
        self, incident_id: str, observed: float, field: dict[str, Any], before: dict[str, Any], record: dict[str, Any] | None
    ) -> None:
        """The incident written again, with its rows, if the operators' record changed between
        this message's read of it and its write.

        Ingest builds an incident's rows from the record it read, and the desk builds them from
        the incident it read (``dashboard.desk``). A field message and an operator's action on
        one incident at the same moment left the rows of whichever wrote last without the
        other's change: the queue showed an incident the operator had acknowledged as new
        until its next message. So each writer looks at the other's side again after its own
        write, until it stands still; whichever writes last then builds from both."""
        for _ in range(CURRENT_TRIES):
            fresh = self.store.get(OPS_KIND, [incident_id]).get(incident_id)
            if fresh == record:
                return
            record = fresh
            doc = self._incident_doc(field, before, record)
            rows = rows_for("incident", merged(doc, record), self.config)
            if not self.store.swap("incident", incident_id, observed, observed, doc, rows):
                return  # a newer message was written since, and looks again itself

    def _older_than_kept(self, observed: float) -> bool:
        """Older than the city keeps resolved incidents and reports."""
        return observed < self._clock() - self._kept_days * 86_400

    def _replay(self, kind: str, entity_id: str) -> Rejected:
        """An incident or report the city does not hold, older than resolved ones are kept, is
        a replay: a gateway's buffer, a consumer group read again from the start, the create of
        one resolved and long since dropped. Taken, a month-old critical Alert came back open
        and took over a screen."""
        days = self._kept_days
        return Rejected(
            Reason.TOO_OLD,
            f"{kind} {entity_id[:80]}: from {days}+ days ago and not held (resolved ones are kept {days} days)",
        )

    def _named_kpi(self, reading: KpiReading) -> KpiReading:
        """The reading under the configured KPI its id ends with (after ``:``, ``-`` or ``/``),
        or refused. A KPI whose id was written with a namespace of its own
        (``...:pekanbaru:ketepatan_bus_tmp``) was counted accepted, never shown, and took a
        place under the KPI cap."""
        said = reading.kpi_id
        for kpi_id in self._message_kpis:
            if said == kpi_id:
                return reading
            if said.endswith(kpi_id) and said[-len(kpi_id) - 1] in ":-/":
                return replace(reading, kpi_id=kpi_id)
        known = ", ".join(sorted(self._message_kpis)[:12]) or "none: every KPI of this city is derived"
        raise Rejected(Reason.INVALID_VALUE, f"id: {said[:80]} names no KPI this city takes by message (known: {known})")

    def _opened_earlier(self, incident_id: str, late: dict[str, Any], record: dict[str, Any] | None) -> bool:
        """An older message, refused, may still know that the incident began earlier than the
        stored one says: the creation (dateIssued 10:00) arriving after an update that had no
        dateIssued (so read as opened at its own 10:20). Age and SLA count from the start, so
        the stored incident takes the earlier opening, and nothing else of the older message."""
        late_opened = _opening(late)
        for _ in range(OPENING_TRIES):
            stamped = self.store.read_stamped("incident", incident_id)
            if stamped is None:
                return False
            stamp, stored = stamped
            if late_opened >= _opening(stored):
                return False
            doc = {**stored, "opened_at": late.get("opened_at") or late["observed_at"]}
            if self.store.swap(
                "incident", incident_id, stamp, stamp, doc, rows_for("incident", merged(doc, record), self.config)
            ):
                return True
        return False

    def _make_room(self, kind: str, cap: int, observed: float) -> bool:
        """Room for one new id: resolved items of a lifecycle kind go, down to ``cap - 1``; of
        any other kind (stations, sites, queues, KPIs) the one silent longest goes, if it has
        been silent for ``SILENT_GIVES_WAY_S`` before the new reading. False if none could go."""
        now = self._clock()
        if self._full_until.get(kind, 0.0) > now:
            return False
        if kind in LIFECYCLE_KINDS:
            made = self.trim_resolved(kind, cap - 1) > 0
        else:
            silent = self.store.oldest(kind, observed - SILENT_GIVES_WAY_S, limit=1)
            made = bool(silent) and self.store.delete(kind, silent) > 0
        if not made:
            self._full_until[kind] = now + FULL_RECHECK_S
        return made

    def reject(self, letter: DeadLetter) -> None:
        self.store.dead_letter(letter.to_doc(), keep=self.config.feeds.dead_letters_kept)

    def record_feed(self, feed: str, counts: dict[str, int], status: dict[str, Any]) -> None:
        self.store.record_feed(feed, counts, status)

    # --- bounds ---------------------------------------------------------------------------
    def housekeep(self, now: float | None = None) -> int:
        """Drop what has aged out and cap what has grown; returns how many entities went."""
        now = self._clock() if now is None else now
        history = self.config.history
        removed = self._drop_resolved("incident", now - history.resolved_days * 86_400)
        removed += self._drop_resolved("report", now - history.resolved_days * 86_400)
        removed += self.trim_resolved("incident", history.open_incidents_max)
        self.store.trim(OPS_KIND, history.open_incidents_max)  # operators' records never outnumber incidents
        removed += self.trim_resolved("report", history.reports_max)
        return removed

    def trim_resolved(self, kind: str, keep: int) -> int:
        """Down to ``keep`` by removing resolved items, the longest resolved first; open ones
        always stay.

        They go from the kind's resolved read model, which holds incidents as the wall shows
        them, operators' records laid over: one an operator reopened stays, one an operator
        resolved can go, and it costs what goes. Listing every item by age and reading them
        in pages until a resolved one turned up cost each new incident at the cap 9.7 ms at
        20,000, and judged the field's own status alone."""
        excess = self.store.count(kind) - keep
        if excess <= 0:
            return 0
        longest = self.store.index_page(RESOLVED_INDEX[kind], limit=min(excess, HOUSEKEEPING_MAX))
        ids = [str(doc["id"]) for _, doc in longest]
        return self.store.delete(kind, ids, INDEXES[kind]) if ids else 0

    def _maybe_housekeep(self) -> None:
        now = self._clock()
        if now >= self._next_housekeeping:
            self._next_housekeeping = now + HOUSEKEEPING_EVERY_S
            self.housekeep(now)

    def _drop_resolved(self, kind: str, before: float) -> int:
        """Resolved items past their keep time; open ones stay however old (the cap bounds them).

        Only the ids of entities last changed before the cut-off are listed, and only those
        documents are read, so housekeeping costs what has aged out, not the whole open set.
        """
        old = self.store.oldest(kind, before, limit=HOUSEKEEPING_MAX)
        gone = 0
        for start in range(0, len(old), HOUSEKEEPING_PAGE):
            docs = self.store.get(kind, old[start : start + HOUSEKEEPING_PAGE])
            if kind == "incident":  # an operator may have resolved (or reopened) it since
                records = self.store.get(OPS_KIND, list(docs))
                docs = {i: merged(doc, records.get(i)) for i, doc in docs.items()}
            resolved = [
                i
                for i, doc in docs.items()
                if doc.get("status") == "resolved" and ts(doc.get("resolved_at") or doc["observed_at"]) < before
            ]
            if resolved:
                gone += self.store.delete(kind, resolved, INDEXES.get(kind, ()))
                if kind == "incident":
                    self.store.delete(OPS_KIND, resolved)
        return gone

    def _series_point(self, event: Event, observed: float) -> SeriesPoint | None:
        value: float | None = None
        if isinstance(event, WaterLevel):
            value = event.level_m
        elif isinstance(event, QueueReading):
            value = float(event.served_today)
        elif isinstance(event, WasteFill):
            value = event.fill
        if value is None:
            return None
        history = self.config.history
        return SeriesPoint(
            key=entity_series(event.kind, event.id),
            t=observed,
            value=value,
            step_s=60,
            max_points=history.series_points,
            max_age_s=history.series_age_h * 3_600,
        )


def _with_field_severity(doc: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """An incident with the severity the field last named, and since when it has named it
    (``severity_at``: the message that first named it; None: never); ``before`` is the stored one.

    A message that names no severity (a status update, a field system re-sending a few
    attributes) was read as "medium": it took a critical incident down to medium on the wall,
    and undid an operator's escalation made before it. It now leaves the incident's severity
    as it was, and an operator's stands until the field names another one after it
    (``incident_ops.merged``). A message that names the severity the field named before is
    no new judgement either: field systems repeat theirs with every status update, and an
    operator's escalation went back down at the next one, minutes later, unsaid."""
    out = dict(doc)
    if out.pop("severity_said", True):
        repeated = bool(before) and before.get("severity") == out["severity"] and before.get("severity_at") is not None
        out["severity_at"] = before["severity_at"] if repeated else doc["observed_at"]
    elif before:
        out["severity"] = before.get("severity", out["severity"])
        out["severity_at"] = before.get("severity_at")
    else:
        out["severity_at"] = None
    return out


def _with_field_times(doc: dict[str, Any], before: dict[str, Any], record: dict[str, Any] | None) -> dict[str, Any]:
    """An incident with when the field itself moved it on: ``acked_at`` from the first
    message past "new" (kept if the field says "new" again), ``resolved_at`` from the
    first that said "resolved" since it was last open; ``before`` is the stored one.

    An Alert carries no such times, and each message replaces the last: without these, a
    field acknowledgement counted as none and a resolution re-sent hours later counted
    from the re-send, so the shift report and the tablet showed SLA breaches that never
    happened. An operator's own times, when earlier, still win (``incident_ops.merged``),
    and an operator's reopening starts a new resolution (``record``)."""
    status = doc.get("status") or "new"
    out = dict(doc)
    acked = before.get("acked_at") or (doc["observed_at"] if status != "new" else None)
    if acked:
        out["acked_at"] = acked
        out["acked_severity"] = before.get("acked_severity") or doc.get("severity")
    if status == "resolved":
        was_resolved = merged(before, record).get("status") == "resolved" if before else False
        out["resolved_at"] = (before.get("resolved_at") if was_resolved else None) or doc["observed_at"]
    return out


def _with_field_reopening(
    doc: dict[str, Any], before: dict[str, Any], record: dict[str, Any] | None, heard_at: float
) -> dict[str, Any]:
    """An incident with when the city last heard the field reopen it (``reopened_at``): a push
    keeps the value it found, and the wall ends one whose incident has been reopened since
    (``dashboard.wall_control.wall_part``). The field's resolve takes a pushed incident off
    its screen at once, but the push's minutes ran on in the wall's record, and a reopen
    from the field within them put it back on the wall, unasked. The value is compared, never
    ordered, so the clocks of ingest and of the desk need not agree."""
    out = dict(doc)
    was_resolved = bool(before) and merged(before, record).get("status") == "resolved"
    if was_resolved and merged(doc, record).get("status") != "resolved":
        out["reopened_at"] = iso(heard_at)
    elif before.get("reopened_at"):
        out["reopened_at"] = before["reopened_at"]
    return out


def _opening(doc: dict[str, Any]) -> float:
    """When an incident began, as its document says (epoch seconds)."""
    return ts(doc.get("opened_at") or doc["observed_at"])


def _ticker_line(event: Event, shown: dict[str, Any]) -> dict[str, Any] | None:
    """A short line for the ticker: only the events an operator would want to read. An
    incident's line says its severity and status as the wall shows them after the message
    (``shown``: the operators' record laid over it): a field message that repeated an earlier
    stage read "DITERIMA" on the ticker beside "DIKIRIM · SatpolPP" in the queue."""
    if isinstance(event, Incident):
        text = event.description or event.category
        return {
            "t": shown["observed_at"],
            "kind": "incident",
            "id": event.id,
            "severity": shown["severity"],  # the incident's, when the message named none
            "status": shown.get("status") or event.status,
            "kecamatan": event.kecamatan,
            "text": text[:160],
        }
    if isinstance(event, CitizenReport):
        return {
            "t": shown["observed_at"],
            "kind": "report",
            "id": event.id,
            "topic": event.topic,
            "channel": event.channel,
            "status": event.status,
            "kecamatan": event.kecamatan,
            "text": (event.description or event.category)[:160],
        }
    return None


def _urgent(kind: str, shown: dict[str, Any]) -> bool:
    """A change to an open critical incident: the screens show it at once instead of with their
    next frame (``layouts.push``). Critical incidents are few; the rest of the city waits its
    turn, which keeps the frames per second of a busy city bounded."""
    return kind == "incident" and shown.get("severity") == "critical" and shown.get("status") != "resolved"
