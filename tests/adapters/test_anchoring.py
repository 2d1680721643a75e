"""Anchoring log checkpoints in an EVM chain: an in-process chain (eth-tester on py-evm) through web3.py,
the anchors' rows on SQLite and PostgreSQL. Reorganisations are the chain reverted to a snapshot and
mined past the anchor's block; failed transactions are an account without funds and a recipient that
reverts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from eth_account import Account
from sqlalchemy.ext.asyncio import AsyncEngine
from web3 import AsyncWeb3
from web3.providers.eth_tester import AsyncEthereumTesterProvider

from sevamitra.actions.anchor import AnchorPolicy, anchor_round
from sevamitra.adapters.chain.evm import SELECTOR, EvmChain, anchor_calldata, parse_calldata
from sevamitra.adapters.sql.anchors import SqlAnchors
from sevamitra.adapters.sql.log import SqlLog
from sevamitra.adapters.tlog.files import TileFiles
from sevamitra.bootstrap.clock import SystemClock
from sevamitra.bootstrap.transparency import anchoring
from sevamitra.core.anchors import Anchor, AnchorState, checkpoint_hash
from sevamitra.core.checkpoints import parse_note
from sevamitra.settings import Settings
from tests.adapters.test_log_publish import NOW, entry, publish, sequence

POLICY = AnchorPolicy(interval=timedelta(0), confirmations=3, resend_after=timedelta(0))
REVERTER = bytes.fromhex("6005600c60003960056000f3" + "60006000fd")  # deploys code that always reverts
ETHER = 10**18


@dataclass
class Rig:
    engine: AsyncEngine
    files: TileFiles
    provider: AsyncEthereumTesterProvider
    web3: AsyncWeb3[Any]
    key: str
    chain: EvmChain
    anchors: SqlAnchors
    clock: int = 0

    @property
    def tester(self) -> Any:
        return self.provider.ethereum_tester

    def now(self) -> Any:
        self.clock += 1
        return NOW + timedelta(seconds=self.clock)

    async def log(self, count: int) -> bytes:
        """Append `count` entries and publish; the new checkpoint's body."""
        await sequence(self.engine, [entry(self.clock * 1000 + i) for i in range(count)])
        await publish(self.engine, self.files)
        latest = await SqlLog(self.engine).latest()
        assert latest is not None
        return parse_note(latest.note).text

    async def round(self, chain: EvmChain | None = None, policy: AnchorPolicy = POLICY) -> Anchor | None:
        return await anchor_round(self.anchors, SqlLog(self.engine), chain or self.chain, policy, self.now())

    async def fund(self, address: str, wei: int = ETHER) -> None:
        funded = self.tester.get_accounts()[0]
        await self.web3.eth.send_transaction({"from": funded, "to": address, "value": wei})

    def mine(self, blocks: int) -> None:
        self.tester.mine_blocks(blocks)

    async def anchors_on_chain(self) -> list[tuple[int, bytes]]:
        """Every successful anchor call from the state's account in the canonical chain, in block order."""
        found = []
        for number in range(await self.web3.eth.block_number + 1):
            block = await self.web3.eth.get_block(number, full_transactions=True)
            for listed in block["transactions"]:
                assert not isinstance(listed, bytes)
                tx = await self.web3.eth.get_transaction(listed["hash"])
                parsed = parse_calldata(bytes(tx["input"]))
                receipt = await self.web3.eth.get_transaction_receipt(tx["hash"])
                if tx["from"] == self.chain.account and parsed and receipt["status"] == 1:
                    found.append(parsed)
        return found


@pytest.fixture
async def rig(engine: AsyncEngine, tmp_path: Any) -> Rig:
    provider = AsyncEthereumTesterProvider()
    web3 = AsyncWeb3(provider)
    key = Account.create().key.hex()
    chain = EvmChain(web3, name="Local test chain", private_key=key)
    made = Rig(engine, TileFiles(tmp_path / "tlog"), provider, web3, key, chain, SqlAnchors(engine))
    await made.fund(chain.account)
    return made


async def until(rig: Rig, state: AnchorState, rounds: int = 10) -> Anchor:
    anchor = None
    for _ in range(rounds):
        anchor = await rig.round()
        if anchor is not None and anchor.state is state:
            return anchor
        rig.mine(1)
    raise AssertionError(f"not {state.value} after {rounds} rounds: {anchor}")


def test_the_calldata_is_the_abi_call_anchor_uint64_bytes32() -> None:
    digest = bytes(range(32))
    data = anchor_calldata(70_000, digest)
    assert SELECTOR.hex() == "a6855208"
    assert len(data) == 68
    assert data[4:36] == (70_000).to_bytes(32, "big")
    assert parse_calldata(data) == (70_000, digest)
    assert parse_calldata(data[:-1]) is None
    assert parse_calldata(b"\x00" * 4 + data[4:]) is None


async def test_an_anchor_carries_the_latest_checkpoints_hash_and_is_confirmed_after_its_blocks(rig: Rig) -> None:
    body = await rig.log(5)
    sent = await rig.round()
    assert sent is not None
    assert sent.state is AnchorState.SENDING
    assert (sent.size, sent.checkpoint_hash) == (5, checkpoint_hash(body))
    assert sent.chain_id == await rig.web3.eth.chain_id
    included = await rig.round()
    assert included is not None
    assert included.state is AnchorState.INCLUDED
    assert included.inclusion is not None
    assert included.inclusion.succeeded
    assert included.inclusion.gas_used > 21_000
    rig.mine(1)
    assert (await rig.round()) == included  # two blocks deep: not yet
    rig.mine(1)
    confirmed = await rig.round()
    assert confirmed is not None
    assert confirmed.state is AnchorState.CONFIRMED
    assert confirmed.attempts == 1
    assert await rig.anchors_on_chain() == [(5, checkpoint_hash(body))]
    assert sent.transaction is not None
    read = await rig.chain.read_anchor(sent.transaction.hash)
    assert read is not None
    assert (read.sender, read.recipient) == (rig.chain.account, rig.chain.account)
    assert (read.size, read.checkpoint_hash, read.canonical) == (5, checkpoint_hash(body), True)
    assert await rig.anchors.covering(4) == confirmed
    assert await rig.anchors.covering(5) is None


async def test_no_anchor_is_made_without_a_new_checkpoint_or_before_the_interval(rig: Rig) -> None:
    assert await rig.round() is None  # no checkpoint yet
    await rig.log(2)
    await until(rig, AnchorState.CONFIRMED)
    assert await rig.round() is None  # nothing new
    await rig.log(1)
    hourly = AnchorPolicy(interval=timedelta(hours=1), confirmations=3, resend_after=timedelta(0))
    assert await rig.round(policy=hourly) is None
    rig.clock += 3600
    made = await rig.round(policy=hourly)
    assert made is not None
    assert made.size == 3


async def test_anchors_go_out_one_at_a_time_in_increasing_size(rig: Rig) -> None:
    await rig.log(3)
    first = await rig.round()
    await rig.log(4)  # a newer checkpoint while the first anchor is in flight
    second = await rig.round()
    assert first is not None
    assert second is not None
    assert second.id == first.id  # still the first one, now included
    await until(rig, AnchorState.CONFIRMED)
    later = await until(rig, AnchorState.CONFIRMED)
    assert later.size == 7
    assert [size for size, _ in await rig.anchors_on_chain()] == [3, 7]


async def test_a_reorganisation_sends_the_same_transaction_again_and_loses_nothing(rig: Rig) -> None:
    body = await rig.log(4)
    before = rig.tester.take_snapshot()
    await rig.round()
    included = await rig.round()
    assert included is not None
    assert included.inclusion is not None
    assert included.transaction is not None
    rig.tester.revert_to_snapshot(before)  # the anchor's block is gone ...
    rig.mine(3)  # ... and another chain grew past its height
    back = await rig.round()
    assert back is not None
    assert back.state is AnchorState.SENDING
    assert "reorganisation" in back.error
    again = await until(rig, AnchorState.INCLUDED)
    assert again.transaction == included.transaction  # the same signed transaction, same nonce
    assert again.inclusion is not None
    assert again.inclusion.block_hash != included.inclusion.block_hash
    confirmed = await until(rig, AnchorState.CONFIRMED)
    assert confirmed.error == ""
    assert await rig.anchors_on_chain() == [(4, checkpoint_hash(body))]


async def test_after_a_reorganisation_that_gave_its_nonce_away_the_anchor_is_signed_anew(rig: Rig) -> None:
    body = await rig.log(4)
    before = rig.tester.take_snapshot()
    await rig.round()
    included = await rig.round()
    assert included is not None
    assert included.transaction is not None
    rig.tester.revert_to_snapshot(before)
    account = Account.from_key(rig.key)  # the new chain holds another transaction at the anchor's nonce
    other = account.sign_transaction(
        {
            "chainId": await rig.web3.eth.chain_id,
            "nonce": included.transaction.nonce,
            "to": account.address,
            "value": 1,
            "gas": 21_000,
            "gasPrice": 10 * 10**9,
        }
    )
    await rig.web3.eth.send_raw_transaction(other.raw_transaction)
    rig.mine(3)
    confirmed = await until(rig, AnchorState.CONFIRMED)
    assert confirmed.transaction is not None
    assert confirmed.transaction.nonce == included.transaction.nonce + 1
    assert included.transaction.hash in confirmed.earlier
    assert await rig.anchors_on_chain() == [(4, checkpoint_hash(body))]


async def test_an_account_without_funds_keeps_the_anchor_waiting_until_it_is_funded(rig: Rig) -> None:
    poor = Account.create()
    chain = EvmChain(rig.web3, name="Local test chain", private_key=poor.key.hex(), gas_limit=60_000)
    await rig.log(2)
    refused = await rig.round(chain)
    assert refused is not None
    assert refused.state is AnchorState.SENDING
    assert "refused" in refused.error
    assert refused.transaction is not None  # stored before it was broadcast
    again = await rig.round(chain)
    assert again is not None
    assert again.state is AnchorState.SENDING
    assert again.attempts == 1  # the same transaction, broadcast again
    await rig.fund(poor.address)
    await rig.round(chain)
    included = await rig.round(chain)
    assert included is not None
    assert included.state is AnchorState.INCLUDED
    assert included.transaction == refused.transaction


async def test_a_transaction_mined_as_failed_is_followed_by_a_new_one_at_the_next_nonce(rig: Rig) -> None:
    deployed = await rig.web3.eth.send_transaction(
        {"from": rig.tester.get_accounts()[0], "data": REVERTER, "gas": 100_000}
    )
    reverter = (await rig.web3.eth.get_transaction_receipt(deployed))["contractAddress"]
    failing = EvmChain(rig.web3, name="Local test chain", private_key=rig.key, to=reverter, gas_limit=60_000)
    body = await rig.log(3)
    sent = await rig.round(failing)
    resent = await rig.round(failing)
    assert sent is not None
    assert resent is not None
    assert sent.transaction is not None
    assert resent.transaction is not None
    assert "failed in block" in resent.error
    assert resent.state is AnchorState.SENDING
    assert resent.transaction.nonce == sent.transaction.nonce + 1
    assert resent.earlier == (sent.transaction.hash,)
    confirmed = await until(rig, AnchorState.CONFIRMED)  # the account's own address takes it
    assert confirmed.attempts == 3
    assert confirmed.inclusion is not None
    assert confirmed.inclusion.succeeded
    assert await rig.anchors_on_chain() == [(3, checkpoint_hash(body))]


async def test_a_transaction_left_waiting_is_replaced_with_higher_fees_at_the_same_nonce(rig: Rig) -> None:
    await rig.log(2)
    rig.tester.disable_auto_mine_transactions()
    sent = await rig.round()
    replaced = await rig.round()
    assert sent is not None
    assert replaced is not None
    assert sent.transaction is not None
    assert replaced.transaction is not None
    assert replaced.transaction.nonce == sent.transaction.nonce
    assert replaced.transaction.max_fee * 8 >= sent.transaction.max_fee * 9
    assert replaced.transaction.priority_fee * 8 >= sent.transaction.priority_fee * 9
    rig.tester.enable_auto_mine_transactions()
    rig.mine(1)
    included = await rig.round()
    assert included is not None
    assert included.state is AnchorState.INCLUDED
    assert included.transaction == replaced.transaction


async def test_fees_above_the_cap_keep_the_anchor_waiting_unsent(rig: Rig) -> None:
    capped = EvmChain(rig.web3, name="Local test chain", private_key=rig.key, max_fee_gwei=0.000001)
    await rig.log(2)
    waiting = await rig.round(capped)
    assert waiting is not None
    assert waiting.transaction is None
    assert "above the cap" in waiting.error
    assert (await rig.round()) is not None
    assert (await rig.anchors.open()) is not None


async def test_one_round_at_a_time_holds_the_anchoring_lock(rig: Rig) -> None:
    other = SqlAnchors(rig.engine)
    async with rig.anchors.turn() as mine:
        assert mine
        async with other.turn() as theirs:
            assert theirs is rig.anchors.sqlite  # SQLite runs one process; PostgreSQL refuses the second
        async with rig.anchors.turn() as again:
            assert not again


async def test_settings_with_an_rpc_url_build_anchoring_over_http_and_none_without(engine: AsyncEngine) -> None:
    key = "0x" + "5a" * 32
    log = SqlLog(engine)
    assert anchoring(Settings(), log, SqlAnchors(engine), SystemClock()) is None
    settings = Settings(
        anchor_rpc_url="http://127.0.0.1:8545",
        anchor_private_key=key,
        anchor_interval_seconds=600,
        anchor_confirmations=64,
        anchor_resend_seconds=120,
        anchor_chain_name="Polygon PoS",
    )
    built = anchoring(settings, log, SqlAnchors(engine), SystemClock())
    assert built is not None
    assert built.chain.account == Account.from_key(key).address
    assert built.chain.name == "Polygon PoS"
    assert built.policy == AnchorPolicy(
        interval=timedelta(minutes=10), confirmations=64, resend_after=timedelta(minutes=2)
    )
    await built.chain.aclose()
