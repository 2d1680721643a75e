"""Whether a directory takes writes now: a real write, flushed to disk and removed. Permission bits say
little (root passes them, a read-only mount or a full disk do not show in them), so only a write tells."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

PROBE_BYTES = 8192  # one full tile of the transparency log: a disk with less room left cannot take one


def storage_problem(directory: Path, what: str) -> str | None:
    """Why `directory` cannot take a file now, in words safe to show anyone (no path); None when it can."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=directory, prefix=".probe-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(b"\0" * PROBE_BYTES)
                out.flush()
                os.fsync(out.fileno())
        finally:
            Path(name).unlink(missing_ok=True)
    except OSError as error:
        log.warning("%s at %s does not take writes: %s", what, directory, error)
        return f"{what} not writable: {error.strerror or type(error).__name__}"
    return None
