"""``citywall users ...`` and ``citywall tokens ...``: accounts and tokens from a terminal.

They write where the web workers read: the configured store (Redis) or, for users, the
``auth.users_file``. With the memory store there is nothing shared to write to (each process
has its own memory), so the commands say so instead of pretending to work.

Passwords come from stdin (``--password-stdin``) or a prompt, never from the command line,
where ``ps`` and shell history would keep them. The one secret these commands print is a new
token, once, because that is the only moment it exists in clear.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from typing import Any, Literal

from dashboard.auth.maps import FileMaps, NamedMaps
from dashboard.auth.principal import ROLES
from dashboard.auth.tokens import TOKEN_ROLES, TokenError, TokenStore
from dashboard.auth.users import UserError, UserStore
from dashboard.config import Config

EXIT_USAGE = 2


def add_commands(sub: Any, command: Any) -> None:
    """Add ``users`` and ``tokens`` to the ``citywall`` parser (``command`` makes a sub-command)."""
    users = command("users", run_users, "manage user accounts (roles: " + ", ".join(ROLES) + ")")
    users_sub = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = users_sub.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    passwd = users_sub.add_parser("passwd", help="set a new password (ends the user's sessions)")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    role = users_sub.add_parser("role", help="change a user's role (ends the user's sessions)")
    role.add_argument("name")
    role.add_argument("role", choices=ROLES)
    remove = users_sub.add_parser("remove", help="remove a user (ends the user's sessions)")
    remove.add_argument("name")
    users_sub.add_parser("list", help="list users and roles")

    tokens = command("tokens", run_tokens, "manage kiosk and API tokens")
    tokens_sub = tokens.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = tokens_sub.add_parser("create", help="create a token; prints it (a URL for kiosks) as the last line")
    create.add_argument(
        "--role",
        required=True,
        choices=TOKEN_ROLES,
        help="kiosk: read-only, for screens; a user role: an API token (Authorization: Bearer)",
    )
    where = create.add_mutually_exclusive_group()
    where.add_argument("--screen", type=int, metavar="N", help="kiosk may read only /screen/N")
    where.add_argument("--wall", action="store_true", help="kiosk may read the wall and its screens")
    where.add_argument("--tablet", action="store_true", help="kiosk may read the tablet")
    create.add_argument("--name", default=None, help="a name to list and revoke it by")
    create.add_argument("--base-url", default=None, help="public address for the URL (default: server.host:port)")
    tokens_sub.add_parser("list", help="list tokens (never their values)")
    revoke = tokens_sub.add_parser("revoke", help="revoke tokens by name or id")
    revoke.add_argument("name_or_id")


def run_users(config: Config, args: argparse.Namespace) -> int:
    maps = _maps(config, users=True)
    if maps is None:
        return EXIT_USAGE
    accounts = UserStore(maps)
    try:
        if args.action == "add":
            user = accounts.add(args.name, args.role, _password(args.password_stdin))
            print(f"added {user.name} ({user.role})")
        elif args.action == "passwd":
            user = accounts.passwd(args.name, _password(args.password_stdin))
            print(f"new password for {user.name}; their sessions have ended")
        elif args.action == "role":
            user = accounts.set_role(args.name, args.role)
            print(f"{user.name} is now {user.role}; their sessions have ended")
        elif args.action == "remove":
            if not accounts.remove(args.name):
                raise UserError(f"no user named {args.name[:64]!r}")
            print(f"removed {args.name}")
        else:
            for user in accounts.list():
                print(f"{user.name:<24} {user.role:<11} since {_day(user.created)}")
    except UserError as exc:
        print(f"citywall users: {exc}", file=sys.stderr)
        return 1
    return 0


def run_tokens(config: Config, args: argparse.Namespace) -> int:
    maps = _maps(config, users=False)
    if maps is None:
        return EXIT_USAGE
    tokens = TokenStore(maps)
    try:
        if args.action == "create":
            scope: Literal["screen", "wall", "tablet"] | None = (
                "screen" if args.screen is not None else "wall" if args.wall else "tablet" if args.tablet else None
            )
            if args.screen is not None and not 1 <= args.screen <= config.wall.screen_count:
                raise TokenError(f"screen {args.screen} is outside the wall (screens 1-{config.wall.screen_count})")
            token, secret = tokens.create(args.role, scope=scope, screen=args.screen, name=args.name)
            print(
                f"created {token.role} token {token.name!r} (id {token.id}, {token.describe_scope()}); "
                "it is shown once, keep it safe",
                file=sys.stderr,
            )
            if token.role == "kiosk":
                base = (args.base_url or f"http://{config.server.host}:{config.server.port}").rstrip("/")
                print(f"{base}{kiosk_path(token.scope, token.screen)}?token={secret}")
            else:
                print(secret)
        elif args.action == "list":
            for token in tokens.list():
                print(f"{token.id}  {token.name:<24} {token.role:<10} {token.describe_scope():<12} since {_day(token.created)}")
        else:
            gone = tokens.revoke(args.name_or_id)
            if not gone:
                raise TokenError(f"no token named or with id {args.name_or_id[:64]!r}")
            for token in gone:
                print(f"revoked {token.name} (id {token.id})")
    except TokenError as exc:
        print(f"citywall tokens: {exc}", file=sys.stderr)
        return 1
    return 0


def kiosk_path(scope: str | None, screen: int | None) -> str:
    return {"screen": f"/screen/{screen}", "tablet": "/tablet"}.get(scope or "", "/wall")


def _maps(config: Config, users: bool) -> NamedMaps | None:
    if users and config.auth.users_file:
        return FileMaps(config.auth.users_file)
    if config.store.backend == "memory":
        what = "users" if users else "tokens"
        print(
            f"citywall: config error: store.url: {what} must live where every web worker sees them; the "
            f"memory store lives inside one process (set store.url or CITYWALL_STORE_URL to redis://..."
            f"{', or auth.users_file' if users else ''}). 'citywall demo' makes its own login and kiosk URLs.",
            file=sys.stderr,
        )
        return None
    from dashboard.runtime import open_store

    return open_store(config)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    if not sys.stdin.isatty():  # a script's call: getpass warned, echoed, and ended in a traceback
        raise UserError("no password given: type it at a terminal, or pass it with --password-stdin")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise UserError("the passwords differ")
    return first


def _day(t: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(t))
