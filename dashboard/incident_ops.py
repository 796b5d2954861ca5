"""The incident workflow's rules: what an operator's action does to an incident's record.

Field systems and operators both change an incident. The field's ``Alert`` is stored as the
incident itself (``kind="incident"``); what operators did lives next to it in an operations
record (``kind="incident_ops"``, same id): status and severity as they set them and when,
the assignee, SOP ticks, notes and a bounded history. Neither overwrites the other, so a
field update never wipes an assignee and an action never loses the field's description.

"The newest observation wins": status and severity are each taken from whichever said it
last, the field message (its ``observed_at``) or the operator (the action's time). A field
app that marks an incident resolved after the operator assigned it resolves it; an operator
who reopens it afterwards reopens it. The assignee, notes and SOP come only from operators.

Everything here is pure: a record in, a record out, or an ``ActionError`` that says why not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from dashboard.ops_config import SEVERITIES, Operations

#: The kind the operators' record is stored under, beside the field's ``incident`` of the same id.
OPS_KIND = "incident_ops"

ACTIONS = ("acknowledge", "assign", "note", "escalate", "deescalate", "resolve", "reopen", "tick", "untick")
TEXT_MAX = 1_000


class ActionError(ValueError):
    """An action that cannot be applied: ``status`` is the HTTP status that says why (409: not
    in this state, 422: a bad argument, 404: no such incident).

    ``reason`` is for the API's clients; ``word`` (a catalog key, filled with ``fill``) is how
    the console says it to an operator in the city's language, where one is known."""

    def __init__(self, status: int, reason: str, word: str | None = None, **fill: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.word = word
        self.fill = fill


@dataclass(frozen=True)
class Actor:
    """Who acts: the principal's name and role, how they signed in, and from where."""

    name: str
    role: str
    via: str = "session"
    origin: str = ""


@dataclass(frozen=True)
class Action:
    action: str
    agency: str | None = None
    text: str | None = None
    severity: str | None = None
    code: str | None = None
    step: int | None = None
    #: the assignee the caller last saw ("" for none): an assignment made meanwhile by someone
    #: else is then refused instead of silently replaced
    assignee_seen: str | None = None


#: The lifecycle's stages in order (``feeds.events.IncidentStatus``).
LIFECYCLE = {"new": 0, "acknowledged": 1, "dispatched": 2, "resolved": 3}


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def merged(incident: dict[str, Any], record: dict[str, Any] | None) -> dict[str, Any]:
    """The incident as the wall shows it: the field's document with the operators' record laid
    over it where the operator spoke last."""
    if not record:
        return incident
    observed = ts(incident["observed_at"]) if incident.get("observed_at") else 0.0
    out = dict(incident)
    # The field moves an incident on, never back: an operator's stage stands against a later
    # message that says an earlier one. A field system that knows nothing of the desk re-sent
    # "new" after an operator's acknowledgement and put it back as unseen, firing its takeover
    # again; one still sending "acknowledged" after an operator's resolve put it back on the
    # wall, with nothing in its history to say why. A later stage from the field shows.
    status = record.get("status")
    if status and (record.get("status_at", 0.0) >= observed or _stage(status) > _stage(out.get("status"))):
        out["status"] = status
    if record.get("severity") and record.get("severity_at", 0.0) >= _severity_said_at(incident, observed):
        out["severity"] = record["severity"]
    if record.get("assignee"):
        out["assignee"] = record["assignee"]
    if record.get("acked_at") and (not out.get("acked_at") or ts(record["acked_at"]) < ts(out["acked_at"])):
        out["acked_at"] = record["acked_at"]  # whoever acknowledged first: the field or an operator
        if record.get("acked_severity"):
            out["acked_severity"] = record["acked_severity"]
    if record.get("late_as"):  # the report judges the acknowledgement at the level it was late at
        out["late_as"] = record["late_as"]
    if record.get("resolved_at") and out.get("status") == "resolved":
        out["resolved_at"] = record["resolved_at"]
        out["resolution"] = record.get("resolution")
    elif out.get("status") != "resolved":
        out.pop("resolved_at", None)  # the field's, from before an operator reopened it
    return out


def _severity_said_at(incident: dict[str, Any], observed: float) -> float:
    """When the field last named the incident's severity (``dashboard.ingest``): never, for
    one that came without; its own time, for a document stored before this was kept."""
    if "severity_at" not in incident:
        return observed
    said = incident["severity_at"]
    return ts(said) if said else -math.inf


#: Characters that take no room: a note of them alone was saved, and showed as a blank line.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def _visible(text: str) -> bool:
    """Whether ``text`` shows anything: more than white space and zero-width characters."""
    return bool(text.translate(_INVISIBLE).strip())


def _stage(status: str | None) -> int:
    """How far along its lifecycle a status is (an unknown one counts as new)."""
    return LIFECYCLE.get(status or "new", 0)


def merge_all(incidents: dict[str, dict[str, Any]], records: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every incident merged with its record; costs the number of records, not of incidents."""
    if not records:
        return incidents
    out = dict(incidents)
    for incident_id, record in records.items():
        doc = incidents.get(incident_id)
        if doc is not None:
            out[incident_id] = merged(doc, record)
    return out


def sop_steps(incident: dict[str, Any], ops: Operations) -> list[str]:
    return list(ops.sop.get(incident.get("category") or "", ops.sop.get("default", [])))


def apply(
    record: dict[str, Any] | None,
    incident: dict[str, Any],
    action: Action,
    actor: Actor,
    at: float,
    ops: Operations,
    done_at: float | None = None,
) -> dict[str, Any]:
    """The record after ``action``; raises ``ActionError`` when the action does not apply.

    ``at`` orders the action against the field's messages (``status_at``); ``done_at`` (default
    ``at``) is when it was done, written into its history, notes, ticks and SLA times. The two
    differ when the field's clock runs ahead: the action must count as newer than the Alert it
    answers, but an acknowledgement made at 10:00:00 is not one made at 10:03:20."""
    if action.action not in ACTIONS:
        raise ActionError(422, f"unknown action {action.action!r} (known: {', '.join(ACTIONS)})")
    if action.text is not None and len(action.text) > TEXT_MAX:
        raise ActionError(422, f"text is longer than {TEXT_MAX} characters")
    rec: dict[str, Any] = {"notes": [], "history": [], "sop": {}, **(record or {})}
    rec["notes"], rec["sop"] = list(rec["notes"]), dict(rec["sop"])
    rec["history"] = with_field_severity(list(rec["history"]), incident, rec)
    if incident.get("severity_at"):
        rec["field_severity_told"] = incident["severity_at"]  # told, or no news: only a later one is
    now = merged(incident, record)
    status, severity = now.get("status") or "new", now.get("severity") or "medium"
    when = iso(at if done_at is None else done_at)
    entry: dict[str, Any] = {"at": when, "by": actor.name, "role": actor.role, "action": action.action}

    def set_status(value: str) -> None:
        rec["status"], rec["status_at"] = value, at
        entry["status"] = value

    kind = action.action
    if kind == "acknowledge":
        if status != "new":
            raise ActionError(409, f"incident is {status}, not new", "err_not_new", state=status)
        set_status("acknowledged")
        rec.setdefault("acked_at", when)
        rec.setdefault("acked_severity", severity)  # its SLA is the one of that moment
        rec.setdefault("acked_by", actor.name)
    elif kind == "assign":
        if status == "resolved":
            raise ActionError(409, "incident is resolved; reopen it first", "err_reopen_first")
        agency = ops.agency(action.agency or "")
        if agency is None:
            known = ", ".join(a.id for a in ops.agencies) or "none configured"
            said = f"unknown agency {action.agency!r}" if action.agency else "an assignment needs an agency"
            raise ActionError(422, f"{said} (known: {known})", "err_choose_agency")
        assignee = now.get("assignee") or ""
        if assignee == agency.id and status == "dispatched":
            # a second press dispatched the same crew again: another write-back to the agency
            raise ActionError(409, f"incident is already assigned to {agency.id}", "err_already_assigned", agency=agency.id)
        if action.assignee_seen is not None and action.assignee_seen != assignee and assignee != agency.id:
            # two operators assigning one incident at once each read "dispatched" and believed their own agency
            raise ActionError(
                409, f"assigned to {assignee} meanwhile; look again, then assign", "err_assigned_meanwhile", agency=assignee
            )
        set_status("dispatched")
        rec["assignee"] = agency.id
        rec.setdefault("acked_at", when)
        rec.setdefault("acked_severity", severity)  # its SLA is the one of that moment
        rec.setdefault("acked_by", actor.name)
        entry["agency"] = agency.id
    elif kind == "note":
        if not _visible(action.text or ""):
            raise ActionError(422, "a note needs text", "err_note_text")
    elif kind in ("escalate", "deescalate"):
        if status == "resolved":  # "+" on a resolved incident moved it to another row of the shift report
            raise ActionError(409, "incident is resolved; reopen it first", "err_reopen_first")
        rank = SEVERITIES.index(severity) if severity in SEVERITIES else 2
        if action.severity is not None:
            if action.severity not in SEVERITIES:
                raise ActionError(422, f"unknown severity {action.severity!r}")
            target = SEVERITIES.index(action.severity)
        else:
            target = rank - 1 if kind == "escalate" else rank + 1
        if not 0 <= target < len(SEVERITIES):
            raise ActionError(409, f"severity is already {severity}", "err_severity_end", severity=severity)
        if (kind == "escalate" and target >= rank) or (kind == "deescalate" and target <= rank):
            raise ActionError(422, f"{kind} from {severity} to {SEVERITIES[target]} goes the wrong way")
        if not now.get("acked_at"):
            rec["late_as"] = _late_as(rec, now, severity, ops, at if done_at is None else done_at)
        rec["severity"], rec["severity_at"] = SEVERITIES[target], at
        entry["severity"] = SEVERITIES[target]
    elif kind == "resolve":
        if status == "resolved":
            raise ActionError(409, "incident is already resolved", "err_already_resolved")
        codes = {c.code for c in ops.resolution_codes}
        if action.code not in codes:
            said = f"unknown resolution code {action.code!r}" if action.code else "resolving needs a resolution code"
            raise ActionError(422, f"{said} (known: {', '.join(sorted(codes))})", "err_choose_code")
        set_status("resolved")
        rec["resolved_at"], rec["resolution"] = when, action.code
        rec.setdefault("acked_at", when)
        rec.setdefault("acked_severity", severity)  # its SLA is the one of that moment
        entry["code"] = action.code
    elif kind == "reopen":
        if status != "resolved":
            raise ActionError(409, f"incident is {status}, not resolved", "err_not_resolved", state=status)
        set_status("new")
        rec.pop("resolved_at", None)
        rec.pop("resolution", None)
    elif kind in ("tick", "untick"):
        steps = sop_steps(incident, ops)
        if action.step is None or not 0 <= action.step < len(steps):
            raise ActionError(
                422, f"step must be 0-{len(steps) - 1} for this incident's SOP" if steps else "this incident has no SOP"
            )
        key = str(action.step)
        if (kind == "tick") == (key in rec["sop"]):
            done = kind == "tick"
            word = "err_step_done" if done else "err_step_open"
            raise ActionError(409, f"step {action.step} is already {'done' if done else 'open'}", word, step=str(action.step + 1))
        if kind == "tick":
            rec["sop"][key] = {"by": actor.name, "at": when}
        else:
            del rec["sop"][key]
        entry["step"] = action.step
    if action.text:
        entry["text"] = action.text
        rec["notes"] = (rec["notes"] + [{"at": when, "by": actor.name, "text": action.text}])[-ops.notes_kept :]
    rec["history"] = (rec["history"] + [entry])[-ops.history_kept :]
    return rec


def _late_as(rec: dict[str, Any], incident: dict[str, Any], severity: str, ops: Operations, when: float) -> str | None:
    """The most severe level at which the incident, still unacknowledged, was already past that
    level's acknowledgement SLA when an operator changed its level (None: never).

    A critical left 30 minutes, then lowered to informational and acknowledged, counted as
    informational's and in time, and the shift's share went up. Its acknowledgement is now
    judged at the level it was late at (``shift_report.incidents_frame``). One lowered within
    its level's SLA (a critical found misclassified in its first minute) is judged at the
    new level, as before."""
    late = rec.get("late_as")
    limits = ops.sla.get(cast(Any, severity))
    waited_min = (when - ts(incident.get("opened_at") or incident["observed_at"])) / 60
    if limits is not None and waited_min > limits.acknowledge_min:
        late = more_severe(late, severity)
    return late


def more_severe(a: str | None, b: str | None) -> str | None:
    """The more severe of two levels; a level the desk does not know counts as the least."""
    ranks = [(SEVERITIES.index(s) if s in SEVERITIES else len(SEVERITIES), s) for s in (a, b) if s]
    return min(ranks)[1] if ranks else None


def detail(incident: dict[str, Any], record: dict[str, Any] | None, ops: Operations, now: float) -> dict[str, Any]:
    """What ``GET /api/v1/incidents/{id}`` and the console show: status, assignee, SOP with who
    ticked each step, notes, history, and the SLA clocks."""
    shown = merged(incident, record)
    rec = record or {}
    ticks = rec.get("sop", {})
    steps = [
        {"step": i, "text": text, "done": str(i) in ticks, **ticks.get(str(i), {})}
        for i, text in enumerate(sop_steps(incident, ops))
    ]
    return {
        **shown,
        "status": shown.get("status") or "new",
        "assignee": shown.get("assignee"),
        "sop": steps,
        "notes": list(rec.get("notes", [])),
        "history": with_field_severity(list(rec.get("history", [])), incident, rec),
        "sla": sla_clock(shown, ops, now),
    }


def with_field_severity(history: list[dict[str, Any]], incident: dict[str, Any], record: dict[str, Any]) -> list[dict[str, Any]]:
    """The history with the field's severity, where the field named it after an operator's
    escalation or de-escalation and so took over (``merged``). The wall showed the field's
    severity while the history ended at the operator's, with nothing to say why.

    Until the next action at the desk the entry is derived when read; that action writes it
    into the record (``apply``, ``field_severity_told``), so a later escalation does not take
    it away again. Only the field's latest severity is known (the incident keeps no more); it
    is placed by the field's own clock."""
    said_at = incident.get("severity_at")
    if not said_at or not record.get("severity") or record.get("field_severity_told") == said_at:
        return history
    at = ts(said_at)
    if at <= record.get("severity_at", 0.0):
        return history
    entry = {"at": iso(at), "by": "field", "role": "field", "action": "field_severity", "severity": incident.get("severity")}
    later = next((n for n, h in enumerate(history) if isinstance(h.get("at"), str) and ts(h["at"]) > at), len(history))
    return [*history[:later], entry, *history[later:]]


def sla_clock(incident: dict[str, Any], ops: Operations, now: float) -> dict[str, Any]:
    """Acknowledge and resolve deadlines for the incident's severity, and where it stands.

    ``*_left_s`` counts down while the step is pending (negative: overdue), and ``*_due`` is
    when it runs out (the console counts down to it); once the step is done, ``*_took_s`` is
    how long it took and ``*_met`` whether that was within the SLA.
    """
    sla = ops.sla.get(incident.get("severity") or "medium")
    opened_text = incident.get("opened_at") or incident.get("observed_at")
    if sla is None or not opened_text:
        return {}
    opened = ts(opened_text)
    out: dict[str, Any] = {"acknowledge_min": sla.acknowledge_min, "resolve_min": sla.resolve_min}
    for step, limit, done in (
        ("acknowledge", sla.acknowledge_min, incident.get("acked_at")),
        ("resolve", sla.resolve_min, incident.get("resolved_at") if incident.get("status") == "resolved" else None),
    ):
        if done:
            # done "before" it opened: the field's clocks disagree (a desk behind the app that
            # issued it); it took no time, as the shift report counts it, not "-5:00"
            took = max(0.0, ts(done) - opened)
            out[f"{step}_took_s"] = round(took)
            out[f"{step}_met"] = took <= limit * 60
        else:
            out[f"{step}_left_s"] = round(opened + limit * 60 - now)
            out[f"{step}_due"] = iso(opened + limit * 60)
    return out
