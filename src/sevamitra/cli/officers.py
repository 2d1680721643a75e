"""`sevamitra officers create | disable | list`: officers' accounts, from the command line."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from sevamitra.bootstrap.officials_auth import UsernameTaken, load_places, officer_access, place_problem, totp_uri
from sevamitra.settings import Settings


class UsageError(Exception):
    """Arguments the command cannot use."""


def add_officer_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `officers create | disable | list` on the top-level subcommands."""
    officers = commands.add_parser("officers", help="officers' accounts for the dashboard")
    officer_commands = officers.add_subparsers(dest="officers_command", required=True)

    create = officer_commands.add_parser(
        "create", help="a new account; prints its TOTP secret once, for an authenticator app"
    )
    create.add_argument("--username", required=True, help="lowercase letters and digits, joined by '.', '_' or '-'")
    create.add_argument("--name", required=True, help="the name the dashboard shows")
    create.add_argument("--role", required=True, help="a role of core.roles, e.g. tahsildar or district_admin")
    create.add_argument(
        "--place", required=True, help='a place id at the role\'s level (ntr/vijayawada-rural), or "state"'
    )
    create.add_argument("--department", default=None, help="department administrators: their department's id")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of standard input"
    )

    disable = officer_commands.add_parser("disable", help="shut an account for good and end its sessions")
    disable.add_argument("username")

    officer_commands.add_parser("list", help="every account, with its state")


def run_officer_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run an `officers` command: 0 when done, 1 when refused, 2 on a usage error."""
    try:
        if args.officers_command == "create":
            return asyncio.run(_create(args, settings))
        if args.officers_command == "disable":
            return asyncio.run(_disable(args.username, settings))
        return asyncio.run(_list(settings))
    except UsageError as error:
        print(f"sevamitra officers {args.officers_command}: {error}", file=sys.stderr)
        return 2


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise UsageError("the two passwords differ")
    return first


async def _create(args: argparse.Namespace, settings: Settings) -> int:
    problem = place_problem(args.role, args.place, load_places(settings))
    if problem is not None:
        raise UsageError(problem)
    if args.role == "department_admin" and not args.department:
        raise UsageError("a department administrator needs --department")
    password = _password(args.password_stdin)
    async with officer_access(settings) as access:
        try:
            officer, secret = await access.create_officer(
                username=args.username,
                display_name=args.name,
                role=args.role,
                place=args.place,
                department_id=args.department,
                password=password,
            )
        except (ValueError, UsernameTaken) as error:
            raise UsageError(str(error)) from error
    print(f"created officer {officer.username} (id {officer.id}): {officer.role} at {officer.place}")
    print()
    print("Scan this into the officer's authenticator app (shown this once only; it is stored sealed):")
    print(f"  TOTP secret: {secret}")
    print(f"  URI:         {totp_uri(secret, officer.username)}")
    return 0


async def _disable(username: str, settings: Settings) -> int:
    async with officer_access(settings) as access:
        if not await access.disable_officer(username):
            print(f"sevamitra officers disable: no officer {username!r}", file=sys.stderr)
            return 1
    print(f"disabled officer {username}; their sessions have ended")
    return 0


async def _list(settings: Settings) -> int:
    async with officer_access(settings) as access:
        rows = await access.officers.list()
        now = access.clock.now()
    print(f"{'USERNAME':<24} {'NAME':<28} {'ROLE':<32} {'PLACE':<36} STATE")
    for row in rows:
        state = "disabled" if not row.active else "locked" if row.locked_at(now) else "active"
        where = f"{row.place} ({row.department_id})" if row.department_id else row.place
        print(f"{row.username:<24} {row.display_name:<28} {row.role:<32} {where:<36} {state}")
    print(f"{len(rows)} officer(s)")
    return 0
