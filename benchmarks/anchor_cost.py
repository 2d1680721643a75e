"""What an anchor costs on a local chain: gas, fee, and how long it takes, through the real anchoring round.

    .venv/bin/python benchmarks/anchor_cost.py [--anchors 50] [--confirmations 12]

An in-process chain (eth-tester on py-evm, the fork rules it ships: calldata priced with the
EIP-7623 floor) mines each transaction as it arrives. For each anchor, the log grows by a few
entries and publishes a checkpoint; then anchoring rounds run until the anchor is confirmed, one
block mined after each round. Printed: gas used and fee per anchor, the time of the round that signs,
stores and broadcasts (the broadcast includes the local chain mining the block), the time of the
round that sees the receipt, and the whole from the first round to "confirmed" (rounds only; blocks
are mined at once here, whereas a real chain takes `confirmations` × its block time). The baseline,
measured in the same run: a plain transfer of value from the same account, signed and sent the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import AsyncWeb3
from web3.providers.eth_tester import AsyncEthereumTesterProvider

from sevamitra.actions.anchor import AnchorPolicy, anchor_round
from sevamitra.actions.publish import integrate
from sevamitra.adapters.chain.evm import EvmChain
from sevamitra.adapters.sql.anchors import SqlAnchors
from sevamitra.adapters.sql.engine import create_engine
from sevamitra.adapters.sql.log import SqlLog
from sevamitra.adapters.sql.migrate import upgrade
from sevamitra.adapters.sql.stores import append_log_entry
from sevamitra.adapters.tlog.files import TileFiles
from sevamitra.adapters.tlog.notes import note_signer_from_seed
from sevamitra.core import logentries
from sevamitra.core.anchors import AnchorState
from sevamitra.core.checkpoints import Note, format_note

ORIGIN = "bench.sevamitra.test/log"
START = datetime(2026, 12, 1, tzinfo=UTC)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def transfers(web3: AsyncWeb3[Any], account: Any, count: int) -> tuple[list[int], list[float]]:
    """The baseline: plain transfers of 1 wei to the account itself, signed locally and sent raw."""
    gas, seconds = [], []
    chain_id = await web3.eth.chain_id
    for _ in range(count):
        started = time.perf_counter()
        nonce = await web3.eth.get_transaction_count(account.address, "pending")
        block = await web3.eth.get_block("latest")
        priority = await web3.eth.max_priority_fee
        signed = account.sign_transaction(
            {
                "chainId": chain_id,
                "nonce": nonce,
                "to": account.address,
                "value": 1,
                "gas": 21_000,
                "type": 2,
                "maxFeePerGas": 2 * block["baseFeePerGas"] + priority,
                "maxPriorityFeePerGas": priority,
            }
        )
        sent = await web3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = await web3.eth.get_transaction_receipt(sent)
        seconds.append(time.perf_counter() - started)
        gas.append(int(receipt["gasUsed"]))
    return gas, seconds


async def main(count: int, confirmations: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="sevamitra-anchor-bench-"))
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    files = TileFiles(directory / "tlog")
    signer = note_signer_from_seed(ORIGIN, bytes(32))
    log = SqlLog(engine)
    anchors = SqlAnchors(engine)

    provider = AsyncEthereumTesterProvider()
    web3 = AsyncWeb3(provider)
    tester = provider.ethereum_tester
    account = Account.create()
    await web3.eth.send_transaction({"from": tester.get_accounts()[0], "to": account.address, "value": 10**20})
    chain = EvmChain(web3, name="local", private_key=account.key.hex())
    policy = AnchorPolicy(interval=timedelta(0), confirmations=confirmations, resend_after=timedelta(minutes=5))

    def sign(body: bytes) -> bytes:
        return format_note(Note(text=body, signatures=(signer.sign(body),)))

    gas, fees, send_s, receipt_s, confirm_s, rounds = [], [], [], [], [], []
    clock = START
    for n in range(count):
        async with engine.begin() as connection:
            for i in range(7):
                entry = logentries.revocation(number=f"B-{n}-{i}", salt=bytes(16), time=n, cose=b"%d" % i).encode()
                await append_log_entry(connection, entry, None, clock)
        await integrate(log, files, sign, origin=ORIGIN, now=clock, limit=1000)
        started = time.perf_counter()
        clock += timedelta(seconds=1)
        anchor = await anchor_round(anchors, log, chain, policy, clock)
        send_s.append(time.perf_counter() - started)
        if anchor is None or anchor.state is not AnchorState.SENDING:
            raise SystemExit(f"the first round did not send: {anchor}")
        mark = time.perf_counter()
        anchor = await anchor_round(anchors, log, chain, policy, clock)
        receipt_s.append(time.perf_counter() - mark)
        if anchor is None or anchor.state is not AnchorState.INCLUDED:
            raise SystemExit(f"the second round did not see the receipt: {anchor}")
        taken = 2
        while anchor is not None and anchor.state is not AnchorState.CONFIRMED:
            tester.mine_blocks(1)
            anchor = await anchor_round(anchors, log, chain, policy, clock)
            taken += 1
        confirm_s.append(time.perf_counter() - started)
        rounds.append(taken)
        if anchor is None or anchor.inclusion is None:
            raise SystemExit("an anchor was lost")
        gas.append(anchor.inclusion.gas_used)
        fees.append(anchor.inclusion.fee_paid)

    base_gas, base_s = await transfers(web3, account, count)
    await engine.dispose()

    def ms(values: list[float]) -> str:
        return f"median {statistics.median(values) * 1000:7.2f} ms, p95 {percentile(values, 0.95) * 1000:7.2f} ms"

    print(f"anchors: {count}, confirmations: {confirmations}, chain: eth-tester {tester.backend.__class__.__name__}")
    print(f"gas per anchor:        min {min(gas)}, median {statistics.median(gas):.0f}, max {max(gas)}")
    print(f"gas per transfer:      {statistics.median(base_gas):.0f} (baseline)")
    print(f"anchor / transfer gas: {statistics.median(gas) / statistics.median(base_gas):.3f}x")
    fee, price = statistics.median(fees), statistics.median(f / g for f, g in zip(fees, gas, strict=True))
    print(f"fee per anchor:        median {fee / 1e9:.0f} gwei ({fee / 1e18:.9f} coin), {price / 1e9:.3f} gwei a gas")
    print(f"sign + store + send:   {ms(send_s)}")
    print(f"receipt seen:          {ms(receipt_s)}")
    print(f"to confirmed:          {ms(confirm_s)} ({statistics.median(rounds):.0f} rounds)")
    print(f"transfer sign to receipt: {ms(base_s)} (baseline)")
    print(f"anchor send / transfer: {statistics.median(send_s) / statistics.median(base_s):.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anchors", type=int, default=50)
    parser.add_argument("--confirmations", type=int, default=12)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.anchors, arguments.confirmations))
