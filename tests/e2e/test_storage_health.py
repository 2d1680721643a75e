"""The transparency log's storage failing and mending, with nothing lost: `/readyz` fails while the log's
directory takes no writes, the worker logs it and leaves the entries waiting (the integration is not
committed), and once the directory is writable again they are integrated; a checkpoint committed but not
written is written once the storage is back.

Root passes every permission check, so the failures are made as root meets them: a file where the
directory should be, a directory where the checkpoint's lock file should be, and (where mount namespaces
are allowed) a tiny tmpfs filled to the last block and a read-only bind mount.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from sevamitra.adapters.sql.stores import append_log_entry
from sevamitra.adapters.sql.tables import log_pending
from sevamitra.bootstrap import Platform, build
from sevamitra.core import logentries
from sevamitra.core.checkpoints import parse_checkpoint, parse_note
from sevamitra.settings import Settings
from sevamitra.web.app import create_app


@dataclass
class Site:
    platform: Platform
    http: httpx.AsyncClient
    log_dir: Path

    async def ready(self) -> tuple[int, str]:
        answer = await self.http.get("/readyz")
        return answer.status_code, answer.json().get("reason", "")

    async def waiting(self) -> int:
        async with self.platform.cases.engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(log_pending)) or 0)

    def published_size(self) -> int | None:
        path = self.log_dir / "checkpoint"
        return parse_checkpoint(parse_note(path.read_bytes()).text).size if path.exists() else None


@pytest.fixture
async def site(database_url: str, tmp_path: Path) -> AsyncIterator[Site]:
    settings = Settings(
        env="dev",
        database_url=database_url,
        graph_api_url="http://127.0.0.1:9",
        cache_dir=tmp_path / "cache",
        keys_dir=tmp_path / "keys",
        log_dir=tmp_path / "tlog",
        log_interval_seconds=0.01,
    )
    platform = build(settings)
    app = create_app(platform, run_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://platform") as http:
        yield Site(platform=platform, http=http, log_dir=settings.log_dir)
    await platform.aclose()


async def sequence(site: Site, count: int) -> None:
    """Entries waiting for the log, as revocations sequence them."""
    now = site.platform.clock.now()
    async with site.platform.cases.engine.begin() as connection:
        for i in range(count):
            entry = logentries.revocation(number=f"AP-REV-INC-2026-{i:06d}", salt=bytes(16), time=1, cose=b"%d" % i)
            await append_log_entry(connection, entry.encode(), None, now)


async def test_a_log_directory_that_takes_no_writes_fails_readiness_and_loses_no_entry(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    assert await site.ready() == (200, "")
    await sequence(site, 3)
    shutil.rmtree(site.log_dir, ignore_errors=True)
    site.log_dir.write_bytes(b"")  # a file where the directory should be

    assert await site.ready() == (503, "transparency log storage not writable: File exists")
    with caplog.at_level(logging.ERROR, logger="sevamitra"):
        await site.platform.work_once()  # the worker's round goes on; the log's part is not committed
    assert "transparency log storage does not take writes" in caplog.text
    assert await site.waiting() == 3

    site.log_dir.unlink()
    site.log_dir.mkdir()
    assert await site.ready() == (200, "")
    await site.platform.work_once()
    assert await site.waiting() == 0
    assert site.published_size() == 3


async def test_a_checkpoint_committed_but_not_written_is_written_once_the_storage_takes_writes(site: Site) -> None:
    await sequence(site, 2)
    site.log_dir.mkdir(parents=True, exist_ok=True)
    (site.log_dir / ".checkpoint.lock").mkdir()  # the tiles go in; the checkpoint cannot

    await site.platform.work_once()
    assert await site.waiting() == 0  # integrated and committed
    assert site.published_size() is None  # but not published

    (site.log_dir / ".checkpoint.lock").rmdir()
    await site.platform.work_once()  # nothing waits, yet the committed checkpoint goes out
    assert site.published_size() == 2


PROBE_SCRIPT = r"""
import json, subprocess, sys
from pathlib import Path

from sevamitra.adapters.storage import storage_problem
from sevamitra.adapters.tlog.files import LogStorageError, TileFiles

disk = Path(sys.argv[1])
disk.mkdir()
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], check=True)
report = {"empty": storage_problem(disk, "log")}
with open(disk / "filler", "wb", buffering=0) as out:
    try:
        while True:
            out.write(b"\0" * 4096)
    except OSError as error:
        report["filled"] = error.strerror
report["full"] = storage_problem(disk, "log")
try:
    TileFiles(disk).write_file("tile/0/000", b"\1" * 8192)
    report["tile_when_full"] = "written"
except LogStorageError as error:
    report["tile_when_full"] = str(error).rsplit(": ", 1)[-1]
(disk / "filler").unlink()
report["room_again"] = storage_problem(disk, "log")
subprocess.run(["mount", "--bind", str(disk), str(disk)], check=True)
subprocess.run(["mount", "-o", "remount,ro,bind", str(disk)], check=True)
report["read_only"] = storage_problem(disk, "log")
print(json.dumps(report))
"""


def test_a_full_disk_and_a_read_only_mount_fail_the_write_probe_as_root(tmp_path: Path) -> None:
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare(1) for a private tmpfs and bind mount")
    allowed = subprocess.run(  # noqa: S603 (fixed arguments)
        [unshare, "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True, check=False
    )
    if allowed.returncode != 0:
        pytest.skip(f"mount namespaces are not allowed here: {allowed.stderr.decode(errors='replace').strip()}")
    done = subprocess.run(  # noqa: S603 (this Python, fixed arguments)
        [unshare, "-m", sys.executable, "-c", PROBE_SCRIPT, str(tmp_path / "disk")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {
        "empty": None,
        "filled": "No space left on device",
        "full": "log not writable: No space left on device",
        "tile_when_full": "No space left on device",
        "room_again": None,
        "read_only": "log not writable: Read-only file system",
    }
