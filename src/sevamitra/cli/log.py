"""`sevamitra log vkey | proof | publish`: the transparency log's key, a holder's proof, a round now."""

from __future__ import annotations

import sys

from sevamitra.bootstrap import build, log_signer
from sevamitra.settings import Settings


def vkey(settings: Settings) -> int:
    """Print the log's verifier key: `<origin>+<hex key id>+<base64(0x01 ‖ public key)>`."""
    print(log_signer(settings).vkey)
    return 0


async def proof(settings: Settings, number: str) -> int:
    """Print a C2SP tlog-proof of the certificate's issuance entry (integrating what waits first)."""
    platform = build(settings)
    try:
        await platform.transparency.publish_all()
        bundle = await platform.transparency.proof(number)
    finally:
        await platform.aclose()
    if bundle is None:
        print(f"sevamitra: no logged certificate {number}", file=sys.stderr)
        return 1
    sys.stdout.write(bundle.decode())
    return 0


async def publish(settings: Settings) -> int:
    """Integrate every waiting entry now and print the new checkpoint."""
    platform = build(settings)
    try:
        count = await platform.transparency.publish_all()
        latest = await platform.transparency.store.latest()
    finally:
        await platform.aclose()
    print(f"integrated {count} entries")
    if latest is not None:
        sys.stdout.write(latest.note.decode())
    return 0
