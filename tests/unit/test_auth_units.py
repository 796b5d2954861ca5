"""The small rules of identity, without a server: the role ladder, token records, where a
kiosk may look, where the login may send a browser, and the users file under concurrent writers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dashboard.auth import ROLES, Principal
from dashboard.auth.csrf import origin_allowed
from dashboard.auth.guard import CURRENT, kiosk_may_read
from dashboard.auth.maps import FileMaps
from dashboard.auth.principal import ANONYMOUS
from dashboard.auth.routes import safe_next
from dashboard.auth.throttle import CONCURRENT, QUEUE, LoginThrottle
from dashboard.auth.tokens import TokenError, TokenStore, digest
from dashboard.auth.users import UserError, UserStore
from dashboard.config import load_config
from dashboard.console_port import ConsolePort
from dashboard.desk import Desk
from dashboard.ingest import CityState
from dashboard.local_services import wait_until
from dashboard.store.memory import MemoryStore
from feeds.events import Incident
from layouts.console.controls import said


def test_roles_form_a_ladder() -> None:
    assert ROLES == ("viewer", "operator", "supervisor", "admin")
    supervisor = Principal("s", "supervisor", "session")
    assert [supervisor.can(r) for r in ROLES] == [True, True, True, False]
    assert [Principal("v", "viewer", "token").can(r) for r in ROLES] == [True, False, False, False]
    assert [Principal("a", "admin", "session").can(r) for r in ROLES] == [True, True, True, True]


def test_kiosks_and_anonymous_never_write() -> None:
    assert not any(Principal("k", "kiosk", "token", screen=3, scope="screen").can(r) for r in ROLES)
    assert not any(Principal("anonymous", "viewer", "anonymous").can(r) for r in ROLES)
    assert not Principal("a", "admin", "session").can("kiosk")


@pytest.mark.parametrize(
    "scope, screen, allowed, refused",
    [
        (
            "screen",
            4,
            ["/screen/4", "/screen/4/", "/_dash-layout", "/_dash-update-component", "/_citywall/push"],
            ["/screen/5", "/screen/44", "/wall", "/tablet", "/api/v1/state", "/"],
        ),
        (
            "wall",
            None,
            ["/wall", "/screen/1", "/screen/24", "/_dash-dependencies", "/_citywall/push"],
            ["/tablet", "/api/v1/state", "/api/v1/summary.pdf"],
        ),
        (
            "tablet",
            None,
            ["/tablet", "/api/v1/summary.pdf", "/api/v1/summary.html", "/_citywall/push"],
            ["/wall", "/screen/1", "/api/v1/state"],
        ),
        (None, None, ["/wall", "/screen/9", "/tablet", "/api/v1/state"], []),
    ],
)
def test_where_a_kiosk_may_read(scope: str | None, screen: int | None, allowed: list[str], refused: list[str]) -> None:
    kiosk = Principal("k", "kiosk", "token", screen=screen, scope=scope)  # type: ignore[arg-type]
    assert [p for p in allowed if not kiosk_may_read(kiosk, p)] == []
    assert [p for p in refused if kiosk_may_read(kiosk, p)] == []


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/screen/4?lang=en", "/screen/4?lang=en"),
        ("/tablet", "/tablet"),
        ("https://evil.example/", "/wall"),
        ("//evil.example", "/wall"),
        ("/\\evil.example", "/wall"),
        ("javascript:alert(1)", "/wall"),
        ("wall", "/wall"),
        ("http://[", "/wall"),
        ("//[", "/wall"),
    ],
)
def test_login_returns_only_to_this_site(target: str, expected: str) -> None:
    assert safe_next(target) == expected


def test_tokens_store_only_a_digest_and_find_by_it() -> None:
    store = MemoryStore()
    tokens = TokenStore(store)
    token, secret = tokens.create("kiosk", scope="screen", screen=7)
    assert token.name == "screen-7" and token.id == digest(secret)[:12]
    assert list(store.map_all("auth:tokens")) == [digest(secret)]
    assert secret not in "".join(store.map_all("auth:tokens").values())
    assert tokens.lookup(secret) == token
    assert tokens.lookup(secret + "x") is None
    assert tokens.lookup("x" * 500) is None
    second, _ = tokens.create("kiosk", scope="screen", screen=7)
    assert second.name == "screen-7-2"
    with pytest.raises(TokenError, match="exists"):
        tokens.create("kiosk", name="screen-7")
    with pytest.raises(TokenError, match="kiosk"):
        tokens.create("operator", scope="wall")
    with pytest.raises(TokenError, match="unknown role"):
        tokens.create("root")
    assert [t.name for t in tokens.revoke(token.id)] == ["screen-7"]
    assert tokens.lookup(secret) is None


def test_users_refuse_bad_names_roles_and_passwords() -> None:
    users = UserStore(MemoryStore())
    for name, role, password, message in [
        ("a b", "viewer", "long-enough", "invalid user name"),
        ("ani", "root", "long-enough", "unknown role"),
        ("ani", "viewer", "x7Q!k", "too short"),
        ("ani", "viewer", "p" * 1025, "too long"),
    ]:
        with pytest.raises(UserError, match=message) as caught:
            users.add(name, role, password)
        assert password not in str(caught.value)
    user = users.add("ani", "viewer", "long-enough")
    assert user.hash.startswith("$argon2id$")
    assert users.authenticate("ani", "long-enough") == user
    assert users.authenticate("ani", "long-enougH") is None
    assert users.authenticate("budi", "long-enough") is None
    changed = users.set_role("ani", "admin")
    assert changed.role == "admin" and changed.stamp != user.stamp


def test_users_file_loses_nothing_under_concurrent_writers(tmp_path: Path) -> None:
    maps = FileMaps(tmp_path / "users.json")
    threads = [threading.Thread(target=maps.map_put, args=("auth:users", f"u{i}", f"v{i}")) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert maps.map_all("auth:users") == {f"u{i}": f"v{i}" for i in range(20)}


def test_the_consoles_incident_detail_is_for_those_who_may_read_the_console() -> None:
    """The detail's Dash callback answers any token, as every callback does: the port gives
    a kiosk scoped to a screen, the wall or the tablet nothing, and everyone else the incident."""
    config = load_config()
    store = MemoryStore()
    CityState(store, config).accept(
        Incident(
            id="d-1", observed_at=datetime(2026, 12, 4, 8, tzinfo=UTC), source_type="Alert", category="fire", description="Api"
        )
    )
    port = ConsolePort(Desk(store, config))
    got = {}
    for name, who in {
        "screen kiosk": Principal("k", "kiosk", "token", screen=4, scope="screen"),
        "wall kiosk": Principal("k", "kiosk", "token", scope="wall"),
        "tablet kiosk": Principal("k", "kiosk", "token", scope="tablet"),
        "kiosk": Principal("k", "kiosk", "token"),
        "viewer": Principal("v", "viewer", "session"),
    }.items():
        reset = CURRENT.set(who)
        try:
            detail = port.incident("d-1")
        finally:
            CURRENT.reset(reset)
        got[name] = None if detail is None else detail["id"]
    assert got == {"screen kiosk": None, "wall kiosk": None, "tablet kiosk": None, "kiosk": "d-1", "viewer": "d-1"}


def test_wrong_passwords_for_a_name_from_one_address_are_limited_and_its_right_one_clears_them() -> None:
    now = [1_000.0]
    throttle = LoginThrottle(MemoryStore(clock=lambda: now[0]))

    def attempt(address: str, name: str, right: bool = False) -> None:
        assert throttle.begin(address)
        throttle.end(address, name, succeeded=right)

    for _ in range(9):
        attempt("10.0.0.1", "admin")
    assert not throttle.blocked("10.0.0.1", "admin")
    attempt("10.0.0.1", "admin")
    assert [
        throttle.blocked("10.0.0.1", "admin"),
        throttle.blocked("10.0.0.2", "admin"),
        throttle.blocked("10.0.0.1", "viewer"),
    ] == [
        True,
        False,
        False,
    ]
    attempt("10.0.0.1", "viewer", right=True)
    assert throttle.blocked("10.0.0.1", "admin"), "another name's right password clears nothing"
    now[0] += 15 * 60 - 1
    assert throttle.blocked("10.0.0.1", "admin"), "the window is 15 minutes from the first wrong try"
    now[0] += 1
    assert not throttle.blocked("10.0.0.1", "admin")
    for _ in range(9):
        attempt("10.0.0.2", "operator")
    attempt("10.0.0.2", "operator", right=True)
    attempt("10.0.0.2", "operator")
    assert not throttle.blocked("10.0.0.2", "operator"), "the name's right password forgets the wrong tries before it"


def test_wrong_passwords_spread_over_names_are_limited_per_address() -> None:
    throttle = LoginThrottle(MemoryStore())
    for n in range(29):
        assert throttle.begin("10.0.0.3")
        throttle.end("10.0.0.3", f"name-{n}", succeeded=False)
    assert not throttle.blocked("10.0.0.3", "someone")
    assert throttle.begin("10.0.0.3")
    throttle.end("10.0.0.3", "name-29", succeeded=False)
    assert throttle.begin("10.0.0.3")
    throttle.end("10.0.0.3", "viewer", succeeded=True)
    assert (throttle.blocked("10.0.0.3", "someone"), throttle.blocked("10.0.0.4", "someone")) == (True, False)


def test_only_so_many_password_checks_run_at_once() -> None:
    throttle = LoginThrottle(MemoryStore(), wait_s=0)
    taken = [throttle.begin(f"10.0.0.{n}") for n in range(5)]
    assert taken == [True, True, True, True, False]
    throttle.end("10.0.0.1", "viewer", succeeded=True)
    assert throttle.begin("10.0.0.5")


class Try:
    """One login try on its own thread, as the server runs them: it waits for a check (or is
    refused) and holds a check it got until ``done``, so the test decides when each ends."""

    def __init__(self, throttle: LoginThrottle, address: str) -> None:
        self.answer: bool | None = None
        self._release = threading.Event()

        def run() -> None:
            self.answer = throttle.begin(address)
            if self.answer:
                self._release.wait()
                throttle.end(address, "viewer", succeeded=True)

        self._thread = threading.Thread(target=run, name=f"login-try-{address}", daemon=True)
        self._thread.start()

    def done(self) -> None:
        self._release.set()
        self._thread.join(timeout=30)
        assert not self._thread.is_alive()


def checked(tries: list[Try], throttle: LoginThrottle, waiting: int) -> None:
    """Until each of ``tries`` has its check and ``waiting`` tries wait in line."""
    wait_until(lambda: all(t.answer for t in tries) and throttle.waiting == waiting, 30, f"checks taken, {waiting} waiting")


def test_a_try_finding_every_check_busy_waits_in_line_for_one() -> None:
    """Refused at once, a few clients' wrong passwords kept real logins out; first come, first served."""
    throttle = LoginThrottle(MemoryStore(), wait_s=120)
    held = [Try(throttle, f"10.0.0.{n}") for n in range(4)]
    checked(held, throttle, waiting=0)
    first = Try(throttle, "10.0.1.1")
    checked([], throttle, waiting=1)
    second = Try(throttle, "10.0.1.2")
    checked([], throttle, waiting=2)
    try:
        assert (first.answer, second.answer) == (None, None)
        held[0].done()
        checked([first], throttle, waiting=1)
        assert second.answer is None, "the first in line has the check that came free"
        held[1].done()
        checked([second], throttle, waiting=0)
    finally:
        for t in [*held, first, second]:
            t.done()


def test_an_address_past_its_share_is_refused_at_once_while_others_get_in() -> None:
    """One client sending many tries together took every check, and everyone else waited."""
    throttle = LoginThrottle(MemoryStore(), wait_s=120)
    mine = [Try(throttle, "10.0.0.1") for _ in range(2)]
    checked(mine, throttle, waiting=0)
    assert not throttle.begin("10.0.0.1"), "two checks are free, but not for a third try from this address"
    others = [Try(throttle, "10.0.0.2"), Try(throttle, "10.0.0.3")]
    checked(others, throttle, waiting=0)
    line = [Try(throttle, "10.0.0.4") for _ in range(2)]
    checked([], throttle, waiting=2)
    tries = [*mine, *others, *line]
    try:
        assert not throttle.begin("10.0.0.4"), "a try waiting in line counts in its address's share"
        assert throttle.waiting == 2, "refused before the tries in line could wait out theirs"
        mine[0].done()
        checked(line[:1], throttle, waiting=1)
        tries.append(Try(throttle, "10.0.0.1"))
        checked([], throttle, waiting=2)  # its share came back with the check that ended: it waits in line
    finally:
        for t in tries:
            t.done()


def test_a_wait_that_runs_out_is_refused_and_leaves_nothing_behind() -> None:
    throttle = LoginThrottle(MemoryStore(), wait_s=0.05)
    assert [throttle.begin(f"10.0.0.{n}") for n in range(4)] == [True] * 4
    assert [throttle.begin("10.0.1.1"), throttle.begin("10.0.1.1")] == [False, False]
    assert (throttle.waiting, throttle._held) == (0, {f"10.0.0.{n}": 1 for n in range(4)})
    throttle.end("10.0.0.0", "viewer", succeeded=True)
    throttle.end("10.0.0.1", "viewer", succeeded=True)
    assert [throttle.begin("10.0.1.1"), throttle.begin("10.0.1.1")] == [True, True], "no check and no share was kept"


def test_a_wait_ended_by_an_error_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    throttle = LoginThrottle(MemoryStore(), wait_s=120)
    assert [throttle.begin(f"10.0.0.{n}") for n in range(4)] == [True] * 4

    def interrupted(*_: object) -> bool:
        raise KeyboardInterrupt

    monkeypatch.setattr(throttle._turn, "wait_for", interrupted)
    with pytest.raises(KeyboardInterrupt):
        throttle.begin("10.0.1.1")
    assert (throttle.waiting, throttle._held) == (0, {f"10.0.0.{n}": 1 for n in range(4)})


def test_only_so_many_tries_wait_in_line() -> None:
    throttle = LoginThrottle(MemoryStore(), wait_s=120)
    held = [Try(throttle, f"10.0.0.{n}") for n in range(CONCURRENT)]
    checked(held, throttle, waiting=0)
    line = [Try(throttle, f"10.0.1.{n}") for n in range(QUEUE)]
    checked([], throttle, waiting=QUEUE)
    try:
        assert not throttle.begin("10.0.2.1"), "the line is full"
        assert throttle.waiting == QUEUE, "refused before the tries in line could wait out theirs"
    finally:
        for t in [*held, *line]:
            t.done()


def test_the_console_asks_anonymous_readers_to_sign_in_and_viewers_for_the_role() -> None:
    """With reading open, a desk whose session ended reads on as the anonymous reader: its
    next action must send it to the login ("Masuk dulu"), not ask for a role it already has."""
    config = load_config()
    store = MemoryStore()
    CityState(store, config).accept(
        Incident(id="d-2", observed_at=datetime(2026, 12, 4, 8, tzinfo=UTC), source_type="Alert", category="fire")
    )
    port = ConsolePort(Desk(store, config))
    got = {}
    for name, who in {
        "anonymous": ANONYMOUS,
        "viewer": Principal("v", "viewer", "session"),
        "operator": Principal("o", "operator", "session"),
    }.items():
        reset = CURRENT.set(who)
        try:
            ok, result = port.act("d-2", {"action": "acknowledge"})
            got[name] = (port.whoami(), "done" if ok else (result.status, result.word))
        finally:
            CURRENT.reset(reset)
    assert got == {
        "anonymous": (None, (401, "err_sign_in")),
        "viewer": (("v", "viewer"), (403, "err_needs_role")),
        "operator": (("o", "operator"), "done"),
    }


def test_an_identity_looked_up_before_stands_while_the_store_is_away(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request asked the store who it was: with Redis gone, each waited on the dead
    connection, and a signed-in desk or a kiosk got 500 once its few seconds of cache ran out."""
    import redis

    from dashboard.auth import service
    from dashboard.store.redis_store import StoreUnavailable

    monkeypatch.setattr(service, "CACHE_S", 0.0)  # every answer out of date at once
    store = MemoryStore()
    tokens = TokenStore(store)
    seen, unseen = tokens.create("kiosk", scope="screen", screen=4)[1], tokens.create("kiosk", scope="screen", screen=4)[1]
    up = {"ok": True}
    auth = service.AuthService(load_config().auth, store, store_ok=lambda: up["ok"])
    assert auth.resolve({}, {}, seen).principal == Principal(name="screen-4", role="kiosk", via="token", scope="screen", screen=4)

    def away(*_: object) -> None:
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(store, "map_get", away)
    up["ok"] = False  # known away: the store is not asked
    assert auth.resolve({}, {}, seen).principal is not None
    with pytest.raises(StoreUnavailable):
        auth.resolve({}, {}, unseen)
    up["ok"] = True  # not yet known away: asked, and its outage leaves the last answer standing
    assert auth.resolve({}, {}, seen).principal is not None
    with pytest.raises(redis.ConnectionError):
        auth.resolve({}, {}, unseen)


def _with_an_old_hash(maps: Any, name: str, password: str) -> UserStore:
    """A user whose hash was made with weaker Argon2 parameters than today's."""
    import json

    from argon2 import PasswordHasher

    users = UserStore(maps)
    users.add(name, "operator", password)
    record = json.loads(maps.map_get("auth:users", name))
    record["hash"] = PasswordHasher(time_cost=1, memory_cost=8_192, parallelism=1).hash(password)
    maps.map_put("auth:users", name, json.dumps(record))
    return users


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_a_login_upgrades_an_old_hash(kind: str, tmp_path: Path) -> None:
    from dashboard.auth import passwords

    maps: Any = MemoryStore() if kind == "memory" else FileMaps(tmp_path / "users.json")
    users = _with_an_old_hash(maps, "ani", "sandi-lama-1")
    stored = users.get("ani")
    assert stored is not None and passwords.needs_rehash(stored.hash)
    assert users.authenticate("ani", "sandi-lama-1") is not None
    upgraded = users.get("ani")
    assert upgraded is not None and not passwords.needs_rehash(upgraded.hash)
    assert users.authenticate("ani", "sandi-lama-1") is not None


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_a_password_changed_during_a_login_is_not_undone_by_its_rehash(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The login read the record, spent 50-100 ms verifying, then wrote the old password's new
    hash over a password an admin had changed meanwhile: the old password worked again."""
    from dashboard.auth import passwords

    maps: Any = MemoryStore() if kind == "memory" else FileMaps(tmp_path / "users.json")
    users = _with_an_old_hash(maps, "ani", "sandi-lama-1")
    verify = passwords.verify

    def changed_meanwhile(stored: str | None, password: str) -> bool:
        result = verify(stored, password)
        UserStore(maps).passwd("ani", "sandi-baru-2")  # another worker, during the verify
        return result

    monkeypatch.setattr(passwords, "verify", changed_meanwhile)
    assert users.authenticate("ani", "sandi-lama-1") is not None, "the password was right when it was checked"
    monkeypatch.setattr(passwords, "verify", verify)
    assert users.authenticate("ani", "sandi-baru-2") is not None
    assert users.authenticate("ani", "sandi-lama-1") is None


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [("http://wall:8050", True), ("https://evil.example", False), ("http://[", False), ("wall:8050", False)],
)
def test_a_write_s_origin_must_be_this_host_and_a_url(origin: str, allowed: bool) -> None:
    """``http://[`` made the URL parser raise inside the login's check."""
    assert origin_allowed({"origin": origin, "host": "wall:8050"}) is allowed


def test_the_console_refuses_values_of_the_wrong_shape_in_plain_words() -> None:
    """The console's values reached the desk as the browser sent them: a list as a code came
    back as "unhashable type: 'list'", a dict as a note's text was a 500, and a dict as a
    broadcast's text went on the wall as "{'a': 1}"."""
    config = load_config()
    store = MemoryStore()
    CityState(store, config).accept(
        Incident(id="d-3", observed_at=datetime(2026, 12, 4, 8, tzinfo=UTC), source_type="Alert", category="fire")
    )
    desk = Desk(store, config)
    port = ConsolePort(desk)
    reset = CURRENT.set(Principal("s", "supervisor", "session"))
    try:
        answers = [
            port.act("d-3", {"action": "resolve", "code": ["handled"]}),
            port.act("d-3", {"action": "note", "text": {"a": 1}}),
            port.act("d-3", {"action": "note", "text": "ok\x00evil"}),
            port.act({"id": "d-3"}, {"action": "acknowledge"}),  # type: ignore[arg-type]
            port.wall_action("broadcast", {"level": "RED", "text": {"a": 1}, "minutes": 5}),
            port.wall_action("preset", {"preset": {"a": 1}}),
            port.wall_action("push", {"screen": [1], "incident": "d-3", "minutes": 5}),
        ]
        reasons = [(ok, result.status, result.reason) for ok, result in answers]
        said_id = [said(result, "id") for _, result in answers[1:3]]
        kept = [
            port.act("d-3", {"action": "note", "text": "baris satu\nbaris dua"}),
            port.wall_action("push", {"screen": "3", "incident": "d-3"}),
        ]
    finally:
        CURRENT.reset(reset)
    assert reasons == [
        (False, 422, "code: Input should be a valid string"),
        (False, 422, "text: Input should be a valid string"),
        (False, 422, "text: holds a control character"),
        (False, 422, "the incident is not named"),
        (False, 422, "text: Input should be a valid string"),
        (False, 422, "preset: Input should be a valid string"),
        (False, 422, "screen: Input should be a valid integer"),
    ]
    assert said_id == ["Isian text tidak sah", "Teks memuat karakter kendali; hapus lalu kirim lagi"]  # the desk's words
    assert [ok for ok, _ in kept] == [True, True]
    assert [n["text"] for n in desk.incident("d-3")["notes"]] == ["baris satu\nbaris dua"]
    assert sorted(e["action"] for e in desk.audit.entries(100)) == ["note", "wall.push"]  # what was refused left no trace


def test_the_desks_refusals_that_the_widgets_rarely_let_through_are_in_the_desks_words() -> None:
    """An unknown preset, a screen or minutes out of range, an incident gone and a step ticked
    twice answered in English in an Indonesian console ("step 0 is already done")."""
    config = load_config()
    store = MemoryStore()
    CityState(store, config).accept(
        Incident(id="d-4", observed_at=datetime(2026, 12, 4, 8, tzinfo=UTC), source_type="Alert", category="fire")
    )
    port = ConsolePort(Desk(store, config))
    reset = CURRENT.set(Principal("s", "supervisor", "session"))
    try:
        assert port.act("d-4", {"action": "tick", "step": 0})[0] is True
        answers = [
            port.wall_action("preset", {"preset": "tidak-ada"}),
            port.wall_action("push", {"screen": 99, "incident": "d-4"}),
            port.wall_action("push", {"screen": 3, "incident": "d-4", "minutes": 500}),
            port.act("hilang", {"action": "acknowledge"}),
            port.act("d-4", {"action": "tick", "step": 0}),
            port.act("d-4", {"action": "untick", "step": 1}),
        ]
    finally:
        CURRENT.reset(reset)
    assert [ok for ok, _ in answers] == [False] * 6
    assert [said(result, "id") for _, result in answers] == [
        "Tata letak itu tidak dikenal",
        "Layar harus bilangan bulat 1–24",
        "Menit harus bilangan bulat 1–240",
        "Kejadian itu tidak ada (lagi)",
        "Langkah 1 sudah dicentang",
        "Langkah 2 belum dicentang",
    ]
