"""`sevamitra log vkey | proof | publish | anchors`: the transparency log's key, a holder's proof, a
round now, the checkpoints anchored in a public chain."""

from __future__ import annotations

import json
import sys

from sevamitra.bootstrap import build, log_signer
from sevamitra.bootstrap.transparency import chain_label
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


async def anchors(settings: Settings, *, as_json: bool = False) -> int:
    """Every anchor, oldest first: its checkpoint, state, transaction, block, gas and fee, attempts."""
    platform = build(settings)
    try:
        listed = await platform.transparency.anchors.listed()
    finally:
        await platform.aclose()
    rows = [
        {
            "size": a.size,
            "checkpoint_sha256": a.checkpoint_hash.hex(),
            "state": a.state.value,
            "chain": chain_label(settings.anchor_chain_name, a.chain_id),
            "transaction": "0x" + a.transaction.hash.hex() if a.transaction else None,
            "nonce": a.transaction.nonce if a.transaction else None,
            "block": a.inclusion.block if a.inclusion else None,
            "gas_used": a.inclusion.gas_used if a.inclusion else None,
            "fee_wei": a.inclusion.fee_paid if a.inclusion else None,
            "attempts": a.attempts,
            "made_at": a.created_at.isoformat(),
            "confirmed_at": a.confirmed_at.isoformat() if a.confirmed_at else None,
            "error": a.error,
        }
        for a in listed
    ]
    if as_json:
        print(json.dumps(rows, indent=1))
        return 0
    if not rows:
        print("no anchors" + ("" if settings.anchor_rpc_url else " (anchoring is off: SEVAMITRA_ANCHOR_RPC_URL)"))
        return 0
    print(f"{'size':>10}  {'state':<9}  {'block':>10}  {'gas':>7}  {'fee (gwei)':>12}  tries  transaction")
    for a in listed:
        block = str(a.inclusion.block) if a.inclusion else "-"
        gas = str(a.inclusion.gas_used) if a.inclusion else "-"
        fee = f"{a.inclusion.fee_paid / 1e9:.3f}" if a.inclusion else "-"
        sent = "0x" + a.transaction.hash.hex() if a.transaction else "-"
        print(f"{a.size:>10}  {a.state.value:<9}  {block:>10}  {gas:>7}  {fee:>12}  {a.attempts:>5}  {sent}")
        if a.error:
            print(f"{'':>10}  last problem: {a.error}")
    return 0
