"""The operations API: incident actions, the audit trail, wall control and the shift report.

Reads need a reader identity, writes a role (``dashboard.auth``): operators act on incidents
and push to the wall; supervisors switch presets and broadcast. Bodies are pydantic models
with size limits and no unknown keys, so a malformed request gets a 422 that names the field.
"""

from __future__ import annotations

import re
import time
from typing import Any, Literal, cast

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from dashboard import shift_report
from dashboard.audit import to_csv
from dashboard.auth import Principal, reader, writer
from dashboard.desk import Desk
from dashboard.export import dated_name
from dashboard.incident_ops import Action, ActionError, Actor
from dashboard.ops_bodies import ActionBody, BroadcastBody, IdInPath, PresetBody, PushBody, StationAckBody
from dashboard.reader import PictureCache


def actor_of(who: Principal, request: Request) -> Actor:
    origin = request.client.host if request.client else ""
    return Actor(name=who.name, role=who.role, via=who.via, origin=origin)


async def _refused(request: Request, error: Exception) -> JSONResponse:
    """An action the desk refused (``ActionError``), from any route: its status and reason."""
    refused = cast(ActionError, error)  # the handler is registered for ActionError alone
    return JSONResponse({"detail": refused.reason}, status_code=refused.status)


def register(server: FastAPI, desk: Desk, cache: PictureCache) -> None:
    server.add_exception_handler(ActionError, _refused)

    @server.post("/api/v1/incidents/{incident_id:path}/actions")
    def act(body: ActionBody, request: Request, incident_id: IdInPath, who: Principal = Depends(writer("operator"))) -> Any:
        return desk.act(incident_id, Action(**body.model_dump()), actor_of(who, request))

    @server.get("/api/v1/incidents/{incident_id:path}")
    def incident(incident_id: IdInPath, who: Principal = Depends(reader())) -> Any:
        found = desk.incident(incident_id)
        if found is None:
            raise HTTPException(404, f"no incident {incident_id!r}")
        return found

    @server.get("/api/v1/audit")
    def audit(
        limit: int = Query(100, ge=1, le=100_000),
        format: Literal["json", "csv"] = "json",
        who: Principal = Depends(reader("supervisor")),
    ) -> Any:
        entries = desk.audit.entries(limit)
        if format == "csv":
            return Response(
                to_csv(entries),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="citywall-audit.csv"'},
            )
        return {"audit": entries}

    @server.get("/api/v1/wall")
    def wall(who: Principal = Depends(reader())) -> Any:
        return cache.picture().wall.to_json()

    @server.post("/api/v1/wall/preset")
    def preset(body: PresetBody, request: Request, who: Principal = Depends(writer("supervisor"))) -> Any:
        return desk.set_preset(body.preset, actor_of(who, request))

    @server.post("/api/v1/wall/broadcast")
    def broadcast(body: BroadcastBody, request: Request, who: Principal = Depends(writer("supervisor"))) -> Any:
        return desk.broadcast(body.level, body.text, body.minutes, actor_of(who, request))

    @server.delete("/api/v1/wall/broadcast")
    def clear(request: Request, who: Principal = Depends(writer("supervisor"))) -> Any:
        return desk.clear_broadcast(actor_of(who, request))

    @server.post("/api/v1/wall/push")
    def push(body: PushBody, request: Request, who: Principal = Depends(writer("operator"))) -> Any:
        return desk.push(body.screen, body.incident, body.minutes, actor_of(who, request))

    @server.delete("/api/v1/wall/push/{screen}")
    def dismiss(request: Request, screen: int = Path(ge=1, le=256), who: Principal = Depends(writer("operator"))) -> Any:
        return desk.dismiss(screen, actor_of(who, request))

    @server.post("/api/v1/wall/takeovers/ack")
    def ack_station(body: StationAckBody, request: Request, who: Principal = Depends(writer("operator"))) -> Any:
        return desk.ack_station(body.station, actor_of(who, request))

    @server.get("/api/v1/report")
    def report(
        period: Literal["shift", "day", "week"] = "day",
        format: Literal["json", "csv", "xlsx"] = "json",
        at: str | None = Query(None, max_length=shift_report.AT_MAX),
        who: Principal = Depends(reader("supervisor")),
    ) -> Any:
        now = time.time()
        try:
            covers, frames = shift_report.of_period(desk.store, desk.config, period, at, now)
        except shift_report.PeriodError as exc:
            raise HTTPException(422, str(exc)) from None
        if format == "json":
            return {"covers": covers, **shift_report.as_json(frames)}
        city = desk.config.city
        stem = f"citywall-report-{period}" + (f"-{re.sub(r'[^A-Za-z0-9-]+', '-', covers)}" if at else "")
        name = dated_name(stem, city.name, city.timezone, city.timezone_label, now, format)
        if format == "csv":
            return Response(
                shift_report.as_csv(frames),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        return Response(
            shift_report.as_xlsx(frames, city.language),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
