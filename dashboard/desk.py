"""The operations desk: the one object through which people change the city's state.

The HTTP API and the console both call it, so every action is checked by the same rules,
stored by compare-and-swap (a concurrent action on the same incident or wall retries on
the fresh record instead of being lost), audited and written back, in that order. An action
the store did not take is neither audited nor published.

It satisfies ``layouts.ports.OperationsPort``: the console reads and acts through it
without importing ``dashboard``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from dashboard import incident_ops, wall_control
from dashboard.audit import AuditTrail
from dashboard.config import Config
from dashboard.incident_ops import OPS_KIND, Action, ActionError, Actor, merge_all
from dashboard.read_models import incident_rows
from dashboard.store.base import StateStore
from dashboard.writeback import WriteBack

log = logging.getLogger("citywall.desk")

SWAP_TRIES = 20


class Desk:
    def __init__(
        self, store: StateStore, config: Config, writeback: WriteBack | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.config = config
        self.ops = config.operations
        self.writeback = writeback or WriteBack([])
        self.audit = AuditTrail(store, self.ops.audit_kept)
        self._clock = clock

    # --- incidents ------------------------------------------------------------------------
    def act(self, incident_id: str, action: Action, actor: Actor) -> dict[str, Any]:
        """Apply ``action``; return the incident's detail. Raises ``ActionError``."""
        incident = self.store.get("incident", [incident_id]).get(incident_id)
        if incident is None:
            raise ActionError(404, f"no incident {incident_id!r}", "err_no_incident")
        for _ in range(SWAP_TRIES):
            stamped = self.store.read_stamped(OPS_KIND, incident_id)
            stamp, record = stamped if stamped else (None, None)
            # an action answers the observation the operator saw, so it counts as newer than it
            # even when the field's clock runs a little ahead of ours; it was done now, though,
            # and that is the time its history, the audit trail and the write-back carry
            now = self._clock()
            at = max(self._after(stamp), incident_ops.ts(incident["observed_at"]) + 1e-3)
            updated = incident_ops.apply(record, incident, action, actor, at, self.ops, done_at=now)
            rows = incident_rows(incident_ops.merged(incident, updated), self.config)
            if self.store.swap(OPS_KIND, incident_id, stamp, at, updated, rows):
                break
        else:
            raise ActionError(409, "the incident kept changing; try again", "err_try_again")
        self._kept_current(incident_id, at, incident, updated)
        detail = incident_ops.detail(incident, updated, self.ops, now)
        fields = {
            k: v
            for k, v in (
                ("agency", action.agency),
                ("severity", action.severity),
                ("code", action.code),
                ("step", action.step),
                ("text", action.text),
            )
            if v is not None
        }
        if action.action in ("escalate", "deescalate"):
            fields["severity"] = detail["severity"]  # a step up or down names none: the trail says where it went
        self.audit.record(actor, action.action, f"incident/{incident_id}", now, {**fields, "status": detail["status"]})
        self.writeback.publish(
            incident_id,
            {
                "id": incident_id,
                "action": action.action,
                "at": incident_ops.iso(now),
                "by": actor.name,
                "role": actor.role,
                "status": detail["status"],
                "severity": detail.get("severity"),
                "assignee": detail.get("assignee"),
                "resolution": detail.get("resolution"),
                **fields,
            },
        )
        if action.action in ("resolve", "reopen"):
            self._end_pushes(incident_id, actor)
        return detail

    def _kept_current(self, incident_id: str, at: float, incident: dict[str, Any], record: dict[str, Any]) -> None:
        """The record written again with rows built from the incident as it is now, if a field
        message changed it between this action's read and its write: the other half of
        ``dashboard.ingest.CityState._kept_current``. Without it, a severity the field raised
        to critical meanwhile stayed out of the queue's rows until the incident's next message."""
        for _ in range(SWAP_TRIES):
            fresh = self.store.get("incident", [incident_id]).get(incident_id)
            if fresh is None or fresh == incident:
                return
            incident = fresh
            rows = incident_rows(incident_ops.merged(incident, record), self.config)
            if not self.store.swap(OPS_KIND, incident_id, at, at, record, rows):
                return  # another action was stored since, and looks again itself

    def incident(self, incident_id: str) -> dict[str, Any] | None:
        incident = self.store.get("incident", [incident_id]).get(incident_id)
        if incident is None:
            return None
        stamped = self.store.read_stamped(OPS_KIND, incident_id)
        return incident_ops.detail(incident, stamped[1] if stamped else None, self.ops, self._clock())

    def choices(self) -> dict[str, Any]:
        """What the console offers: agencies, resolution codes, presets, levels, screens, and the
        longest push and broadcast."""
        return {
            "agencies": [a.model_dump() for a in self.ops.agencies],
            "codes": [c.model_dump() for c in self.ops.resolution_codes],
            "presets": wall_control.presets(self.ops),
            "levels": list(wall_control.LEVELS),
            "screens": self.config.wall.screen_count,
            "push_minutes_max": self.ops.push_max_min,
            "broadcast_minutes_max": self.ops.broadcast_max_min,
        }

    # --- the wall -------------------------------------------------------------------------
    def wall(self) -> dict[str, Any]:
        from dashboard.picture import build_wall_part  # the picture module derives takeovers

        return build_wall_part(self.store, self.config, self._clock()).to_json()

    def set_preset(self, name: str, actor: Actor) -> dict[str, Any]:
        return self._change_wall(
            actor, "preset", {"preset": name}, lambda r, at: wall_control.set_preset(r, name, self.ops, actor.name, at)
        )

    def broadcast(self, level: str, text: str, minutes: int, actor: Actor) -> dict[str, Any]:
        return self._change_wall(
            actor,
            "broadcast",
            {"level": level, "text": text, "minutes": minutes},
            lambda r, at: wall_control.set_broadcast(r, level, text, minutes, self.ops, actor.name, at),
        )

    def clear_broadcast(self, actor: Actor) -> dict[str, Any]:
        return self._change_wall(actor, "broadcast.clear", {}, lambda r, at: wall_control.clear_broadcast(r, at))

    def push(self, screen: int, incident_id: str, minutes: int, actor: Actor) -> dict[str, Any]:
        incident = self.incident(incident_id)
        if incident is None:
            raise ActionError(404, f"no incident {incident_id!r}", "err_no_incident")
        if incident["status"] == "resolved":
            # the screen drops a resolved incident's push at once: it took a colleague's push off for nothing
            raise ActionError(409, "incident is resolved; reopen it to put it on the wall", "err_already_resolved")
        screens = self.config.wall.screen_count
        detail: dict[str, Any] = {"screen": screen, "incident": incident_id, "minutes": minutes}

        def change(record: dict[str, Any], at: float) -> dict[str, Any]:
            detail["replaced"] = wall_control.replaced_by_push(record, screen, incident_id, at)
            reopened = incident.get("reopened_at")
            return wall_control.push(record, screen, incident_id, minutes, screens, self.ops, actor.name, at, reopened)

        wall = self._change_wall(actor, "push", detail, change)
        return {**wall, "replaced": detail["replaced"]}

    def _end_pushes(self, incident_id: str, actor: Actor) -> None:
        """A push is over once its incident is resolved. The screens drop it at once, but its
        minutes ran on in the wall's record, and a reopen put the incident back on the wall
        unasked; a reopen from the desk also ends a push the field's resolve left behind. The
        action itself is done and sent on by now: a wall that keeps changing under this is
        logged, not answered as the action's failure (the screens drop a resolved incident's
        push anyway)."""
        stamped = self.store.read_stamped(wall_control.KIND, wall_control.ID)
        pushed = wall_control.active_pushes(stamped[1], self._clock()) if stamped else []
        if not any(p["incident"] == incident_id for p in pushed):
            return
        try:
            self._change_wall(
                actor, "push.end", {"incident": incident_id}, lambda r, at: wall_control.end_pushes_of(r, incident_id, at)
            )
        except ActionError as error:
            log.warning("the push of %s stays on the wall's record: %s", incident_id, error)

    def dismiss(self, screen: int, actor: Actor) -> dict[str, Any]:
        screens = self.config.wall.screen_count
        return self._change_wall(
            actor, "push.dismiss", {"screen": screen}, lambda r, at: wall_control.dismiss(r, screen, screens, at)
        )

    def ack_station(self, station: str, actor: Actor) -> dict[str, Any]:
        """Acknowledge a station's takeover; ``station`` is its entity id or the station id the
        screens show. Only a station at a takeover rule's stage has one: acknowledged while
        calm, it would have kept its next alarm off the wall for ``ack_holds_min``."""
        from dashboard.picture import stage_of, station_levels  # the picture module judges stages

        doc = self._station(station)
        stage = stage_of(doc["level_m"], station_levels(doc, self.config))
        if not wall_control.station_alarm(self.ops, stage):
            name = doc.get("station_id") or doc["id"]
            raise ActionError(
                409, f"station {name} is at {stage}: no takeover to acknowledge", "err_station_calm", station=name, stage=stage
            )
        station_id = doc["id"]
        return self._change_wall(
            actor, "takeover.ack", {"station": station_id}, lambda r, at: wall_control.ack_station(r, station_id, at)
        )

    def _station(self, station: str) -> dict[str, Any]:
        """The stored gauge by entity id, else by its station id (a city has tens of gauges)."""
        doc = self.store.get("water_level", [station]).get(station)
        if doc is None:
            doc = next((d for d in self.store.entities("water_level").values() if d.get("station_id") == station), None)
        if doc is None:
            raise ActionError(404, f"no station {station!r}")
        return doc

    def _change_wall(
        self, actor: Actor, what: str, detail: dict[str, Any], change: Callable[[dict[str, Any], float], dict[str, Any]]
    ) -> dict[str, Any]:
        for _ in range(SWAP_TRIES):
            stamped = self.store.read_stamped(wall_control.KIND, wall_control.ID)
            stamp, record = stamped if stamped else (None, wall_control.empty())
            at = self._after(stamp)
            updated = change(self._without_over(record, at), at)
            if self.store.swap(wall_control.KIND, wall_control.ID, stamp, at, updated):
                break
        else:
            raise ActionError(409, "the wall kept changing; try again", "err_try_again")
        self.audit.record(actor, f"wall.{what}", "wall", at, detail)
        return self.wall()

    def _without_over(self, record: dict[str, Any], at: float) -> dict[str, Any]:
        """The wall's record as the screens show it: a push that is over (``wall_control.showing``)
        neither is replaced nor can be taken off."""
        ids = [p["incident"] for p in record.get("pushed", []) if isinstance(p, dict) and p.get("incident")]
        incidents = merge_all(self.store.get("incident", ids), self.store.get(OPS_KIND, ids)) if ids else {}
        return wall_control.without_over(record, incidents, at)

    def _after(self, stamp: float | None) -> float:
        """Now, but always after the stored stamp, so a record's stamps only grow."""
        now = self._clock()
        return now if stamp is None or now > stamp else stamp + 1e-3
