"""`sevamitra backup` and `sevamitra restore`: the database, the transparency log's files and the keys
directory in one archive, with a manifest of every table's row count and checksum (docs/operations/backup.md).

Not in the archive: SEVAMITRA_DATA_KEY and the previous data keys (without them the sealed personal data
in the copy cannot be read: keep them apart from the archives), every other secret of the environment
(WhatsApp, payments, the assistant), key files named by settings outside the keys directory, the cache.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sevamitra.settings import Settings

FORMAT = "sevamitra-backup/1"
SQLITE_COPY = "database/sevamitra.sqlite3"
PG_DUMP = "database/postgres.dump"
LOGICAL = "database/tables"
NOT_INCLUDED = (
    "SEVAMITRA_DATA_KEY and SEVAMITRA_DATA_KEYS_PREVIOUS: the sealed personal data needs them; keep them apart",
    "the other secrets of the environment (WhatsApp, payments, assistant, speech)",
    "key and certificate files named by settings outside the keys directory",
    "the cache directory (rebuilt on start)",
)


def add_backup_commands(commands: Any) -> None:
    backup = commands.add_parser("backup", help="the database, the log's files and the keys in one archive")
    backup.add_argument("--out", type=Path, required=True, help="the archive to write (.tar.gz), readable by you alone")
    backup.add_argument("--no-keys", action="store_true", help="leave the keys directory (private keys) out")
    backup.add_argument("--logical", action="store_true", help="PostgreSQL: a logical dump even where pg_dump works")
    restore = commands.add_parser("restore", help="a backup into a new database, checked table by table")
    restore.add_argument("archive", type=Path)
    restore.add_argument("--database-url", default=None, help="the new database (default: SEVAMITRA_DATABASE_URL)")
    restore.add_argument("--force", action="store_true", help="overwrite files already in the log and keys folders")


def run_backup_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "backup":
        return asyncio.run(backup(settings, args.out, keys=not args.no_keys, logical=args.logical))
    return asyncio.run(restore(settings, args.archive, args.database_url or settings.database_url, force=args.force))


async def backup(settings: Settings, out: Path, *, keys: bool = True, logical: bool = False) -> int:
    from sevamitra.adapters.sql.backup import BackupError

    with tempfile.TemporaryDirectory(prefix="sevamitra-backup-") as work:
        root = Path(work)
        try:
            database = await _copy_database(settings.database_url, root, logical=logical)
        except BackupError as error:
            print(f"sevamitra backup: {error}", file=sys.stderr)
            return 1
        files = {"tlog": _copy_folder(settings.log_dir, root / "files" / "tlog")}  # after the database: as new or newer
        if keys:
            files["keys"] = _copy_folder(settings.keys_dir, root / "files" / "keys")
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "database": database,
            "files": files,
            "not_included": [*NOT_INCLUDED, *([] if keys else ["the keys directory (--no-keys)"])],
        }
        (root / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        _write_archive(root, out)
    tables = database["tables"]
    rows = sum(t["rows"] for t in tables.values())
    print(f"{out}: {len(tables)} tables, {rows} rows ({database['method']}), files: {files}")
    if keys and files.get("keys"):
        print("the archive holds private keys: keep it where only operators can read it", file=sys.stderr)
    return 0


async def _copy_database(url: str, root: Path, *, logical: bool) -> dict[str, Any]:
    from sevamitra.adapters.sql import backup as db

    dialect = db.dialect_of(url)
    if dialect == "sqlite":
        digests = await db.sqlite_backup(url, root / SQLITE_COPY)
        method, revision = "sqlite-backup-api", await _revision_of(f"sqlite+aiosqlite:///{root / SQLITE_COPY}")
    else:
        async with db.pg_snapshot(url) as (connection, snapshot):
            problem = "--logical asked for" if logical else await db.pg_tools_problem(connection)
            if problem is None:
                await db.pg_dump(url, snapshot, root / PG_DUMP)
                method = "pg_dump"
            else:
                print(f"sevamitra backup: a logical dump ({problem})", file=sys.stderr)
                await db.logical_dump(connection, root / LOGICAL)
                method = "logical"
            digests = await db.digests(connection)
            revision = await db.revision(connection)
    return {
        "dialect": dialect,
        "method": method,
        "revision": revision,
        "tables": {name: digest.to_dict() for name, digest in sorted(digests.items())},
    }


async def _revision_of(url: str) -> str | None:
    from sevamitra.adapters.sql import backup as db
    from sevamitra.adapters.sql.engine import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await db.revision(connection)
    finally:
        await engine.dispose()


def _copy_folder(source: Path, target: Path) -> int | None:
    """The folder's files copied (None when there is no such folder); returns how many."""
    if not source.is_dir():
        return None
    shutil.copytree(source, target)
    return sum(1 for path in target.rglob("*") if path.is_file())


def _write_archive(root: Path, out: Path) -> None:
    """A gzipped tar, readable by its owner alone (it may hold private keys), in place only once complete."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
        for name in ("manifest.json", "database", "files"):
            if (root / name).exists():
                archive.add(root / name, arcname=name)
    partial.replace(out)


async def restore(settings: Settings, archive: Path, url: str, *, force: bool = False) -> int:
    from sevamitra.adapters.sql import backup as db

    with tempfile.TemporaryDirectory(prefix="sevamitra-restore-") as work:
        root = Path(work)
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(root, filter="data")  # nothing outside the folder, no devices or links out
            manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, tarfile.TarError, ValueError) as error:
            print(f"sevamitra restore: {archive} is not a readable backup ({error})", file=sys.stderr)
            return 1
        problem = _refusal(manifest, url, settings, force=force)
        if problem is not None:
            print(f"sevamitra restore: {problem}", file=sys.stderr)
            return 1
        database = manifest["database"]
        try:
            await _restore_database(root, database, url)
        except db.BackupError as error:
            print(f"sevamitra restore: {error}", file=sys.stderr)
            return 1
        for name, folder in (("tlog", settings.log_dir), ("keys", settings.keys_dir)):
            if (root / "files" / name).is_dir():
                shutil.copytree(root / "files" / name, folder, dirs_exist_ok=True)
    found = await db.database_digests(url)
    return _compare(database["tables"], {name: digest.to_dict() for name, digest in found.items()})


def _refusal(manifest: dict[str, Any], url: str, settings: Settings, *, force: bool) -> str | None:
    from sevamitra.adapters.sql.backup import dialect_of

    if manifest.get("format") != FORMAT:
        return f"not a {FORMAT} archive"
    if manifest["database"]["dialect"] != dialect_of(url):
        return f"a {manifest['database']['dialect']} backup restores into a {manifest['database']['dialect']} database"
    for folder in (settings.log_dir, settings.keys_dir):
        if not force and folder.is_dir() and any(folder.iterdir()):
            return f"{folder} is not empty (--force overwrites its files)"
    return None


async def _restore_database(root: Path, database: dict[str, Any], url: str) -> None:
    from sevamitra.adapters.sql import backup as db
    from sevamitra.adapters.sql.migrate import upgrade

    if database["method"] == "sqlite-backup-api":
        await db.sqlite_restore(root / SQLITE_COPY, url)
    elif database["method"] == "pg_dump":
        await db.pg_restore(root / PG_DUMP, url)
    else:
        if not await db.is_empty(url):
            raise db.BackupError("the target database already holds tables: restore into a new database")
        await asyncio.to_thread(upgrade, url, database["revision"] or "base")  # the dump's schema, then its rows
        await db.logical_restore(root / LOGICAL, url)


def _compare(expected: dict[str, dict[str, Any]], found: dict[str, dict[str, Any]]) -> int:
    """Each table's row count and checksum against the manifest; 0 only when every one matches."""
    wrong = [
        f"{name}: {expected.get(name)} in the backup, {found.get(name)} restored"
        for name in sorted(set(expected) | set(found))
        if expected.get(name) != found.get(name)
    ]
    for line in wrong:
        print(f"sevamitra restore: {line}", file=sys.stderr)
    if wrong:
        return 1
    rows = sum(t["rows"] for t in expected.values())
    print(f"restored {len(expected)} tables, {rows} rows: every row count and checksum matches the backup")
    print("then `sevamitra migrate` brings the schema up to this release")
    return 0
