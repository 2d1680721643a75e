"""`sevamitra officers create | disable | list` on a migrated SQLite database."""

from __future__ import annotations

import argparse
import asyncio
import io
import re
from pathlib import Path

import pytest

from sevamitra.adapters.officer_auth import totp_code
from sevamitra.bootstrap import migrate
from sevamitra.bootstrap.officials_auth import SignIn, load_places, officer_access, place_problem
from sevamitra.cli.officers import add_officer_commands, run_officer_command
from sevamitra.settings import Settings

PASSWORD = "Krishna-river-2026"
TAHSILDAR = ("--username", "tahsildar.vjw", "--name", "K. Lakshmi", "--role", "tahsildar")
MANDAL = "ntr/vijayawada-rural"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sevamitra")
    add_officer_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["officers", *argv])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    configured = Settings(env="dev", database_url=f"sqlite+aiosqlite:///{tmp_path / 'officers.db'}", data_key="cli-key")
    migrate(configured)
    return configured


def run(settings: Settings, monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = f"{PASSWORD}\n") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return run_officer_command(parse(*argv), settings)


def test_create_prints_the_secret_once_and_the_officer_can_sign_in(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(settings, monkeypatch, "create", *TAHSILDAR, "--place", MANDAL, "--password-stdin") == 0
    out = capsys.readouterr().out
    secret = re.search(r"TOTP secret: ([A-Z2-7]{32})", out)
    assert secret is not None
    assert f"otpauth://totp/Sevamitra:tahsildar.vjw?secret={secret.group(1)}" in out
    assert "authenticator app" in out

    async def sign_in() -> bool:
        async with officer_access(settings) as access:
            result = await access.sign_in("tahsildar.vjw", PASSWORD, None)
            assert isinstance(result, SignIn)
            return await access.second_factor(result.token, totp_code(secret.group(1), access.clock.now()), None)

    assert asyncio.run(sign_in())


def test_create_asks_for_the_password_twice(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter([PASSWORD, "Something-else-2026"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert run(settings, monkeypatch, "create", *TAHSILDAR, "--place", MANDAL) == 2
    assert "the two passwords differ" in capsys.readouterr().err
    answers = iter([PASSWORD, PASSWORD])
    assert run(settings, monkeypatch, "create", *TAHSILDAR, "--place", MANDAL) == 0


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        ((*TAHSILDAR, "--place", "ntr"), "works at a mandal"),
        ((*TAHSILDAR, "--place", "state"), "not for the whole state"),
        ((*TAHSILDAR, "--place", "ntr/nowhere"), "unknown place"),
        (("--username", "x.y", "--name", "X", "--role", "tahsildar_general", "--place", MANDAL), "unknown role"),
        (
            ("--username", "admin.ap", "--name", "Admin", "--role", "department_admin", "--place", "state"),
            "--department",
        ),
        (("--username", "Admin AP", "--name", "Admin", "--role", "state_admin", "--place", "state"), "username"),
    ],
)
def test_create_refuses_what_will_not_do(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    problem: str,
) -> None:
    assert run(settings, monkeypatch, "create", *argv, "--password-stdin") == 2
    assert problem in capsys.readouterr().err


def test_create_refuses_a_weak_password_and_a_taken_username(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(settings, monkeypatch, "create", *TAHSILDAR, "--place", MANDAL, "--password-stdin", stdin="short\n") == 2
    assert "at least 12 characters" in capsys.readouterr().err
    assert run(settings, monkeypatch, "create", *TAHSILDAR, "--place", MANDAL, "--password-stdin") == 0
    assert run(settings, monkeypatch, "create", *TAHSILDAR, "--place", MANDAL, "--password-stdin") == 2
    assert "taken" in capsys.readouterr().err


def test_disable_and_list(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(settings, monkeypatch, "create", *TAHSILDAR, "--place", MANDAL, "--password-stdin") == 0
    admin = ("--username", "revenue.admin", "--name", "Revenue Admin", "--role", "department_admin")
    assert (
        run(settings, monkeypatch, "create", *admin, "--place", "state", "--department", "revenue", "--password-stdin")
        == 0
    )
    capsys.readouterr()
    assert run(settings, monkeypatch, "disable", "tahsildar.vjw") == 0
    assert run(settings, monkeypatch, "disable", "nobody.here") == 1
    assert "no officer 'nobody.here'" in capsys.readouterr().err
    assert run(settings, monkeypatch, "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[0] == "revenue.admin" and "state (revenue)" in lines[1] and lines[1].endswith("active")
    assert lines[2].split()[0] == "tahsildar.vjw" and lines[2].endswith("disabled")
    assert lines[-1] == "2 officer(s)"


@pytest.mark.parametrize(
    ("role", "place", "fine"),
    [
        ("village_revenue_officer", "ntr/vijayawada-rural/nidamanuru", True),
        ("village_revenue_officer", MANDAL, False),
        ("tahsildar", MANDAL, True),
        ("district_collector", "ntr", True),
        ("district_admin", "ntr", True),
        ("district_admin", "state", False),
        ("state_admin", "state", True),
        ("cmrf_section_officer", "ntr", False),
    ],
)
def test_each_role_sits_at_its_level(role: str, place: str, fine: bool) -> None:
    places = load_places(Settings(env="dev"))
    assert (place_problem(role, place, places) is None) is fine
