"""Officers signing in, on both databases: passwords, the TOTP second factor, lock-out, sessions, the audit log."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.officer_auth import (
    hash_password,
    needs_rehash,
    new_totp_secret,
    password_problems,
    totp_code,
    totp_match,
    totp_ok,
    totp_uri,
    verify_password,
)
from sevamitra.adapters.sql.officers import SqlSessions, UsernameTaken
from sevamitra.adapters.sql.tables import officer_sessions, officers
from sevamitra.bootstrap.officials_auth import (
    OfficerAccess,
    SignIn,
    SignInRefused,
    build_officer_access,
)
from sevamitra.core.officers import Officer
from sevamitra.testing.clock import FixedClock
from tests.adapters.test_sql_spine import SEALER

PASSWORD = "Krishna-river-2026"
START = datetime(2026, 11, 30, 4, 0, 10, tzinfo=UTC)  # 10 s into a TOTP step


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def access(engine: AsyncEngine, clock: FixedClock) -> OfficerAccess:
    return build_officer_access(engine, SEALER, clock)


async def tahsildar(access: OfficerAccess, username: str = "tahsildar.vjw") -> tuple[Officer, str]:
    return await access.create_officer(
        username=username,
        display_name="Tahsildar, Vijayawada Rural",
        role="tahsildar",
        place="ntr/vijayawada-rural",
        department_id=None,
        password=PASSWORD,
    )


async def signed_in(access: OfficerAccess, secret: str, username: str = "tahsildar.vjw") -> str:
    """A session with both factors passed; its token."""
    result = await access.sign_in(username, PASSWORD, "10.0.0.1")
    assert isinstance(result, SignIn)
    assert await access.second_factor(result.token, totp_code(secret, access.clock.now()), "10.0.0.1")
    return result.token


async def actions(access: OfficerAccess) -> list[str]:
    return [row.action for row in reversed(await access.audit.recent(100))]


# --- credentials, without a database


def test_passwords_are_argon2id_and_verify_only_themselves() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD.upper())
    assert not verify_password("not a hash", PASSWORD)  # never raises
    assert not needs_rehash(stored)
    assert needs_rehash(PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD))


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        (PASSWORD, 0),
        ("short-1A", 1),
        ("alllowercaseletters", 1),
        ("123456789012345", 1),
        ("ఆంధ్రప్రదేశ్2026సేవ", 0),  # Telugu letters and digits are two kinds
        ("tahsildar.vjw-2026", 1),  # contains the username
    ],
)
def test_password_policy(password: str, problems: int) -> None:
    assert len(password_problems(password, username="tahsildar.vjw")) == problems


def test_totp_accepts_one_step_either_side_and_nothing_further() -> None:
    secret = new_totp_secret()
    assert len(secret) == 32
    for seconds in (-30, 0, 30):
        assert totp_ok(secret, totp_code(secret, START + timedelta(seconds=seconds)), START)
    for seconds in (-60, 60, 3600):
        assert not totp_ok(secret, totp_code(secret, START + timedelta(seconds=seconds)), START)
    step_start = START.replace(second=0)
    assert totp_match(secret, totp_code(secret, START), START) == step_start
    assert totp_match(secret, totp_code(secret, START - timedelta(seconds=30)), START) == step_start - timedelta(
        seconds=30
    )


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12345a", "౧౨౩౪౫౬", " 123456", "१२३४५६"])
def test_totp_takes_six_ascii_digits_only(code: str) -> None:
    assert not totp_ok(new_totp_secret(), code, START)


def test_totp_uri_is_what_authenticator_apps_scan() -> None:
    uri = totp_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "tahsildar.vjw")
    assert uri.startswith("otpauth://totp/Sevamitra:tahsildar.vjw?")
    assert "secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" in uri and "issuer=Sevamitra" in uri


# --- accounts


async def test_an_officer_signs_in_with_password_then_code(access: OfficerAccess) -> None:
    officer, secret = await tahsildar(access)
    result = await access.sign_in("tahsildar.vjw", PASSWORD, "10.0.0.1")
    assert isinstance(result, SignIn)
    assert await access.officer_for(result.token) is None  # not before the second factor
    half = await access.officer_for(result.token, second_factor=False)
    assert half is not None and not half[1].second_factor

    assert await access.second_factor(result.token, totp_code(secret, access.clock.now()), "10.0.0.1")
    found = await access.officer_for(result.token)
    assert found is not None
    assert found[0] == officer
    assert found[1].second_factor and found[1].csrf == result.csrf
    assert await actions(access) == ["officer_created", "sign_in_first_factor", "sign_in"]


async def test_secrets_at_rest_are_a_hash_and_a_sealed_value(access: OfficerAccess, engine: AsyncEngine) -> None:
    officer, secret = await tahsildar(access)
    async with engine.connect() as connection:
        row = (await connection.execute(select(officers).where(officers.c.id == officer.id))).one()
    assert row.password_hash.startswith("$argon2id$") and PASSWORD not in row.password_hash
    assert secret not in row.totp_secret
    assert await access.officers.totp_secret(officer.id) == secret


async def test_accounts_need_a_good_username_role_and_password(access: OfficerAccess) -> None:
    await tahsildar(access)
    with pytest.raises(UsernameTaken):
        await tahsildar(access)
    for username, role, password in [
        ("Tahsildar VJW", "tahsildar", PASSWORD),
        ("tahsildar.two", "collector-ish", PASSWORD),
        ("tahsildar.two", "tahsildar", "password"),
    ]:
        with pytest.raises(ValueError, match=r"username|role|password"):
            await access.create_officer(
                username=username,
                display_name="Tahsildar",
                role=role,
                place="ntr/vijayawada-rural",
                department_id=None,
                password=password,
            )
    assert [row.username for row in await access.officers.list()] == ["tahsildar.vjw"]


async def test_refusals_look_alike_and_the_audit_log_knows_why(access: OfficerAccess) -> None:
    await tahsildar(access)
    await access.officers.disable("tahsildar.vjw")
    await tahsildar(access, "deputy.vjw")
    refusals = [
        await access.sign_in("nobody.here", PASSWORD, "10.0.0.9"),
        await access.sign_in("tahsildar.vjw", PASSWORD, "10.0.0.9"),
        await access.sign_in("deputy.vjw", "Wrong-password-1", "10.0.0.9"),
        await access.sign_in("Krishna-river-2026!", PASSWORD, "10.0.0.9"),  # a password in the wrong box
    ]
    assert refusals == [SignInRefused()] * 4
    failed = [row for row in await access.audit.recent(10) if row.action == "sign_in_failed"]
    reasons = [(row.detail or {}).get("reason") for row in reversed(failed)]
    assert reasons == ["unknown", "disabled", "password", "unknown"]
    assert failed[0].detail == {"reason": "unknown", "username": None}  # the malformed name is not kept
    assert {row.ip for row in failed} == {"10.0.0.9"}


async def test_five_failures_lock_the_account_for_fifteen_minutes(access: OfficerAccess, clock: FixedClock) -> None:
    _, secret = await tahsildar(access)
    for _ in range(5):
        assert isinstance(await access.sign_in("tahsildar.vjw", "Wrong-password-1", None), SignInRefused)
    assert isinstance(await access.sign_in("tahsildar.vjw", PASSWORD, None), SignInRefused)
    assert (await actions(access)).count("locked_out") == 1
    clock.advance(minutes=14, seconds=59)
    assert isinstance(await access.sign_in("tahsildar.vjw", PASSWORD, None), SignInRefused)
    clock.advance(seconds=1)
    await signed_in(access, secret)
    reasons = [(row.detail or {}).get("reason") for row in await access.audit.recent(100)]
    assert reasons.count("locked") == 2


async def test_a_completed_sign_in_starts_the_count_again(access: OfficerAccess, clock: FixedClock) -> None:
    _, secret = await tahsildar(access)
    for _ in range(4):
        await access.sign_in("tahsildar.vjw", "Wrong-password-1", None)
    await signed_in(access, secret)
    clock.advance(seconds=30)  # a fresh code for the next sign-in
    for _ in range(4):
        await access.sign_in("tahsildar.vjw", "Wrong-password-1", None)
    await signed_in(access, secret)
    assert "locked_out" not in await actions(access)


async def test_a_disabled_officer_is_refused_and_signed_out(access: OfficerAccess) -> None:
    _, secret = await tahsildar(access)
    token = await signed_in(access, secret)
    assert await access.disable_officer("tahsildar.vjw")
    assert await access.officer_for(token) is None
    assert isinstance(await access.sign_in("tahsildar.vjw", PASSWORD, None), SignInRefused)
    assert not await access.disable_officer("nobody.here")


# --- the second factor


async def test_wrong_codes_are_refused_and_five_end_the_session(access: OfficerAccess) -> None:
    _, secret = await tahsildar(access)
    result = await access.sign_in("tahsildar.vjw", PASSWORD, None)
    assert isinstance(result, SignIn)
    right = totp_code(secret, access.clock.now())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(4):
        assert not await access.second_factor(result.token, wrong, None)
    assert await access.officer_for(result.token, second_factor=False) is not None
    assert not await access.second_factor(result.token, wrong, None)
    assert await access.officer_for(result.token, second_factor=False) is None
    assert not await access.second_factor(result.token, right, None)  # too late: the session is gone
    assert (await actions(access)).count("totp_failed") == 5
    assert "session_ended" in await actions(access)


async def test_a_code_is_accepted_once(access: OfficerAccess, clock: FixedClock) -> None:
    _, secret = await tahsildar(access)
    code = totp_code(secret, clock.now())
    first = await access.sign_in("tahsildar.vjw", PASSWORD, None)
    second = await access.sign_in("tahsildar.vjw", PASSWORD, None)
    assert isinstance(first, SignIn) and isinstance(second, SignIn)
    assert await access.second_factor(first.token, code, None)
    clock.advance(seconds=25)  # the next step: the old code is still within the window
    assert not await access.second_factor(second.token, code, None)
    assert [r.detail for r in await access.audit.recent(5) if r.action == "totp_failed"] == [{"reason": "reused"}]
    assert await access.second_factor(second.token, totp_code(secret, clock.now()), None)


async def test_codes_a_step_off_are_accepted(access: OfficerAccess, clock: FixedClock) -> None:
    _, secret = await tahsildar(access)
    result = await access.sign_in("tahsildar.vjw", PASSWORD, None)
    assert isinstance(result, SignIn)
    ahead = totp_code(secret, clock.now() + timedelta(seconds=30))  # a phone whose clock runs fast
    assert await access.second_factor(result.token, ahead, None)


# --- sessions


async def test_tokens_are_stored_only_as_their_hash(access: OfficerAccess, engine: AsyncEngine) -> None:
    _, secret = await tahsildar(access)
    token = await signed_in(access, secret)
    async with engine.connect() as connection:
        rows = (await connection.execute(select(officer_sessions))).all()
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {str(value) for value in rows[0]}


async def test_sessions_idle_out_after_thirty_minutes(access: OfficerAccess, clock: FixedClock) -> None:
    _, secret = await tahsildar(access)
    token = await signed_in(access, secret)
    clock.advance(minutes=29)
    assert await access.officer_for(token) is not None  # activity keeps it alive
    clock.advance(minutes=29)
    assert await access.officer_for(token) is not None
    clock.advance(minutes=30, seconds=1)
    assert await access.officer_for(token) is None
    clock.advance(seconds=-1)
    assert await access.officer_for(token) is None  # ended, not merely hidden


async def test_sessions_expire_however_active(engine: AsyncEngine, clock: FixedClock) -> None:
    access = build_officer_access(engine, SEALER, clock)
    access.session_ttl = timedelta(hours=1)
    _, secret = await tahsildar(access)
    token = await signed_in(access, secret)
    for _ in range(2):
        clock.advance(minutes=25)
        assert await access.officer_for(token) is not None
    clock.advance(minutes=10, seconds=1)
    assert await access.officer_for(token) is None


async def test_sessions_end_one_by_one_or_all_together(engine: AsyncEngine, clock: FixedClock) -> None:
    sessions = SqlSessions(engine)
    tokens = [(await sessions.create(7, clock.now(), timedelta(hours=1)))[0] for _ in range(3)]
    await sessions.end(tokens[0])
    assert await sessions.get(tokens[0], clock.now()) is None
    assert await sessions.end_all(7) == 2
    assert [await sessions.get(t, clock.now()) for t in tokens] == [None, None, None]
    assert await sessions.get("x" * 500, clock.now()) is None


async def test_sign_out_ends_the_session(access: OfficerAccess) -> None:
    _, secret = await tahsildar(access)
    token = await signed_in(access, secret)
    await access.sign_out(token, "10.0.0.1")
    assert await access.officer_for(token) is None
    assert (await actions(access))[-1] == "sign_out"


# --- the audit log


async def test_the_audit_log_by_reference_and_newest_first(access: OfficerAccess) -> None:
    officer, _ = await tahsildar(access)
    await access.record(officer, "view", "AP-REV-2026-000001", None, "10.0.0.1")
    await access.record(officer, "approve", "AP-REV-2026-000001", {"note": "verified in the field"}, "10.0.0.1")
    await access.record(officer, "view", "AP-REV-2026-000002", None, "10.0.0.1")
    about = await access.audit.for_reference("AP-REV-2026-000001")
    assert [(r.action, r.detail, r.officer_id) for r in about] == [
        ("view", None, officer.id),
        ("approve", {"note": "verified in the field"}, officer.id),
    ]
    assert [r.reference for r in await access.audit.recent(2)] == ["AP-REV-2026-000002", "AP-REV-2026-000001"]


async def test_a_weaker_hash_is_replaced_at_sign_in(access: OfficerAccess) -> None:
    officer, _ = await tahsildar(access)
    await access.officers.set_password_hash(officer.id, PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD))
    assert isinstance(await access.sign_in("tahsildar.vjw", PASSWORD, None), SignIn)
    row = await access.officers.by_id(officer.id)
    assert row is not None and not needs_rehash(row.password_hash) and verify_password(row.password_hash, PASSWORD)
