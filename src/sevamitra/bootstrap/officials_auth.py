"""Officers signing in, composed: a password, then a TOTP code, then a session; each step audited.

A refusal says the same thing whatever its cause (unknown username, disabled or locked account,
wrong password) and takes as long, so that the sign-in page reveals nothing about accounts. The
audit log keeps the true cause. Wrong passwords and wrong codes both count towards the lock-out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from sevamitra.adapters.jurisdiction_files import load_jurisdictions
from sevamitra.adapters.officer_auth import (
    hash_password,
    needs_rehash,
    new_totp_secret,
    password_problems,
    totp_match,
    totp_uri,
    verify_nothing,
    verify_password,
)
from sevamitra.adapters.sealing import AesGcmSealer
from sevamitra.adapters.sql.engine import create_engine
from sevamitra.adapters.sql.officers import (
    LOCK_OUT,
    MAX_FAILURES,
    AuditRow,
    OfficerRow,
    SessionRow,
    SqlAudit,
    SqlOfficers,
    SqlSessions,
    UsernameTaken,
    username_problem,
)
from sevamitra.bootstrap.clock import SystemClock
from sevamitra.core.jurisdictions import Jurisdictions
from sevamitra.core.officers import Officer
from sevamitra.core.ports import Clock, Sealer
from sevamitra.core.roles import ADMIN_ROLES, ROLES, level_of
from sevamitra.core.workflow import STATE
from sevamitra.settings import Settings

__all__ = [
    "FIRST_FACTOR",
    "LOCKED_OUT",
    "LOCK_OUT",
    "MAX_CODE_FAILURES",
    "MAX_FAILURES",
    "OFFICER_CREATED",
    "OFFICER_DISABLED",
    "REFUSED",
    "SESSION_ENDED",
    "SIGN_IN",
    "SIGN_IN_FAILED",
    "SIGN_OUT",
    "TOTP_FAILED",
    "AuditRow",
    "OfficerAccess",
    "OfficerRow",
    "SessionRow",
    "SignIn",
    "SignInRefused",
    "UsernameTaken",
    "build_officer_access",
    "load_places",
    "officer_access",
    "place_problem",
    "totp_uri",
]

# What the audit log calls each step (the `action` column).
FIRST_FACTOR = "sign_in_first_factor"  # the password was right; the code is still to come
SIGN_IN = "sign_in"  # both factors passed: the session is live
SIGN_IN_FAILED = "sign_in_failed"  # refused; detail.reason: unknown, disabled, locked or password
LOCKED_OUT = "locked_out"  # too many failures in a row; detail.until
TOTP_FAILED = "totp_failed"  # detail.reason: wrong or reused
SESSION_ENDED = "session_ended"  # ended by the platform; detail.reason
SIGN_OUT = "sign_out"
OFFICER_CREATED = "officer_created"
OFFICER_DISABLED = "officer_disabled"

MAX_CODE_FAILURES = 5  # wrong codes that end a session
TOUCH_EVERY = timedelta(minutes=1)  # activity is written at most this often per session
HASHING_AT_ONCE = 4  # argon2id takes 64 MiB and tens of milliseconds each: bound the concurrency
REFUSED = "The username or password is wrong, or this account cannot sign in now."

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class SignIn:
    """The password was right: a session waiting for its second factor."""

    token: str
    csrf: str


@dataclass(frozen=True, slots=True)
class SignInRefused:
    reason: str = REFUSED  # the same for every cause


@dataclass
class OfficerAccess:
    """Sign-in, the second factor, sessions and the audit log, for the dashboard and the CLI."""

    officers: SqlOfficers
    sessions: SqlSessions
    audit: SqlAudit
    clock: Clock
    session_ttl: timedelta = timedelta(hours=12)
    _hashing: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(HASHING_AT_ONCE), repr=False)

    async def sign_in(self, username: str, password: str, ip: str | None) -> SignIn | SignInRefused:
        """Check the password; on success a session that still needs the TOTP code."""
        now = self.clock.now()
        row = await self.officers.by_username(username) if username_problem(username) is None else None
        if row is None or not row.active or row.locked_at(now):
            await self._off_loop(verify_nothing, password)  # as slow as a real check
            reason = "unknown" if row is None else "disabled" if not row.active else "locked"
            # A malformed username is often a password typed in the wrong box: it is not kept.
            detail = {"reason": reason, "username": username if username_problem(username) is None else None}
            await self.audit.record(now, row.id if row else None, SIGN_IN_FAILED, detail=detail, ip=ip)
            return SignInRefused()
        if not await self._off_loop(verify_password, row.password_hash, password):
            await self.audit.record(now, row.id, SIGN_IN_FAILED, detail={"reason": "password"}, ip=ip)
            await self._count_failure(row.id, now, ip)
            return SignInRefused()
        if needs_rehash(row.password_hash):
            await self.officers.set_password_hash(row.id, await self._off_loop(hash_password, password))
        token, csrf = await self.sessions.create(row.id, now, self.session_ttl)
        await self.audit.record(now, row.id, FIRST_FACTOR, ip=ip)
        return SignIn(token=token, csrf=csrf)

    async def second_factor(self, token: str, code: str, ip: str | None) -> bool:
        """Check the TOTP code for a session whose password passed; MAX_CODE_FAILURES wrong codes
        (or a lock-out) end the session. A code is accepted once only."""
        now = self.clock.now()
        session = await self.sessions.get(token, now)
        if session is None:
            return False
        if session.second_factor:
            return True
        row = await self.officers.by_id(session.officer_id)
        if row is None or not row.active or row.locked_at(now):
            await self.sessions.end(token)
            return False
        step = totp_match(await self.officers.totp_secret(row.id), "".join(code.split()), now)
        if step is not None and await self.officers.claim_totp_step(row.id, step, now):
            await self.sessions.second_factor_passed(token)
            await self.sessions.touch(token, now)
            await self.officers.record_success(row.id, now)
            await self.audit.record(now, row.id, SIGN_IN, ip=ip)
            return True
        reason = "wrong" if step is None else "reused"
        await self.audit.record(now, row.id, TOTP_FAILED, detail={"reason": reason}, ip=ip)
        locked = await self._count_failure(row.id, now, ip)
        if locked or await self.audit.count(row.id, TOTP_FAILED, session.created_at) >= MAX_CODE_FAILURES:
            await self.sessions.end(token)
            await self.audit.record(now, row.id, SESSION_ENDED, detail={"reason": "wrong codes"}, ip=ip)
        return False

    async def officer_for(self, token: str, *, second_factor: bool = True) -> tuple[Officer, SessionRow] | None:
        """The signed-in officer and their session; None without a live session (or, by default,
        before its second factor passed), or when the account has been disabled since."""
        now = self.clock.now()
        session = await self.sessions.get(token, now)
        if session is None or (second_factor and not session.second_factor):
            return None
        row = await self.officers.by_id(session.officer_id)
        if row is None or not row.active:
            await self.sessions.end(token)
            return None
        if now - session.last_seen_at >= TOUCH_EVERY:
            await self.sessions.touch(token, now)
        return row.officer(), session

    async def sign_out(self, token: str, ip: str | None = None) -> None:
        session = await self.sessions.get(token, self.clock.now())
        if session is None:
            return
        await self.sessions.end(token)
        await self.audit.record(self.clock.now(), session.officer_id, SIGN_OUT, ip=ip)

    async def record(
        self,
        officer: Officer,
        action: str,
        reference: str | None = None,
        detail: dict[str, Any] | None = None,
        ip: str | None = None,
    ) -> None:
        """Add to the audit log what an officer did (viewed, approved, exported, ...)."""
        await self.audit.record(self.clock.now(), officer.id, action, reference, detail, ip)

    async def create_officer(
        self,
        *,
        username: str,
        display_name: str,
        role: str,
        place: str,
        department_id: str | None,
        password: str,
        by: Officer | None = None,
    ) -> tuple[Officer, str]:
        """A new account and its TOTP secret (to show once, for an authenticator app to scan);
        ValueError when the password, username or role will not do, UsernameTaken when in use."""
        problems = password_problems(password, username=username)
        if problems:
            raise ValueError("the password will not do: " + "; ".join(problems))
        password_hash = await self._off_loop(hash_password, password)
        secret = new_totp_secret()
        now = self.clock.now()
        officer = await self.officers.create(
            username=username,
            display_name=display_name,
            role=role,
            place=place,
            department_id=department_id,
            password_hash=password_hash,
            totp_secret=secret,
            now=now,
        )
        detail = {
            "officer": officer.id,
            "username": username,
            "role": role,
            "place": place,
            "department": department_id,
        }
        await self.audit.record(now, by.id if by else None, OFFICER_CREATED, detail=detail)
        return officer, secret

    async def disable_officer(self, username: str, *, by: Officer | None = None) -> bool:
        """Shut an account and end its sessions; False when there is no such officer."""
        row = await self.officers.by_username(username)
        if row is None or not await self.officers.disable(username):
            return False
        await self.sessions.end_all(row.id)
        await self.audit.record(self.clock.now(), by.id if by else None, OFFICER_DISABLED, detail={"officer": row.id})
        return True

    async def _count_failure(self, officer_id: int, now: datetime, ip: str | None) -> bool:
        """Count a failed password or code; True when it locked the account."""
        locked_until = await self.officers.record_failure(officer_id, now)
        if locked_until is None:
            return False
        await self.audit.record(now, officer_id, LOCKED_OUT, detail={"until": locked_until.isoformat()}, ip=ip)
        return True

    async def _off_loop(self, work: Callable[..., _T], *args: Any) -> _T:
        """Password hashing in a worker thread, a few at a time."""
        async with self._hashing:
            return await asyncio.to_thread(work, *args)


def build_officer_access(engine: AsyncEngine, sealer: Sealer, clock: Clock) -> OfficerAccess:
    return OfficerAccess(
        officers=SqlOfficers(engine, sealer), sessions=SqlSessions(engine), audit=SqlAudit(engine), clock=clock
    )


@asynccontextmanager
async def officer_access(settings: Settings, clock: Clock | None = None) -> AsyncIterator[OfficerAccess]:
    """Officer access on the configured database, for a command that runs and ends (the CLI)."""
    engine = create_engine(settings.database_url)
    try:
        yield build_officer_access(
            engine, AesGcmSealer.from_secret(settings.data_key.get_secret_value()), clock or SystemClock()
        )
    finally:
        await engine.dispose()


def load_places(settings: Settings) -> Jurisdictions:
    """The districts, mandals, urban local bodies, villages and wards officers work at."""
    return load_jurisdictions(settings.catalogue_root / "jurisdictions")


_PLACE_LEVELS = {"secretariat": "village", "mandal": "mandal", "district": "district"}


def place_problem(role: str, place: str, places: Jurisdictions) -> str | None:
    """Why an officer of `role` cannot sit at `place`; None when they can. Each role works at one
    level (core.roles.level_of): a village or ward, a mandal or urban local body, a district, or
    the state, so that a desk's cases reach only the officers of that place."""
    if role not in ROLES | ADMIN_ROLES:
        return f"unknown role {role!r}"
    level = level_of(role)
    if level == "state":
        return None if place == STATE else f"a {role} works for the whole state: use the place {STATE!r}"
    if place == STATE:
        return f"a {role} works at a {_PLACE_LEVELS[level]}, not for the whole state"
    found = places.get(place)
    if found is None:
        return f"unknown place {place!r}"
    if found.level != _PLACE_LEVELS[level]:
        return f"a {role} works at a {_PLACE_LEVELS[level]}, and {place!r} is a {found.level}"
    return None
