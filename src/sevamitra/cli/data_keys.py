"""`sevamitra keys rotate-data`: every value sealed with an earlier data key moved to the current one.

Rotation: set the new key as SEVAMITRA_DATA_KEY and the old one in SEVAMITRA_DATA_KEYS_PREVIOUS,
restart every process (new values are sealed under the new key at once), run this command, then drop
the old key from SEVAMITRA_DATA_KEYS_PREVIOUS. Stopped half-way, it is simply run again.
"""

from __future__ import annotations

import sys

from sevamitra.adapters.sealing import SealError
from sevamitra.adapters.sql.engine import create_engine
from sevamitra.adapters.sql.reseal import Resealed, reseal_all
from sevamitra.bootstrap import data_sealer
from sevamitra.settings import Settings


def _report(found: Resealed) -> None:
    print(
        f"{found.table}.{found.column}: {found.read} read, {found.resealed} resealed, {found.skipped} changed meanwhile"
    )


async def rotate_data(settings: Settings) -> int:
    sealer = data_sealer(settings)
    engine = create_engine(settings.database_url)
    try:
        done = await reseal_all(engine, sealer, progress=_report)
    except SealError as error:
        print(
            f"sevamitra keys rotate-data: {error} (is every earlier key in SEVAMITRA_DATA_KEYS_PREVIOUS?)",
            file=sys.stderr,
        )
        return 1
    finally:
        await engine.dispose()
    if any(found.skipped for found in done):
        print("some values changed while they were resealed: run the command again", file=sys.stderr)
        return 1
    print(f"every sealed value is under data key {sealer.current_key_id}")
    return 0
