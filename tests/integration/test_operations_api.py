"""The operations API over HTTP, signed in through the real login API, and the write-back
seen by ``mosquitto_sub`` on a real Mosquitto and by XRANGE on a real Redis.

The app runs closed (no anonymous reading): 401 without an identity, 403 for a role too
low, 200 for the right one.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
import requests

from dashboard.ingest import CityState
from dashboard.store.memory import MemoryStore
from feeds.events import CitizenReport
from tests.support.auth import KNOWN_USERS, add_users, closed_config, login, running_app
from tests.support.operations import config_with, incident


@pytest.fixture
def app() -> Iterator[tuple[str, CityState, dict[str, requests.Session]]]:
    store = MemoryStore()
    add_users(store)
    config = closed_config()
    state = CityState(store, config)
    state.accept(incident("API-1", severity="high", category="traffic"))
    with running_app(config, store) as base:
        sessions = {role: login(base, c.name, c.password) for role, c in KNOWN_USERS.items()}
        yield base, state, sessions


def test_incident_actions_need_an_operator(app: tuple[str, CityState, dict[str, requests.Session]]) -> None:
    base, _, s = app
    url = f"{base}/api/v1/incidents/API-1/actions"
    assert requests.post(url, json={"action": "acknowledge"}, timeout=30).status_code == 401
    assert s["viewer"].post(url, json={"action": "acknowledge"}, timeout=30).status_code == 403
    done = s["operator"].post(url, json={"action": "acknowledge"}, timeout=30)
    assert done.status_code == 200
    assert (done.json()["id"], done.json()["status"]) == ("API-1", "acknowledged")
    assert s["operator"].post(url, json={"action": "acknowledge"}, timeout=30).status_code == 409
    assert (
        s["supervisor"].post(url, json={"action": "assign", "agency": "Dishub", "text": "Kirim derek"}, timeout=30).status_code
        == 200
    )
    assert s["operator"].post(url, json={"action": "assign", "agency": "NASA"}, timeout=30).status_code == 422
    assert s["operator"].post(url, json={"action": "acknowledge", "extra": 1}, timeout=30).status_code == 422
    assert (
        s["operator"].post(f"{base}/api/v1/incidents/NOPE/actions", json={"action": "acknowledge"}, timeout=30).status_code == 404
    )
    assert requests.get(f"{base}/api/v1/incidents/API-1", timeout=30).status_code == 401
    detail = s["viewer"].get(f"{base}/api/v1/incidents/API-1", timeout=30).json()
    assert (detail["status"], detail["assignee"]) == ("dispatched", "Dishub")
    assert [step["text"] for step in detail["sop"]][:1] == ["Konfirmasi lokasi lewat CCTV"]
    assert [n["text"] for n in detail["notes"]] == ["Kirim derek"]
    assert [(h["action"], h["by"], h["role"]) for h in detail["history"]] == [
        ("acknowledge", "operator", "operator"),
        ("assign", "supervisor", "supervisor"),
    ]


def test_the_api_takes_values_of_their_own_type_only(app: tuple[str, CityState, dict[str, requests.Session]]) -> None:
    """``{"screen": true}`` pushed to screen 1, and a note could hold NUL or a terminal's escape."""
    base, _, s = app
    refused = [
        (s["operator"].post(f"{base}/api/v1/wall/push", json=body, timeout=30), field)
        for body, field in [({"screen": True, "incident": "API-1"}, "screen"), ({"screen": "2", "incident": "API-1"}, "screen")]
    ]
    url = f"{base}/api/v1/incidents/API-1/actions"
    for text in ("a\x00b", "a\x1bb", "a\x9bb"):  # NUL, a terminal's escape and its 8-bit form
        refused.append((s["operator"].post(url, json={"action": "note", "text": text}, timeout=30), "text"))
    refused.append((s["operator"].post(url, json={"action": "tick", "step": 1.5}, timeout=30), "step"))
    assert [(r.status_code, r.json()["detail"][0]["loc"]) for r, _ in refused] == [(422, ["body", f]) for _, f in refused]
    assert s["viewer"].get(f"{base}/api/v1/wall", timeout=30).json()["pushed"] == []
    noted = s["operator"].post(url, json={"action": "note", "text": "baris satu\nbaris dua\tdan tab"}, timeout=30)
    assert (noted.status_code, noted.json()["notes"][-1]["text"]) == (200, "baris satu\nbaris dua\tdan tab")


def test_audit_is_for_supervisors_and_exports_csv(app: tuple[str, CityState, dict[str, requests.Session]]) -> None:
    base, _, s = app
    s["operator"].post(f"{base}/api/v1/incidents/API-1/actions", json={"action": "note", "text": "dicek"}, timeout=30)
    s["operator"].post(f"{base}/api/v1/incidents/API-1/actions", json={"action": "acknowledge"}, timeout=30)
    assert requests.get(f"{base}/api/v1/audit?limit=5", timeout=30).status_code == 401
    assert s["operator"].get(f"{base}/api/v1/audit?limit=5", timeout=30).status_code == 403
    entries = s["supervisor"].get(f"{base}/api/v1/audit?limit=1", timeout=30).json()["audit"]
    assert [(e["who"], e["role"], e["action"], e["target"], e["origin"]) for e in entries] == [
        ("operator", "operator", "acknowledge", "incident/API-1", "127.0.0.1")
    ]
    exported = s["supervisor"].get(f"{base}/api/v1/audit?limit=10&format=csv", timeout=30)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["action"] for r in rows] == ["acknowledge", "note"]
    assert json.loads(rows[1]["detail"])["text"] == "dicek"


def test_wall_control_roles(app: tuple[str, CityState, dict[str, requests.Session]]) -> None:
    base, _, s = app
    assert requests.get(f"{base}/api/v1/wall", timeout=30).status_code == 401
    assert s["operator"].post(f"{base}/api/v1/wall/preset", json={"preset": "banjir"}, timeout=30).status_code == 403
    assert s["supervisor"].post(f"{base}/api/v1/wall/preset", json={"preset": "banjir"}, timeout=30).status_code == 200
    assert s["supervisor"].post(f"{base}/api/v1/wall/preset", json={"preset": "nope"}, timeout=30).status_code == 422
    assert s["operator"].post(f"{base}/api/v1/wall/broadcast", json={"level": "RED", "text": "x"}, timeout=30).status_code == 403
    sent = s["supervisor"].post(
        f"{base}/api/v1/wall/broadcast", json={"level": "ORANGE", "text": "Siaga banjir", "minutes": 15}, timeout=30
    )
    assert sent.status_code == 200 and sent.json()["broadcast"]["text"] == "Siaga banjir"
    assert (
        s["supervisor"].post(f"{base}/api/v1/wall/broadcast", json={"level": "BLUE", "text": "x"}, timeout=30).status_code == 422
    )
    assert s["viewer"].post(f"{base}/api/v1/wall/push", json={"screen": 4, "incident": "API-1"}, timeout=30).status_code == 403
    pushed = s["operator"].post(f"{base}/api/v1/wall/push", json={"screen": 4, "incident": "API-1", "minutes": 5}, timeout=30)
    assert pushed.status_code == 200
    assert pushed.json()["replaced"] is None
    wall = s["viewer"].get(f"{base}/api/v1/wall", timeout=30).json()
    assert set(wall) >= {"presets", "current", "broadcast", "pushed"}
    assert (wall["current"], wall["broadcast"]["level"]) == ("banjir", "ORANGE")
    assert [(p["screen"], p["incident"]) for p in wall["pushed"]] == [(4, "API-1")]
    # the public shape of the wall's parts, written out by hand
    assert list(wall) == ["presets", "current", "broadcast", "pushed", "takeovers"]
    assert list(wall["presets"][0]) == ["name", "label"]
    assert list(wall["broadcast"]) == ["level", "text", "until", "by", "at"]
    assert list(wall["pushed"][0]) == [
        "screen",
        "incident",
        "until",
        "by",
        "at",
        "title",
        "severity",
        "status",
        "assignee",
        "where",
        "address",
        "lat",
        "lon",
    ]
    assert s["operator"].delete(f"{base}/api/v1/wall/broadcast", timeout=30).status_code == 403
    assert s["supervisor"].delete(f"{base}/api/v1/wall/broadcast", timeout=30).status_code == 200
    assert s["viewer"].get(f"{base}/api/v1/wall", timeout=30).json()["broadcast"] is None


def test_shift_report_downloads(app: tuple[str, CityState, dict[str, requests.Session]]) -> None:
    base, _, s = app
    s["operator"].post(f"{base}/api/v1/incidents/API-1/actions", json={"action": "assign", "agency": "Dishub"}, timeout=30)
    assert s["operator"].get(f"{base}/api/v1/report", timeout=30).status_code == 403
    report = s["supervisor"].get(f"{base}/api/v1/report?period=week", timeout=30).json()
    assert [(r["agency"], r["incidents"], r["acknowledged"]) for r in report["by_agency"]] == [("Dishub", 1, 1)]
    days = {datetime.now(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m-%d")}  # the city's day, before and after
    as_csv = s["supervisor"].get(f"{base}/api/v1/report?period=day&format=csv", timeout=30)
    as_xlsx = s["supervisor"].get(f"{base}/api/v1/report?period=shift&format=xlsx", timeout=30)
    days.add(datetime.now(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m-%d"))
    assert as_csv.headers["content-type"].startswith("text/csv") and "# by_agency" in as_csv.text
    assert as_xlsx.content[:2] == b"PK"
    # a supervisor's downloads say whose report, which period and when, in the city's time
    for answer, stem, ext in ((as_csv, "citywall-report-day", "csv"), (as_xlsx, "citywall-report-shift", "xlsx")):
        named = re.fullmatch(
            rf'attachment; filename="{stem}-kota-pekanbaru-(\d{{4}}-\d{{2}}-\d{{2}})-\d{{4}}-WIB\.{ext}"',
            answer.headers["content-disposition"],
        )
        assert named is not None, answer.headers["content-disposition"]
        assert named.group(1) in days


def test_the_report_covers_the_period_asked_for(app: tuple[str, CityState, dict[str, requests.Session]]) -> None:
    """The breakdowns cover one period: the current one, or ``at``; a period of another kind, or
    no period at all, is refused with what one looks like, and the input is not said back."""
    base, _, s = app
    today = datetime.now(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m-%d")
    answer = s["supervisor"].get(f"{base}/api/v1/report", params={"period": "day"}, timeout=30).json()
    asked = s["supervisor"].get(f"{base}/api/v1/report", params={"period": "day", "at": answer["covers"]}, timeout=30)
    assert answer["covers"] in {today, datetime.now(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m-%d")}
    assert (asked.status_code, asked.json()["covers"]) == (200, answer["covers"])
    assert answer["covers"] in [row["period"] for row in answer["by_period"]]
    as_csv = s["supervisor"].get(
        f"{base}/api/v1/report", params={"period": "day", "at": "2026-01-31", "format": "csv"}, timeout=30
    )
    assert "citywall-report-day-2026-01-31-kota-pekanbaru-" in as_csv.headers["content-disposition"]
    for period, at in (("day", "2026-12-01 pagi"), ("shift", "2026-12-01 <script>"), ("week", "W49x")):
        refused = s["supervisor"].get(f"{base}/api/v1/report", params={"period": period, "at": at}, timeout=30)
        assert refused.status_code == 422, (period, at, refused.text)
        assert "at: expected" in refused.text and at not in refused.text
    long = s["supervisor"].get(f"{base}/api/v1/report", params={"period": "day", "at": "9" * 10_000}, timeout=30)
    assert long.status_code == 422 and "9" * 100 not in long.text


def as_a_link(session: requests.Session) -> requests.Session:
    """The session's cookie alone: what a browser sends when a page's plain link is followed."""
    plain = requests.Session()
    plain.cookies.update(session.cookies)
    return plain


def test_the_report_and_audit_download_by_a_plain_link(app: tuple[str, CityState, dict[str, requests.Session]]) -> None:
    """The report page's CSV and XLSX buttons are links: no CSRF header comes with them."""
    base, _, s = app
    supervisor, operator = as_a_link(s["supervisor"]), as_a_link(s["operator"])
    as_csv = supervisor.get(f"{base}/api/v1/report?period=day&format=csv", timeout=30)
    assert (as_csv.status_code, as_csv.text.splitlines()[0]) == (200, "# by_period")
    assert supervisor.get(f"{base}/api/v1/report?period=shift&format=xlsx", timeout=30).content[:2] == b"PK"
    audit = supervisor.get(f"{base}/api/v1/audit?limit=5&format=csv", timeout=30)
    assert (audit.status_code, audit.headers["content-type"]) == (200, "text/csv; charset=utf-8")
    assert operator.get(f"{base}/api/v1/report?format=csv", timeout=30).status_code == 403
    assert operator.get(f"{base}/api/v1/audit?format=csv", timeout=30).status_code == 403


@pytest.mark.integration
def test_write_back_reaches_mosquitto_sub_and_the_redis_stream(mosquitto: Any, redis_url: str) -> None:
    binary = shutil.which("mosquitto_sub")
    assert binary, "mosquitto_sub is part of the test system packages (mosquitto-clients)"
    store = MemoryStore()
    add_users(store)
    config = config_with(closed_config(), mqtt_url=mosquitto.url, redis_url=redis_url)
    CityState(store, config).accept(incident("WB-1", severity="high"))
    # line-buffered, so the SUBACK and each message reach us as they happen, not at exit
    sub = subprocess.Popen(
        [
            "stdbuf",
            "-oL",
            binary,
            "-h",
            "127.0.0.1",
            "-p",
            str(mosquitto.port),
            "-t",
            "pekanbaru/actions/#",
            "-v",
            "-d",
            "-q",
            "1",
            "-C",
            "2",
            "-W",
            "120",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sub.stdout is not None
        for line in sub.stdout:  # -d prints the handshake; the SUBACK means it is listening
            if "SUBACK" in line:
                break
        with running_app(config, store) as base:
            operator = login(base, "operator", KNOWN_USERS["operator"].password)
            operator.post(f"{base}/api/v1/incidents/WB-1/actions", json={"action": "acknowledge"}, timeout=30).raise_for_status()
            operator.post(
                f"{base}/api/v1/incidents/WB-1/actions", json={"action": "assign", "agency": "Damkar"}, timeout=30
            ).raise_for_status()
            received = [line.rstrip("\n") for line in sub.stdout if line.startswith("pekanbaru/actions/")]
    finally:
        sub.wait(timeout=130)
    topics = [line.split(" ", 1)[0] for line in received]
    payloads = [json.loads(line.split(" ", 1)[1]) for line in received]
    assert topics == ["pekanbaru/actions/incidents/WB-1"] * 2
    assert [(p["action"], p["status"], p["by"], p["role"]) for p in payloads] == [
        ("acknowledge", "acknowledged", "operator", "operator"),
        ("assign", "dispatched", "operator", "operator"),
    ]
    assert payloads[1]["assignee"] == "Damkar"
    stream = redis.Redis.from_url(redis_url, decode_responses=True).xrange("pekanbaru:actions")
    assert [json.loads(fields["data"])["action"] for _, fields in stream][-2:] == ["acknowledge", "assign"]
    assert {fields["incident"] for _, fields in stream} == {"WB-1"}


@pytest.mark.parametrize(
    "incident_id", ["urn:ngsi-ld:Alert:JALAN RIAU", "urn:ngsi-ld:Alert:A#7", "urn:ngsi-ld:Alert:a/b", "X" * 256]
)
def test_an_id_the_feed_takes_the_api_takes_too(
    app: tuple[str, CityState, dict[str, requests.Session]], incident_id: str
) -> None:
    """The feed takes any clean id up to 256 characters; the API took a narrower set, so an
    incident with a space or a # in its id could be acted on from the console but not here."""
    base, state, s = app
    state.accept(incident(incident_id, severity="low"))
    url = f"{base}/api/v1/incidents/{urllib.parse.quote(incident_id, safe='')}"
    assert s["viewer"].get(url, timeout=30).json()["id"] == incident_id
    acted = s["operator"].post(f"{url}/actions", json={"action": "acknowledge"}, timeout=30)
    assert (acted.status_code, acted.json()["status"]) == (200, "acknowledged")
    too_long = s["viewer"].get(f"{base}/api/v1/incidents/{'X' * 257}", timeout=30)
    assert too_long.status_code == 422
    assert [e["msg"] for e in too_long.json()["detail"]] == ["String should have at most 256 characters"]


@pytest.mark.parametrize("cursor", ["\x00", "-1", "1:2:3", "zz"])
def test_a_cursor_that_no_page_gave_is_refused(app: tuple[str, CityState, dict[str, requests.Session]], cursor: str) -> None:
    """A made-up cursor answered the first page or an empty one, as if it meant something."""
    base, _, s = app
    for path in ("incidents", "reports"):
        answer = s["viewer"].get(f"{base}/api/v1/{path}", params={"cursor": cursor}, timeout=30)
        assert answer.status_code == 422, path
        assert [e["loc"] for e in answer.json()["detail"]] == [["query", "cursor"]]
    first = s["viewer"].get(f"{base}/api/v1/incidents", params={"status": "all", "limit": 1}, timeout=30).json()
    assert s["viewer"].get(f"{base}/api/v1/incidents", params={"status": "all", "cursor": first["next"]}, timeout=30).ok


def test_a_cursor_of_another_list_is_refused(app: tuple[str, CityState, dict[str, requests.Session]]) -> None:
    """A cursor of the "all" list used on the open one, or "abc|def", answered an empty page
    whose ``next`` was null: the client took it for the end of the list."""
    base, state, s = app
    now = datetime.now(UTC)
    for n in (1, 2, 3):
        state.accept(incident(f"CUR-{n}", ago_s=n))
        state.accept(
            CitizenReport(
                id=f"REP-{n}", observed_at=now - timedelta(seconds=n), source_type="IssueReporting", topic="waste",
                category="sampah", opened_at=now - timedelta(seconds=n), kecamatan="Sail",
            )
        )  # fmt: skip

    def get(path: str, status: str, cursor: str | None = None) -> requests.Response:
        params = {"status": status, "limit": 1, **({"cursor": cursor} if cursor else {})}
        return s["viewer"].get(f"{base}/api/v1/{path}", params=params, timeout=30)

    for path in ("incidents", "reports"):
        cursors = {status: get(path, status).json()["next"] for status in ("open", "all")}
        assert all(cursors.values()), (path, cursors)
        for status, other in (("open", "all"), ("all", "open")):
            assert get(path, status, cursors[status]).ok, (path, status)
            for cursor in (cursors[other], "abc|def", "1|zzz"):
                answer = get(path, status, cursor)
                assert answer.status_code == 422, (path, status, cursor)
                assert answer.json()["detail"] == [
                    {
                        "type": "value_error",
                        "loc": ["query", "cursor"],
                        "msg": "not a cursor of this list: pass the `next` of a page of the same list and status",
                    }
                ]
