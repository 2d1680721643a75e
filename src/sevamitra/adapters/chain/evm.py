"""Anchors in an EVM chain through web3.py: signed locally, sent to the account itself as calldata.

The calldata is the ABI call `anchor(uint64 size, bytes32 checkpointHash)` (68 bytes, no contract):
explorers decode it by its signature, and an auditor reads it back with `read_anchor`. Fees follow
EIP-1559 (2 × base fee + priority fee) where the chain has a base fee, else the node's gas price;
a replacement pays at least 12.5 % more than the transaction it replaces, the rule nodes apply.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode, encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import AsyncHTTPProvider, AsyncWeb3
from web3.exceptions import BlockNotFound, TransactionNotFound
from web3.providers.async_base import AsyncBaseProvider

from sevamitra.core.anchors import ChainError, FeesTooHigh, Inclusion, SignedTransaction

SIGNATURE = "anchor(uint64,bytes32)"
SELECTOR = AsyncWeb3.keccak(text=SIGNATURE)[:4]
CALLDATA_SIZE = 4 + 32 + 32
GAS_MARGIN = 1.25  # over the node's estimate
REPLACEMENT = (9, 8)  # a replacement's fees: at least 9/8 of the replaced one's
GWEI = 10**9
TIMEOUT_SECONDS = 20.0


def anchor_calldata(size: int, checkpoint_hash: bytes) -> bytes:
    return SELECTOR + encode(["uint64", "bytes32"], [size, checkpoint_hash])


def parse_calldata(data: bytes) -> tuple[int, bytes] | None:
    """(size, checkpoint hash) from an anchor's calldata; None when it is not one."""
    if len(data) != CALLDATA_SIZE or data[:4] != SELECTOR:
        return None
    size, digest = decode(["uint64", "bytes32"], data[4:])
    return int(size), bytes(digest)


def sender_of(raw: bytes) -> str:
    """The account that signed a transaction."""
    return str(Account.recover_transaction(raw))


@dataclass(frozen=True, slots=True, kw_only=True)
class OnChainAnchor:
    """An anchor's transaction as the chain has it, for auditors."""

    sender: str
    recipient: str | None
    size: int | None  # None when the calldata is not an anchor
    checkpoint_hash: bytes | None
    inclusion: Inclusion | None
    canonical: bool  # the block at that height is the one the receipt names


@asynccontextmanager
async def _rpc(what: str) -> AsyncIterator[None]:
    """Whatever the node or the connection raises, as a ChainError naming what was asked."""
    try:
        yield
    except (TransactionNotFound, BlockNotFound, ChainError):
        raise
    except Exception as error:  # nodes, providers and transports raise many kinds; all mean "not now"
        raise ChainError(f"{what}: {error}") from error


class EvmChain:
    def __init__(
        self,
        web3: AsyncWeb3[Any],
        *,
        name: str = "",
        private_key: str | None = None,
        to: str | None = None,
        max_fee_gwei: float | None = None,
        gas_limit: int | None = None,
    ) -> None:
        self.web3 = web3
        self._name = name
        self._account: LocalAccount | None = Account.from_key(private_key) if private_key else None
        self._to = AsyncWeb3.to_checksum_address(to) if to else None
        self._max_fee = int(max_fee_gwei * GWEI) if max_fee_gwei is not None else None
        self._gas_limit = gas_limit
        self._chain_id: int | None = None

    @classmethod
    def at(cls, url: str, **options: Any) -> EvmChain:
        provider: AsyncBaseProvider = AsyncHTTPProvider(url, request_kwargs={"timeout": TIMEOUT_SECONDS})
        return cls(AsyncWeb3(provider), **options)

    @staticmethod
    def checksum(address: str) -> str:
        """The address in its checksummed form; ValueError when it is not one."""
        return str(AsyncWeb3.to_checksum_address(address))

    @property
    def name(self) -> str:
        return self._name or (f"chain {self._chain_id}" if self._chain_id is not None else "chain")

    @property
    def account(self) -> str:
        if self._account is None:
            raise ChainError("no anchoring key is configured")
        return str(self._account.address)

    async def chain_id(self) -> int:
        if self._chain_id is None:
            async with _rpc("chain id"):
                self._chain_id = int(await self.web3.eth.chain_id)
        return self._chain_id

    async def sign_anchor(
        self, size: int, checkpoint_hash: bytes, *, nonce: int | None, outbid: SignedTransaction | None
    ) -> SignedTransaction:
        account = self._account
        if account is None:
            raise ChainError("no anchoring key is configured")
        to = self._to or account.address
        data = anchor_calldata(size, checkpoint_hash)
        async with _rpc("preparing the anchor's transaction"):
            if nonce is None:
                nonce = int(await self.web3.eth.get_transaction_count(account.address, "pending"))
            gas = self._gas_limit or int(
                await self.web3.eth.estimate_gas({"from": account.address, "to": to, "data": data}) * GAS_MARGIN
            )
            max_fee, priority, dynamic = await self._fees()
        if outbid is not None:
            max_fee = max(max_fee, -(-outbid.max_fee * REPLACEMENT[0] // REPLACEMENT[1]))
            priority = max(priority, -(-outbid.priority_fee * REPLACEMENT[0] // REPLACEMENT[1]))
        if self._max_fee is not None and max_fee > self._max_fee:
            raise FeesTooHigh(
                f"fees of {max_fee / GWEI:.3f} gwei a gas are above the cap of {self._max_fee / GWEI} gwei"
            )
        params: dict[str, Any] = {
            "chainId": await self.chain_id(),
            "nonce": nonce,
            "to": to,
            "value": 0,
            "data": data,
            "gas": gas,
        }
        if dynamic:
            params |= {"type": 2, "maxFeePerGas": max_fee, "maxPriorityFeePerGas": min(priority, max_fee)}
        else:
            params["gasPrice"] = max_fee
        signed = account.sign_transaction(params)
        return SignedTransaction(
            hash=bytes(signed.hash),
            nonce=nonce,
            raw=bytes(signed.raw_transaction),
            max_fee=max_fee,
            priority_fee=priority if dynamic else max_fee,
        )

    async def _fees(self) -> tuple[int, int, bool]:
        """(max fee, priority fee, whether the chain prices gas by EIP-1559)."""
        block = await self.web3.eth.get_block("latest")
        base = block.get("baseFeePerGas")
        if base is None:
            price = int(await self.web3.eth.gas_price)
            return price, price, False
        priority = int(await self.web3.eth.max_priority_fee)
        return 2 * int(base) + priority, priority, True

    async def broadcast(self, raw: bytes) -> None:
        async with _rpc("the node refused the anchor's transaction"):
            await self.web3.eth.send_raw_transaction(raw)

    async def inclusion(self, transaction: bytes) -> Inclusion | None:
        try:
            async with _rpc("reading a receipt"):
                receipt = await self.web3.eth.get_transaction_receipt(HexBytes(transaction))
        except TransactionNotFound:
            return None
        if receipt.get("blockNumber") is None:
            return None
        gas_used = int(receipt["gasUsed"])
        return Inclusion(
            block=int(receipt["blockNumber"]),
            block_hash=bytes(receipt["blockHash"]),
            succeeded=receipt.get("status") == 1,
            gas_used=gas_used,
            fee_paid=gas_used * int(receipt.get("effectiveGasPrice", 0)),
        )

    async def holds(self, transaction: bytes) -> bool:
        try:
            async with _rpc("looking up a transaction"):
                await self.web3.eth.get_transaction(HexBytes(transaction))
        except TransactionNotFound:
            return False
        return True

    async def mined_nonce(self) -> int:
        async with _rpc("reading the account's nonce"):
            address = AsyncWeb3.to_checksum_address(self.account)
            return int(await self.web3.eth.get_transaction_count(address, "latest"))

    async def block_hash(self, number: int) -> bytes | None:
        try:
            async with _rpc("reading a block"):
                block = await self.web3.eth.get_block(number)
        except BlockNotFound:
            return None
        found = block.get("hash")
        return bytes(found) if found is not None else None

    async def height(self) -> int:
        async with _rpc("reading the chain's height"):
            return int(await self.web3.eth.block_number)

    async def aclose(self) -> None:
        await self.web3.provider.disconnect()

    async def read_anchor(self, transaction: bytes) -> OnChainAnchor | None:
        """An anchor's transaction as mined, for an audit; None when the chain does not have it."""
        try:
            async with _rpc("looking up a transaction"):
                found = await self.web3.eth.get_transaction(HexBytes(transaction))
        except TransactionNotFound:
            return None
        parsed = parse_calldata(bytes(found.get("input", b"")))
        mined = await self.inclusion(transaction)
        canonical = mined is not None and await self.block_hash(mined.block) == mined.block_hash
        recipient = found.get("to")
        return OnChainAnchor(
            sender=str(found["from"]),
            recipient=str(recipient) if recipient else None,
            size=parsed[0] if parsed else None,
            checkpoint_hash=parsed[1] if parsed else None,
            inclusion=mined,
            canonical=canonical,
        )
