"""The log's public files under one directory, laid out as C2SP tlog-tiles serves them.

`<root>/checkpoint`, `<root>/tile/<L>/<N>[.p/<W>]` and `<root>/tile/entries/<N>[.p/<W>]`: any
static web server or object store can serve the directory as it is. Every file is written to a
temporary file in the same directory, flushed to disk and renamed into place, so a reader (or a
crash) never sees half a tile. Tiles are immutable once written, except that a crash between
writing tiles and committing the integration may leave tiles past the published size, which the
next integration writes again.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

from sevamitra.core.checkpoints import parse_checkpoint, parse_note
from sevamitra.core.merkle import HASH_SIZE, entries_path, tile_path
from sevamitra.core.tiles import TileWrite


class LogStorageError(OSError):
    """The log's files could not be written (disk full, read-only storage, permissions)."""


class TileFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, relative: str) -> Path:
        return self.root / relative

    def read_tile(self, level: int, index: int, width: int) -> bytes:
        """`width` hashes of tile `level/index`; a wider tile (or the full one) stands in for a partial one."""
        for path in (self.path(tile_path(level, index, width)), self.path(tile_path(level, index))):
            if path.exists():
                return path.read_bytes()[: width * HASH_SIZE]
        raise FileNotFoundError(f"tile {tile_path(level, index, width)} is missing")

    def read_bundle(self, index: int, width: int) -> bytes:
        exact = self.path(entries_path(index, width))
        if exact.exists():
            return exact.read_bytes()
        raise FileNotFoundError(f"entry bundle {entries_path(index, width)} is missing")

    def write(self, writes: list[TileWrite]) -> None:
        for item in writes:
            relative = (
                entries_path(item.index, item.width)
                if item.level is None
                else tile_path(item.level, item.index, item.width)
            )
            self.write_file(relative, item.data)

    def write_file(self, relative: str, data: bytes) -> None:
        target = self.path(relative)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise LogStorageError(f"cannot write {target}: {error.strerror or error}") from error

    def publish_checkpoint(self, note: bytes) -> bool:
        """Replace the public checkpoint only by a larger one, or the same with more cosignatures.

        Several workers publish; whichever writes last must not take the public checkpoint back to
        an older size, so the comparison and the write happen under a lock on the directory.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".checkpoint.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self.read_checkpoint()
            if current is not None and _rank(current) >= _rank(note):
                return False
            self.write_file("checkpoint", note)
            return True

    def read_checkpoint(self) -> bytes | None:
        path = self.path("checkpoint")
        return path.read_bytes() if path.exists() else None


def _rank(note: bytes) -> tuple[int, int]:
    """(tree size, signatures) of a signed checkpoint; an unreadable one ranks lowest."""
    try:
        parsed = parse_note(note)
        return parse_checkpoint(parsed.text).size, len(parsed.signatures)
    except ValueError:
        return -1, 0
