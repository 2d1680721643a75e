"""Officers' accounts, their sign-in sessions and the audit log, on SQLAlchemy Core.

Storage only: the password hash and the TOTP secret come in made (by the credentials adapter,
through the bootstrap); the TOTP secret is sealed at rest; a session's token is stored only as
its SHA-256, so a copy of the table signs nobody in.
"""

from __future__ import annotations

import builtins
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from sevamitra.adapters.sql.tables import audit_log, officer_sessions, officers
from sevamitra.core.officers import Officer
from sevamitra.core.ports import Sealer
from sevamitra.core.roles import ADMIN_ROLES, ROLES

USERNAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
MAX_USERNAME = 64
MAX_FAILURES = 5  # consecutive failed sign-ins before the account locks
LOCK_OUT = timedelta(minutes=15)
IDLE_TIMEOUT = timedelta(minutes=30)
MAX_TOKEN = 128  # longer cookies are not ours: refused before hashing

# Only the columns this module reads, so that columns added later need no change here.
_OFFICER_COLUMNS = (
    officers.c.id,
    officers.c.username,
    officers.c.display_name,
    officers.c.role,
    officers.c.place,
    officers.c.department_id,
    officers.c.password_hash,
    officers.c.active,
    officers.c.failed_logins,
    officers.c.locked_until,
    officers.c.created_at,
    officers.c.last_login_at,
)


class UsernameTaken(ValueError):
    """Another officer already has this username."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OfficerRow:
    """An officer's account as stored: the domain's Officer plus what signing in needs."""

    id: int
    username: str
    display_name: str
    role: str
    place: str
    department_id: str | None
    password_hash: str
    active: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    last_login_at: datetime | None

    def locked_at(self, now: datetime) -> bool:
        """Whether too many failed sign-ins keep the account shut at `now`."""
        return self.locked_until is not None and self.locked_until > now

    def officer(self) -> Officer:
        return Officer(
            id=self.id,
            username=self.username,
            display_name=self.display_name,
            role=self.role,
            place=self.place,
            department_id=self.department_id,
            active=self.active,
        )


def _officer_row(row: Any) -> OfficerRow:
    return OfficerRow(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        place=row.place,
        department_id=row.department_id,
        password_hash=row.password_hash,
        active=bool(row.active),
        failed_logins=row.failed_logins,
        locked_until=row.locked_until,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


def username_problem(username: str) -> str | None:
    """Why `username` cannot be one; None when it is a lowercase slug (letters, digits, `.`, `_`, `-`)."""
    if len(username) > MAX_USERNAME:
        return f"a username has at most {MAX_USERNAME} characters"
    if not USERNAME.fullmatch(username):
        return "a username is lowercase letters and digits, joined by single '.', '_' or '-'"
    return None


class SqlOfficers:
    """Officers' accounts: made by an administrator, never deleted (the audit log names them)."""

    def __init__(self, engine: AsyncEngine, sealer: Sealer) -> None:
        self.engine = engine
        self.sealer = sealer

    async def create(
        self,
        *,
        username: str,
        display_name: str,
        role: str,
        place: str,
        department_id: str | None,
        password_hash: str,
        totp_secret: str,
        now: datetime,
    ) -> Officer:
        """Store a new account, its TOTP secret sealed; ValueError for a bad username or role,
        UsernameTaken when the username is in use."""
        problem = username_problem(username)
        if problem is not None:
            raise ValueError(problem)
        if role not in ROLES | ADMIN_ROLES:
            raise ValueError(f"unknown role {role!r}")
        if not display_name.strip():
            raise ValueError("an officer needs a name")
        values = {
            "username": username,
            "display_name": display_name.strip(),
            "role": role,
            "place": place,
            "department_id": department_id,
            "password_hash": password_hash,
            "totp_secret": self.sealer.seal(totp_secret.encode()),
            "active": True,
            "failed_logins": 0,
            "created_at": now,
        }
        try:
            async with self.engine.begin() as connection:
                result = await connection.execute(insert(officers).values(values).returning(officers.c.id))
                officer_id = int(result.scalar_one())
        except IntegrityError as error:
            raise UsernameTaken(f"the username {username!r} is taken") from error
        found = await self.by_id(officer_id)
        assert found is not None  # just inserted
        return found.officer()

    async def by_username(self, username: str) -> OfficerRow | None:
        return await self._one(officers.c.username == username)

    async def by_id(self, officer_id: int) -> OfficerRow | None:
        return await self._one(officers.c.id == officer_id)

    async def _one(self, where: Any) -> OfficerRow | None:
        async with self.engine.connect() as connection:
            row = (await connection.execute(select(*_OFFICER_COLUMNS).where(where))).first()
        return _officer_row(row) if row is not None else None

    async def disable(self, username: str) -> bool:
        """Shut the account for good; False when there is no such officer."""
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(officers).where(officers.c.username == username).values(active=False)
            )
        return result.rowcount > 0

    async def list(self) -> builtins.list[OfficerRow]:
        """Every account, by username."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(*_OFFICER_COLUMNS).order_by(officers.c.username))
        return [_officer_row(r) for r in rows]

    async def record_failure(self, officer_id: int, now: datetime) -> datetime | None:
        """Count a failed sign-in; at the MAX_FAILURES-th in a row, lock the account for LOCK_OUT
        and return until when (the count starts again after it)."""
        async with self.engine.begin() as connection:
            failures = (
                await connection.execute(
                    update(officers)
                    .where(officers.c.id == officer_id)
                    .values(failed_logins=officers.c.failed_logins + 1)
                    .returning(officers.c.failed_logins)
                )
            ).scalar_one_or_none()
            if failures is None or failures < MAX_FAILURES:
                return None
            locked_until = now + LOCK_OUT
            await connection.execute(
                update(officers).where(officers.c.id == officer_id).values(failed_logins=0, locked_until=locked_until)
            )
        return locked_until

    async def record_success(self, officer_id: int, now: datetime) -> None:
        """A completed sign-in: the count of failures starts again and any lock lifts."""
        async with self.engine.begin() as connection:
            await connection.execute(
                update(officers).where(officers.c.id == officer_id).values(failed_logins=0, locked_until=None)
            )

    async def claim_totp_step(self, officer_id: int, step_start: datetime, now: datetime) -> bool:
        """Record a sign-in completed with the TOTP code of the step starting at `step_start`;
        False when that step's code (or a later one) was used already (RFC 6238 §5.2: each code once).

        `last_login_at` becomes the later of `now` and `step_start` (at most one step ahead when
        the phone's clock runs fast), so one conditional update both checks and records the use.
        """
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(officers)
                .where(
                    officers.c.id == officer_id,
                    or_(officers.c.last_login_at.is_(None), officers.c.last_login_at < step_start),
                )
                .values(last_login_at=max(now, step_start))
            )
        return result.rowcount > 0

    async def set_password_hash(self, officer_id: int, password_hash: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                update(officers).where(officers.c.id == officer_id).values(password_hash=password_hash)
            )

    async def totp_secret(self, officer_id: int) -> str:
        """The officer's TOTP secret, unsealed; KeyError when there is no such officer."""
        async with self.engine.connect() as connection:
            sealed = (
                await connection.execute(select(officers.c.totp_secret).where(officers.c.id == officer_id))
            ).scalar_one_or_none()
        if sealed is None:
            raise KeyError(officer_id)
        return self.sealer.open(sealed).decode()


# ---------------------------------------------------------------- sessions


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRow:
    """A signed-in browser: whose, its CSRF token, and whether the second factor passed."""

    officer_id: int
    csrf: str
    second_factor: bool
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime


def token_hash(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


class SqlSessions:
    """Sessions that end at a fixed time, or after IDLE_TIMEOUT without a request, or when ended."""

    def __init__(self, engine: AsyncEngine, *, idle_timeout: timedelta = IDLE_TIMEOUT) -> None:
        self.engine = engine
        self.idle_timeout = idle_timeout

    async def create(self, officer_id: int, now: datetime, ttl: timedelta) -> tuple[str, str]:
        """A new session without its second factor: the cookie's token and the CSRF token."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        async with self.engine.begin() as connection:
            await connection.execute(
                insert(officer_sessions).values(
                    token_hash=token_hash(token),
                    officer_id=officer_id,
                    csrf=csrf,
                    second_factor=False,
                    created_at=now,
                    expires_at=now + ttl,
                    last_seen_at=now,
                )
            )
        return token, csrf

    async def get(self, token: str, now: datetime) -> SessionRow | None:
        """The live session of `token`; None for an unknown, expired or idle one (which is ended)."""
        if not token or len(token) > MAX_TOKEN:
            return None
        key = token_hash(token)
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(select(officer_sessions).where(officer_sessions.c.token_hash == key))
            ).first()
        if row is None:
            return None
        if row.expires_at <= now or now - row.last_seen_at > self.idle_timeout:
            await self._delete(officer_sessions.c.token_hash == key)
            return None
        return SessionRow(
            officer_id=row.officer_id,
            csrf=row.csrf,
            second_factor=bool(row.second_factor),
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_seen_at=row.last_seen_at,
        )

    async def second_factor_passed(self, token: str) -> None:
        await self._update(token, second_factor=True)

    async def touch(self, token: str, now: datetime) -> None:
        """Note activity, which keeps the session from idling out."""
        await self._update(token, last_seen_at=now)

    async def end(self, token: str) -> None:
        await self._delete(officer_sessions.c.token_hash == token_hash(token))

    async def end_all(self, officer_id: int) -> int:
        """End every session of an officer; how many there were."""
        return await self._delete(officer_sessions.c.officer_id == officer_id)

    async def purge(self, now: datetime) -> int:
        """Delete expired and idle sessions; how many."""
        return await self._delete(
            or_(officer_sessions.c.expires_at <= now, officer_sessions.c.last_seen_at < now - self.idle_timeout)
        )

    async def _update(self, token: str, **values: Any) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                update(officer_sessions).where(officer_sessions.c.token_hash == token_hash(token)).values(**values)
            )

    async def _delete(self, where: Any) -> int:
        async with self.engine.begin() as connection:
            result = await connection.execute(delete(officer_sessions).where(where))
        return result.rowcount


# ---------------------------------------------------------------- the audit log


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRow:
    id: int
    at: datetime
    officer_id: int | None
    action: str
    reference: str | None
    detail: dict[str, Any] | None
    ip: str | None


def _audit_row(row: Any) -> AuditRow:
    return AuditRow(
        id=row.id,
        at=row.at,
        officer_id=row.officer_id,
        action=row.action,
        reference=row.reference,
        detail=row.detail,
        ip=row.ip,
    )


async def write_audit(
    connection: AsyncConnection,
    *,
    at: datetime,
    officer_id: int | None,
    action: str,
    reference: str | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    """Append one audit row in the caller's transaction (so that a decision and its record commit together)."""
    await connection.execute(
        insert(audit_log).values(at=at, officer_id=officer_id, action=action, reference=reference, detail=detail, ip=ip)
    )


class SqlAudit:
    """Who did what, when, from where: written, read, never changed (PostgreSQL refuses to)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def record(
        self,
        at: datetime,
        officer_id: int | None,
        action: str,
        reference: str | None = None,
        detail: dict[str, Any] | None = None,
        ip: str | None = None,
    ) -> None:
        async with self.engine.begin() as connection:
            await write_audit(
                connection, at=at, officer_id=officer_id, action=action, reference=reference, detail=detail, ip=ip
            )

    async def for_reference(self, reference: str) -> builtins.list[AuditRow]:
        """Everything recorded about one application, oldest first."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(audit_log).where(audit_log.c.reference == reference).order_by(audit_log.c.id)
            )
        return [_audit_row(r) for r in rows]

    async def recent(self, limit: int = 100) -> builtins.list[AuditRow]:
        """The latest rows, newest first."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit))
        return [_audit_row(r) for r in rows]

    async def count(self, officer_id: int, action: str, since: datetime) -> int:
        """How many times `action` was recorded for the officer at or after `since`."""
        async with self.engine.connect() as connection:
            found = await connection.execute(
                select(func.count())
                .select_from(audit_log)
                .where(
                    and_(audit_log.c.officer_id == officer_id, audit_log.c.action == action, audit_log.c.at >= since)
                )
            )
        return int(found.scalar_one())
