"""The operations port handed to the console: the desk, seen through the current request.

Dash callbacks run inside the request (or websocket message) that carried them; the guard
has resolved who sent it and checked CSRF for sessions, and ``dashboard.auth.current_principal``
hands that identity over. A callback never trusts a name or role sent by the browser. Roles are checked here with the
same rules as the HTTP API: operators act on incidents and push, supervisors switch
presets and broadcast.
"""

from __future__ import annotations

from typing import Any, cast

from dash import ctx
from dash.exceptions import MissingCallbackContextException

from dashboard import auth, shift_report
from dashboard.desk import Desk
from dashboard.incident_ops import Action, ActionError, Actor
from dashboard.ops_bodies import (
    ActionBody,
    BodyError,
    BroadcastBody,
    DismissBody,
    NoBody,
    PresetBody,
    PushBody,
    StationAckBody,
    lenient,
)
from layouts.sections import ShiftReport

#: What each wall action carries (``dashboard.ops_bodies``), as the API's routes take it.
WALL_BODIES: dict[str, type[Any]] = {
    "preset": PresetBody,
    "broadcast": BroadcastBody,
    "clear_broadcast": NoBody,
    "push": PushBody,
    "dismiss": DismissBody,
    "ack_station": StationAckBody,
}
WALL_ROLES = {
    "preset": "supervisor",
    "broadcast": "supervisor",
    "clear_broadcast": "supervisor",
    "push": "operator",
    "dismiss": "operator",
    "ack_station": "operator",
}


def _client_host() -> str:
    """The address the callback's request came from, for the audit log: Dash's public
    callback context gives it for an HTTP callback (the console's), not over the websocket."""
    try:
        return str(ctx.remote or "")
    except MissingCallbackContextException:  # outside a callback (a test calling the port directly)
        return ""


class ConsolePort:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def _principal(self) -> Any:
        return auth.current_principal()

    def whoami(self) -> tuple[str, str] | None:
        """None for nobody signed in, anonymous readers included: the console offers the login."""
        who = self._principal()
        return (who.name, who.role) if who is not None and who.via != "anonymous" else None

    def may(self, role: str) -> bool:
        """What the page offers follows who is at the desk; the actions still check the role."""
        return not isinstance(self._actor(role), ActionError)

    def _actor(self, role: str) -> Actor | ActionError:
        who = self._principal()
        if who is None or who.via == "anonymous":  # with reading open, an ended session reads as anonymous
            return ActionError(401, "sign in first", "err_sign_in")
        if not who.can(role):
            return ActionError(403, f"needs the {role} role", "err_needs_role", role=role)
        return Actor(name=who.name, role=who.role, via=who.via, origin=_client_host())

    def incident(self, incident_id: str) -> dict[str, Any] | None:
        """None for a kiosk whose token may not read the console: the detail's callback is
        reachable with any token, as every Dash callback is (``auth.may_show_page``)."""
        if not auth.may_show_page("/console"):
            return None
        return self.desk.incident(incident_id)

    def choices(self) -> dict[str, Any]:
        return self.desk.choices()

    def act(self, incident_id: str, action: dict[str, Any]) -> tuple[bool, Any]:
        actor = self._actor("operator")
        if isinstance(actor, ActionError):
            return False, actor
        known = {k: action.get(k) for k in ("action", "agency", "text", "severity", "code", "step", "assignee_seen")}
        try:
            body = lenient(ActionBody, known)
            if not isinstance(incident_id, str):
                raise BodyError("the incident is not named")
            return True, self.desk.act(incident_id, Action(**body.model_dump()), actor)
        except (ActionError, BodyError) as error:
            return False, _refusal(error)

    def wall_action(self, what: str, args: dict[str, Any]) -> tuple[bool, Any]:
        role = WALL_ROLES.get(what)
        if role is None:
            return False, ActionError(422, f"unknown wall action {what!r}")
        actor = self._actor(role)
        if isinstance(actor, ActionError):
            return False, actor
        try:
            body = lenient(WALL_BODIES[what], {**args, "text": args.get("text") or ""} if what == "broadcast" else args)
            return True, self._on_wall(body, actor)
        except (ActionError, BodyError) as error:
            return False, _refusal(error)

    def _on_wall(self, body: Any, actor: Actor) -> Any:
        if isinstance(body, PresetBody):
            return self.desk.set_preset(body.preset, actor)
        if isinstance(body, BroadcastBody):
            return self.desk.broadcast(body.level, body.text, body.minutes, actor)
        if isinstance(body, PushBody):
            return self.desk.push(body.screen, body.incident, body.minutes, actor)
        if isinstance(body, DismissBody):
            return self.desk.dismiss(body.screen, actor)
        if isinstance(body, StationAckBody):
            return self.desk.ack_station(body.station, actor)
        return self.desk.clear_broadcast(actor)

    def report(self, period: str, at: str | None = None) -> ShiftReport | None:
        who = self._principal()
        if who is None or not who.can("supervisor"):
            return None
        kind = cast(shift_report.Period, period if period in ("shift", "day", "week") else "day")
        try:
            covers, frames = shift_report.of_period(self.desk.store, self.desk.config, kind, at)
        except shift_report.PeriodError:  # a period of the other kind, left in the choice as the kind changed
            covers, frames = shift_report.of_period(self.desk.store, self.desk.config, kind)
        return ShiftReport(covers, shift_report.as_json(frames))


def _refusal(error: Exception) -> ActionError:
    """Every refusal as an ``ActionError``: the console says its ``word``, or its reason. A
    value of the wrong shape has a word too: pydantic's English ("text: holds a control
    character") showed in an Indonesian console."""
    if isinstance(error, ActionError):
        return error
    if isinstance(error, BodyError):
        word = "err_text_control" if error.control else "err_bad_value"
        return ActionError(422, str(error), word, field=error.field)
    return ActionError(422, str(error))
