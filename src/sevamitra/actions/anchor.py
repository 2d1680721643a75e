"""Anchoring the transparency log's checkpoints in a public chain, one anchor at a time.

Each round, under the anchoring lock, moves the oldest unconfirmed anchor one step:
- no transaction yet: sign one, store it, then broadcast it (a crash between the two broadcasts the
  stored one again later);
- sent, not mined: wait `resend_after`, then replace it with higher fees while the node holds it,
  sign a new one when its nonce went to another transaction, or broadcast it again when the node lost it;
- mined as failed: a new transaction at the next nonce;
- included: confirmed once `confirmations` deep; back to sending when a reorganisation took its block.
With none open, a new anchor is made for the latest checkpoint once `interval` has passed since the
last. Anchors are thus made, sent and confirmed in increasing tree size, and none is dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sevamitra.core.anchors import Anchor, AnchorState, ChainError, Inclusion, SignedTransaction, checkpoint_hash
from sevamitra.core.checkpoints import parse_note
from sevamitra.core.ports import AnchorStore, Chain, LogStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnchorPolicy:
    interval: timedelta  # between anchors
    confirmations: int  # blocks, counting the anchor's own, before an anchor is confirmed
    resend_after: timedelta  # how long a transaction may wait unmined before it is replaced


async def anchor_round(
    anchors: AnchorStore, checkpoints: LogStore, chain: Chain, policy: AnchorPolicy, now: datetime
) -> Anchor | None:
    """One step of anchoring; the anchor it moved (or made), None when there was nothing to do."""
    async with anchors.turn() as mine:
        if not mine:
            return None
        anchor = await anchors.open() or await _plan(anchors, checkpoints, chain, policy, now)
        if anchor is None:
            return None
        try:
            return await _advance(anchors, chain, policy, anchor, now)
        except ChainError as error:
            log.warning("anchor of size %d waits: %s", anchor.size, error)
            waiting = replace(await anchors.open() or anchor, error=str(error)[:500])
            await anchors.save(waiting)
            return waiting


async def _plan(
    anchors: AnchorStore, checkpoints: LogStore, chain: Chain, policy: AnchorPolicy, now: datetime
) -> Anchor | None:
    newest = await anchors.newest()
    if newest is not None and now - newest.created_at < policy.interval:
        return None
    latest = await checkpoints.latest()
    if latest is None or (newest is not None and latest.size <= newest.size):
        return None
    body = parse_note(latest.note).text
    return await anchors.add(latest.size, checkpoint_hash(body), await chain.chain_id(), now)


async def _advance(anchors: AnchorStore, chain: Chain, policy: AnchorPolicy, anchor: Anchor, now: datetime) -> Anchor:
    if anchor.state is AnchorState.SENDING:
        if anchor.transaction is None:
            return await _send(anchors, chain, anchor, now)
        mined = await _mined(chain, anchor)
        if mined is None:
            return await _unmined(anchors, chain, policy, anchor, now)
        if not mined.succeeded:
            failed = f"transaction 0x{anchor.transaction.hash.hex()} failed in block {mined.block}"
            log.warning("anchor of size %d: %s; sending a new one", anchor.size, failed)
            return await _send(anchors, chain, replace(anchor, error=failed), now)
        anchor = replace(anchor, state=AnchorState.INCLUDED, inclusion=mined, error="")
        await anchors.save(anchor)
    return await _settle(anchors, chain, policy, anchor, now)


async def _mined(chain: Chain, anchor: Anchor) -> Inclusion | None:
    """The mined transaction carrying the anchor: a successful one of any it tried, else the current one's failure."""
    failed = None
    for transaction in anchor.hashes:
        mined = await chain.inclusion(transaction)
        if mined is not None and mined.succeeded:
            if anchor.transaction is not None and transaction != anchor.transaction.hash:
                log.info("anchor of size %d: an earlier transaction 0x%s was mined", anchor.size, transaction.hex())
            return mined
        if anchor.transaction is not None and transaction == anchor.transaction.hash:
            failed = mined
    return failed


async def _send(anchors: AnchorStore, chain: Chain, anchor: Anchor, now: datetime) -> Anchor:
    """Sign a transaction (the account's next nonce), store it, broadcast it."""
    signed = await chain.sign_anchor(anchor.size, anchor.checkpoint_hash, nonce=None, outbid=None)
    return await _store_and_broadcast(anchors, chain, anchor, signed, now)


async def _store_and_broadcast(
    anchors: AnchorStore, chain: Chain, anchor: Anchor, signed: SignedTransaction, now: datetime
) -> Anchor:
    earlier = anchor.earlier + ((anchor.transaction.hash,) if anchor.transaction else ())
    sent = replace(anchor, transaction=signed, earlier=earlier, sent_at=now, attempts=anchor.attempts + 1)
    await anchors.save(sent)  # before the broadcast: a crash between the two broadcasts it again later
    await chain.broadcast(signed.raw)
    return sent


async def _unmined(anchors: AnchorStore, chain: Chain, policy: AnchorPolicy, anchor: Anchor, now: datetime) -> Anchor:
    assert anchor.transaction is not None
    if anchor.sent_at is not None and now - anchor.sent_at < policy.resend_after:
        return anchor
    current = anchor.transaction
    if await chain.holds(current.hash):  # waiting in the node, fees too low to be mined: outbid it
        signed = await chain.sign_anchor(anchor.size, anchor.checkpoint_hash, nonce=current.nonce, outbid=current)
        log.info("anchor of size %d: replacing 0x%s with higher fees", anchor.size, current.hash.hex())
        return await _store_and_broadcast(anchors, chain, anchor, signed, now)
    if await chain.mined_nonce() > current.nonce:  # its nonce went to another transaction
        log.warning("anchor of size %d: nonce %d was taken; signing anew", anchor.size, current.nonce)
        return await _send(anchors, chain, anchor, now)
    log.info("anchor of size %d: the node lost 0x%s; broadcasting it again", anchor.size, current.hash.hex())
    resent = replace(anchor, sent_at=now)
    await anchors.save(resent)
    await chain.broadcast(current.raw)
    return resent


async def _settle(anchors: AnchorStore, chain: Chain, policy: AnchorPolicy, anchor: Anchor, now: datetime) -> Anchor:
    """An included anchor: confirmed when deep enough, back to sending when its block left the chain."""
    included, transaction = anchor.inclusion, anchor.transaction
    assert included is not None
    assert transaction is not None
    if await chain.block_hash(included.block) != included.block_hash:
        mined = await _mined(chain, anchor)
        if mined is None or not mined.succeeded:
            gone = f"block {included.block} left the chain in a reorganisation"
            log.warning("anchor of size %d: %s; broadcasting its transaction again", anchor.size, gone)
            back = replace(anchor, state=AnchorState.SENDING, inclusion=None, sent_at=now, error=gone)
            await anchors.save(back)
            await chain.broadcast(transaction.raw)
            return back
        included = mined  # mined again in the new chain
        anchor = replace(anchor, inclusion=mined)
        await anchors.save(anchor)
    if await chain.height() - included.block + 1 < policy.confirmations:
        return anchor
    confirmed = replace(anchor, state=AnchorState.CONFIRMED, confirmed_at=now, error="")
    await anchors.save(confirmed)
    log.info("anchor of size %d confirmed in block %d", anchor.size, included.block)
    return confirmed
