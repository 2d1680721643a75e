"""Anchoring end to end: the platform's worker anchors its checkpoints in an in-process chain, the
verification page and API say in which block, `/log/anchors` lists them, and an auditor checks them
against the tiles and against the chain."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from playwright.async_api import Browser
from sqlalchemy import select
from web3 import AsyncWeb3
from web3.providers.eth_tester import AsyncEthereumTesterProvider

from sevamitra.adapters.chain.evm import EvmChain
from sevamitra.adapters.qr_scan import qr_texts
from sevamitra.adapters.sql.tables import log_checkpoints
from sevamitra.adapters.tlog.audit import audit
from sevamitra.cli import log as log_cli
from sevamitra.cli.certificates import sample_to_file
from sevamitra.cli.log_audit import check_on_chain
from sevamitra.core.anchors import checkpoint_hash
from sevamitra.core.checkpoints import parse_note
from tests.e2e.conftest import Running, platform_on_port

SERVICE = "revenue.income-certificate"
CHAIN = "Local test chain"


async def confirmed_anchor(running: Running, tester: Any, size: int, timeout: float = 30.0) -> dict[str, Any]:
    """Mine a block at a time until `/log/anchors` lists a confirmed anchor of at least `size` entries."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        listed = (await running.http.get(f"{running.url}/log/anchors")).json()
        found = [a for a in listed["anchors"] if a["state"] == "confirmed" and a["size"] >= size]
        if found:
            return found[0]
        assert asyncio.get_running_loop().time() < deadline, f"no confirmed anchor of {size}: {listed}"
        tester.mine_blocks(1)
        await asyncio.sleep(0.1)


@pytest.mark.browser
async def test_the_worker_anchors_checkpoints_and_the_page_the_list_and_an_audit_show_it(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], browser: Browser
) -> None:
    provider = AsyncEthereumTesterProvider()
    web3 = AsyncWeb3(provider)
    tester = provider.ethereum_tester
    account = Account.create()
    await web3.eth.send_transaction({"from": tester.get_accounts()[0], "to": account.address, "value": 10**18})
    chain = EvmChain(web3, name=CHAIN, private_key=account.key.hex())
    async with platform_on_port(
        database_url,
        tmp_path,
        chain=chain,
        log_interval_seconds=0.2,
        anchor_chain_name=CHAIN,
        anchor_interval_seconds=0.1,
        anchor_confirmations=2,
    ) as running:
        assert running.platform.anchoring is not None
        running.platform.anchoring.poll = 0.05
        before = (await running.http.get(f"{running.url}/log/anchors")).json()
        assert before == {"chain": None, "chain_id": None, "account": None, "anchors": []}
        numbers = []
        for n in range(2):
            path = await sample_to_file(running.platform, SERVICE, n, tmp_path)
            numbers.append((path.stem, qr_texts(path.read_bytes())[0]))
        anchor = await confirmed_anchor(running, tester, 3)  # the key's entry, then two issuances

        listed = (await running.http.get(f"{running.url}/log/anchors")).json()
        chain_id = await web3.eth.chain_id
        assert (listed["chain"], listed["chain_id"], listed["account"]) == (CHAIN, chain_id, chain.account)
        sizes = [a["size"] for a in listed["anchors"]]
        assert sizes == sorted(set(sizes))
        receipt = await web3.eth.get_transaction_receipt(anchor["transaction"])
        assert (receipt["status"], receipt["blockNumber"]) == (1, anchor["block"])

        page = await running.http.get(f"{running.url}/V/{numbers[1][1].rpartition('/V/')[2]}")
        assert f'data-testid="anchor" data-block="{anchor["block"]}"' in page.text
        assert f"Anchored in block {anchor['block']} of {CHAIN}" in page.text
        tab = await browser.new_page()
        await tab.goto(f"{running.url}/V/{numbers[1][1].rpartition('/V/')[2]}")
        shown_line = tab.get_by_test_id("anchor")
        assert await shown_line.is_visible()
        assert await shown_line.get_attribute("data-block") == str(anchor["block"])
        words = await shown_line.inner_text()
        assert f"Anchored in block {anchor['block']} of {CHAIN}" in words
        assert f"{CHAIN} లోని బ్లాక్ {anchor['block']} లో నమోదైంది" in words
        await tab.close()
        checked = await running.http.post(f"{running.url}/api/verify", json={"qr_text": numbers[1][1]})
        assert checked.json()["log"]["anchor"] == {
            "chain": CHAIN,
            "chain_id": chain_id,
            "block": anchor["block"],
            "transaction": anchor["transaction"],
        }

        async with running.platform.cases.engine.connect() as connection:
            of_size = select(log_checkpoints.c.note).where(log_checkpoints.c.size == anchor["size"])
            note = await connection.scalar(of_size)
        assert anchor["checkpoint_sha256"] == checkpoint_hash(parse_note(note).text).hex()  # the signed one of its size
        async with httpx.AsyncClient(timeout=10) as http:
            report = await audit(http, running.url, log_vkey=running.platform.transparency.vkey, state_dir=None)
        assert report.problems == []
        assert report.anchors_matched == len(listed["anchors"]) - report.anchors_ahead >= 1
        reader = EvmChain(web3)
        assert await check_on_chain(report, reader, chain.account) == []
        assert await check_on_chain(report, reader, None) == []  # the account the log names

        capsys.readouterr()
        assert await log_cli.anchors(running.settings, as_json=True) == 0
        rows = json.loads(capsys.readouterr().out)
        shown = next(row for row in rows if row["transaction"] == anchor["transaction"])
        assert (shown["state"], shown["block"], shown["chain"], shown["attempts"]) == (
            "confirmed",
            anchor["block"],
            CHAIN,
            1,
        )
        assert shown["gas_used"] > 21_000
        assert shown["fee_wei"] > 0
        assert await log_cli.anchors(running.settings) == 0
        assert f"{anchor['block']:>10}" in capsys.readouterr().out

        stranger = Account.create().address
        wrong = await check_on_chain(report, reader, stranger)
        assert wrong
        assert all(f"not {stranger}" in problem for problem in wrong)
        forged = dataclasses.replace(report.anchors[0], checkpoint_sha256=bytes(32))
        problems = await check_on_chain(dataclasses.replace(report, anchors=[forged]), reader, chain.account)
        assert problems == [
            f"the anchor of size {forged.size} (transaction {forged.transaction}) does not carry "
            f"anchor({forged.size}, 0x{bytes(32).hex()})"
        ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_without_a_chain_nothing_is_anchored_and_the_list_is_empty(database_url: str, tmp_path: Path) -> None:
    async with platform_on_port(database_url, tmp_path) as running:
        assert running.platform.anchoring is None
        listed = (await running.http.get(f"{running.url}/log/anchors")).json()
        assert listed == {"chain": None, "chain_id": None, "account": None, "anchors": []}
