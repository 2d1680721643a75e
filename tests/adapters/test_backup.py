"""`sevamitra backup` and `restore`: a populated database (certificates issued through the real action,
the log published to its files) backed up, restored into a fresh database, and compared table by table
(row counts and checksums computed again on both sides) and file by file; on SQLite through the online
backup API, on PostgreSQL through pg_dump and through the logical dump."""

from __future__ import annotations

import json
import tarfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from sevamitra.adapters.sql.backup import database_digests
from sevamitra.adapters.sql.engine import create_engine, normalise_url
from sevamitra.adapters.sql.migrate import head_revisions
from sevamitra.bootstrap import build
from sevamitra.cli.backup import backup, restore
from sevamitra.cli.certificates import issue_sample
from sevamitra.core.ports import NewInboxItem
from sevamitra.settings import Settings
from tests.conftest import POSTGRES_URL

SERVICE = "revenue.income-certificate"


def settings_for(database_url: str, folder: Path) -> Settings:
    return Settings(
        env="dev",
        database_url=database_url,
        log_dir=folder / "tlog",
        keys_dir=folder / "keys",
        cache_dir=folder / "cache",
        assistant=False,
    )


async def populate(settings: Settings) -> None:
    platform = build(settings)
    try:
        await platform.start()
        for n in range(3):
            await issue_sample(platform, SERVICE, n)
        await platform.transparency.publish_all()
        body = {"message": {"from": "919800000303", "id": "wamid.b1", "type": "text", "text": {"body": "hi"}}}
        item = NewInboxItem(key="wamid.b1", kind="message", address="919800000303", fragment=body)
        await platform.inbox.add([item], platform.clock.now())
    finally:
        await platform.aclose()


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database on the test server (pg_restore recreates the schema in it)."""
    if not POSTGRES_URL:
        pytest.skip("SEVAMITRA_TEST_POSTGRES_URL is not set")
    name = f"restore_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL).execution_options(isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(normalise_url(POSTGRES_URL)).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


async def backed_up_and_restored(database_url: str, target: str, tmp_path: Path, *, logical: bool = False) -> Path:
    source = settings_for(database_url, tmp_path / "source")
    await populate(source)
    archive = tmp_path / "backups" / "sevamitra.tar.gz"
    assert await backup(source, archive, logical=logical) == 0
    assert archive.stat().st_mode & 0o077 == 0  # private keys inside: its owner's alone
    assert await restore(settings_for(target, tmp_path / "restored"), archive, target) == 0
    expected, found = await database_digests(database_url), await database_digests(target)
    assert found == expected
    assert found["certificates"].rows == 3 and found["log_entries"].rows >= 4 and found["inbox"].rows == 1
    assert files_of(source.log_dir) == files_of(tmp_path / "restored" / "tlog") != {}
    assert files_of(source.keys_dir) == files_of(tmp_path / "restored" / "keys") != {}
    return archive


async def restores_as_it_was(database_url: str, target: str, tmp_path: Path, method: str) -> None:
    archive = await backed_up_and_restored(database_url, target, tmp_path)
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["database"]["method"] == method and manifest["database"]["revision"] in head_revisions()
    assert any("SEVAMITRA_DATA_KEY" in line for line in manifest["not_included"])
    assert await restore(settings_for(target, tmp_path / "again"), archive, target) == 1  # not a fresh database
    before = await database_digests(target)
    engine = create_engine(target)
    async with engine.begin() as connection:  # one value changed: the checksums see it, in that table only
        await connection.execute(
            text("UPDATE certificates SET status_reason = 'x' WHERE number IN (SELECT min(number) FROM certificates)")
        )
    await engine.dispose()
    after = await database_digests(target)
    assert {name for name in before if before[name] != after[name]} == {"certificates"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_sqlite_backup_restores_into_a_new_file_with_every_table_and_file_as_it_was(
    database_url: str, tmp_path: Path
) -> None:
    target = f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'restored.db'}"
    await restores_as_it_was(database_url, target, tmp_path, "sqlite-backup-api")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_pg_dump_backup_restores_into_a_new_database_with_every_table_and_file_as_it_was(
    database_url: str, tmp_path: Path, fresh_postgres_database: str
) -> None:
    schema = make_url(normalise_url(database_url)).query["search_path"]
    target = f"{fresh_postgres_database}?search_path={schema}"  # pg_restore recreates the schema under its name
    await restores_as_it_was(database_url, target, tmp_path, "pg_dump")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_the_logical_dump_restores_postgresql_as_well(database_url: str, tmp_path: Path) -> None:
    schema = f"r_{uuid.uuid4().hex[:12]}"
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    target = make_url(normalise_url(database_url)).update_query_dict({"search_path": schema})
    try:
        archive = await backed_up_and_restored(
            database_url, target.render_as_string(hide_password=False), tmp_path, logical=True
        )
        with tarfile.open(archive) as tar:
            assert "database/tables/applications.jsonl" in tar.getnames()
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await engine.dispose()
