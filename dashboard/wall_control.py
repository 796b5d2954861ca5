"""Control of the wall: the current preset, a broadcast banner, incidents pushed to screens,
and the takeovers that config rules derive from the city.

The control record is one document in the store (``kind="wall_control"``, id ``wall``),
changed by compare-and-swap, so every web worker sees one state and two supervisors cannot
lose each other's change. A change bumps the store version, which wakes every open page's
live push: screens follow within a push, without a reload.

Broadcasts and pushes carry an ``until`` time; what is over is left out when read (the
record is tidied at the next change), so an expired banner disappears on the next push
heartbeat without anyone writing. Takeovers are not stored at all: they are derived from
the incidents and stations on every picture, so a takeover clears the moment its incident
is acknowledged, on every process alike.
"""

from __future__ import annotations

from typing import Any

from dashboard.incident_ops import ActionError, iso
from dashboard.ops_config import SEVERITIES, Operations
from layouts.sections import (
    Broadcast,
    GaugeRow,
    IncidentTakeover,
    PushedIncident,
    StationTakeover,
    Takeover,
    WallPreset,
    WallSection,
)

KIND = "wall_control"
ID = "wall"
LEVELS = ("GREEN", "ORANGE", "RED")
STAGES = ("Normal", "Waspada", "Siaga", "Awas")
TEXT_MAX = 280


def presets(ops: Operations) -> list[WallPreset]:
    """The wall's own layout and the config's presets, each with the label the desk shows."""
    return [WallPreset("default", "Default")] + [WallPreset(p.name, p.label) for p in ops.presets]


def empty() -> dict[str, Any]:
    return {"preset": "default", "broadcast": None, "pushed": [], "acks": {}}


def set_preset(record: dict[str, Any], name: str, ops: Operations, by: str, at: float) -> dict[str, Any]:
    if name != "default" and ops.preset(name) is None:
        known = ", ".join(["default", *(p.name for p in ops.presets)])
        raise ActionError(422, f"unknown preset {name!r} (known: {known})", "err_unknown_preset")
    return {**record, "preset": name, "preset_by": by, "preset_at": iso(at)}


def set_broadcast(
    record: dict[str, Any], level: str, text: str, minutes: int, ops: Operations, by: str, at: float
) -> dict[str, Any]:
    if level not in LEVELS:
        raise ActionError(422, f"level must be one of {', '.join(LEVELS)}", "err_broadcast_level")
    if not text.strip() or len(text) > TEXT_MAX:
        raise ActionError(422, f"text must be 1-{TEXT_MAX} characters", "err_broadcast_text", high=str(TEXT_MAX))
    if not 1 <= minutes <= ops.broadcast_max_min:
        raise ActionError(
            422, f"minutes must be 1-{ops.broadcast_max_min}", "console_minutes_range", high=str(ops.broadcast_max_min)
        )
    broadcast = {"level": level, "text": text.strip(), "until": at + minutes * 60, "by": by, "at": iso(at)}
    return {**record, "broadcast": broadcast}


def clear_broadcast(record: dict[str, Any], at: float) -> dict[str, Any]:
    """Refused when no banner is showing: a press answered "done" and wrote to the audit
    each time, as if a banner had been taken down."""
    if active_broadcast(record, at) is None:
        raise ActionError(409, "no broadcast is showing", "err_nothing_broadcast")
    return {**record, "broadcast": None}


def push(
    record: dict[str, Any],
    screen: int,
    incident_id: str,
    minutes: int,
    screens: int,
    ops: Operations,
    by: str,
    at: float,
    reopened: str | None = None,
) -> dict[str, Any]:
    """``reopened``: the incident's ``reopened_at`` as the push found it (``wall_part``)."""
    if not 1 <= screen <= screens:
        raise ActionError(422, f"screen must be 1-{screens}", "console_screen_range", high=str(screens))
    if not 1 <= minutes <= ops.push_max_min:
        raise ActionError(422, f"minutes must be 1-{ops.push_max_min}", "console_minutes_range", high=str(ops.push_max_min))
    kept = [p for p in active_pushes(record, at) if p["screen"] != screen]
    entry = {"screen": screen, "incident": incident_id, "until": at + minutes * 60, "by": by, "at": iso(at), "reopened": reopened}
    return {**record, "pushed": sorted(kept + [entry], key=lambda p: p["screen"])}


def replaced_by_push(record: dict[str, Any], screen: int, incident_id: str, at: float) -> dict[str, str] | None:
    """The push of another incident that a push to ``screen`` takes off (its incident and who
    pushed it), so the operator is told: a push put over a colleague's went by unsaid."""
    for p in active_pushes(record, at):
        if p["screen"] == screen and p["incident"] != incident_id:
            return {"incident": p["incident"], "by": p["by"]}
    return None


def dismiss(record: dict[str, Any], screen: int, screens: int, at: float) -> dict[str, Any]:
    if not 1 <= screen <= screens:  # as a push to it is refused: "nothing is pushed to screen 99" hid the slip
        raise ActionError(422, f"screen must be 1-{screens}", "console_screen_range", high=str(screens))
    pushed = active_pushes(record, at)
    if not any(p["screen"] == screen for p in pushed):
        raise ActionError(409, f"nothing is pushed to screen {screen}", "err_nothing_pushed", screen=str(screen))
    return {**record, "pushed": [p for p in pushed if p["screen"] != screen]}


def end_pushes_of(record: dict[str, Any], incident_id: str, at: float) -> dict[str, Any]:
    """The wall without any push of ``incident_id``."""
    return {**record, "pushed": [p for p in active_pushes(record, at) if p["incident"] != incident_id]}


def ack_station(record: dict[str, Any], station_id: str, at: float) -> dict[str, Any]:
    return {**record, "acks": {**record.get("acks", {}), f"station:{station_id}": at}}


def station_alarm(ops: Operations, stage: str) -> bool:
    """Whether a station at ``stage`` is at some station rule's stage: only then has it a
    takeover to acknowledge."""
    return any(STAGES.index(stage) >= STAGES.index(rule.stage) for rule in ops.takeovers if rule.kind == "station")


def showing(push: dict[str, Any], incident: dict[str, Any]) -> bool:
    """Whether a push still shows its incident: not once it is resolved (the screen goes back
    to its panels, not "resolved" for the push's minutes), nor after the field reopened it
    since the push (``dashboard.ingest``), which put it back on the wall unasked."""
    return incident.get("status") != "resolved" and incident.get("reopened_at") == push.get("reopened")


def without_over(record: dict[str, Any], incidents: dict[str, dict[str, Any]], now: float) -> dict[str, Any]:
    """The record without the pushes that are over: past their minutes, or no longer
    ``showing``. A push over a screen whose push no longer showed said it took that one
    off, and taking it off answered "done" for a screen showing its own panels."""
    kept = [p for p in active_pushes(record, now) if showing(p, incidents.get(p["incident"]) or {})]
    return {**record, "pushed": kept}


def active_pushes(record: dict[str, Any], now: float) -> list[dict[str, Any]]:
    return [p for p in record.get("pushed", []) if p["until"] > now]


def active_broadcast(record: dict[str, Any], now: float) -> dict[str, Any] | None:
    broadcast = record.get("broadcast")
    return broadcast if broadcast and broadcast["until"] > now else None


def takeovers(
    ops: Operations, incidents: list[dict[str, Any]], stations: list[GaugeRow], acks: dict[str, float], now: float
) -> list[Takeover]:
    """The takeover each rule fires, at most one per screen (the first rule for a screen wins).

    ``incidents`` are the open ones, already merged with the operators' records, so an
    acknowledged incident no longer matches. The most severe, then the oldest, match wins.
    """
    fired: dict[int, Takeover] = {}
    for rule in ops.takeovers:
        if rule.screen in fired:
            continue
        if rule.kind == "incident":
            limit = SEVERITIES.index(rule.severity)
            matches = [
                d
                for d in incidents
                if (d.get("status") or "new") == "new"
                and SEVERITIES.index(d.get("severity") or "medium") <= limit
                and (rule.category is None or d.get("category") == rule.category)
            ]
            if matches:
                d = min(
                    matches,
                    key=lambda d: (
                        SEVERITIES.index(d.get("severity") or "medium"),
                        d.get("opened_at") or d.get("observed_at") or "",
                        d["id"],
                    ),
                )
                fired[rule.screen] = IncidentTakeover(
                    screen=rule.screen,
                    rule=rule.name,
                    kind="incident",
                    id=d["id"],
                    severity=d.get("severity"),
                    title=d.get("description") or d.get("category") or d["id"],
                    where=d.get("kecamatan"),
                    category=d.get("category"),
                    lat=d.get("lat"),
                    lon=d.get("lon"),
                )
        else:
            floor = STAGES.index(rule.stage)
            hold = rule.ack_holds_min * 60
            risen = [g for g in stations if STAGES.index(g.stage) >= floor and now - acks.get(f"station:{g.id}", -1e18) > hold]
            if risen:
                g = risen[0]  # the stations come worst first, in the drainage panel's order
                fired[rule.screen] = StationTakeover(
                    screen=rule.screen,
                    rule=rule.name,
                    kind="station",
                    id=g.id,
                    stage=g.stage,
                    title=g.title,
                    where=g.kecamatan,
                    level_m=g.level_m,
                    lat=g.lat,
                    lon=g.lon,
                )
    return [fired[k] for k in sorted(fired)]


def wall_part(
    record: dict[str, Any] | None,
    ops: Operations,
    incidents: dict[str, dict[str, Any]],
    open_incidents: list[dict[str, Any]],
    stations: list[GaugeRow],
    now: float,
) -> WallSection:
    """The picture's ``wall`` section: what the API answers and what the screens follow.

    Pushes and the broadcast keep their ``until`` so a screen can drop them when they end
    between two changes; pushed incidents come with what the screen shows of them, and a push
    ends early once its incident is resolved.
    """
    record = record or empty()
    pushed = []
    for p in active_pushes(record, now):
        d = incidents.get(p["incident"]) or {}
        if not showing(p, d):
            continue
        pushed.append(
            PushedIncident(
                screen=p["screen"],
                incident=p["incident"],
                until=p["until"],
                by=p.get("by", ""),
                at=p.get("at", ""),
                title=d.get("description") or d.get("category") or p["incident"],
                severity=d.get("severity"),
                status=d.get("status"),
                assignee=d.get("assignee"),
                where=d.get("kecamatan"),
                address=d.get("address"),
                lat=d.get("lat"),
                lon=d.get("lon"),
            )
        )
    banner = active_broadcast(record, now)
    return WallSection(
        presets=presets(ops),
        current=record.get("preset", "default"),
        broadcast=Broadcast(
            level=banner["level"], text=banner["text"], until=banner["until"], by=banner.get("by", ""), at=banner.get("at", "")
        )
        if banner
        else None,
        pushed=pushed,
        takeovers=takeovers(ops, open_incidents, stations, record.get("acks", {}), now),
    )
