"""The log auditor and monitor against a tlog-tiles log served from a temp directory over httpx.MockTransport."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from sevamitra.adapters.tlog.audit import AuditError, AuditReport, audit, monitor
from sevamitra.adapters.tlog.notes import (
    CosignatureSigner,
    NoteSigner,
    cosignature_signer_from_seed,
    note_signer_from_seed,
)
from sevamitra.core import logentries
from sevamitra.core.checkpoints import Checkpoint, Note, format_note, parse_note
from sevamitra.core.merkle import TILE_HEIGHT, TILE_WIDTH, MemoryTree, entries_path, leaf_hash, tile_path

ORIGIN = "log.sevamitra.example/certificates"
LOG = note_signer_from_seed(ORIGIN, bytes(range(32)))
IMPOSTOR = note_signer_from_seed(ORIGIN, bytes(range(1, 33)))
WITNESS = cosignature_signer_from_seed("witness.example/w1", bytes(range(64, 96)))
SECOND_WITNESS = cosignature_signer_from_seed("witness.example/w2", bytes(range(96, 128)))
UNKNOWN_WITNESS = cosignature_signer_from_seed("witness.example/w1", bytes(range(128, 160)))
BASE_URL = "https://log.example/"
START_TIME = 1_800_000_000
COSIGNED_AT = 1_800_100_000
WATCHED = "Revenue, Vijayawada Rural"
OTHER_OFFICE = "Revenue, Guntur East"
KEY_ID = bytes.fromhex("0badc0de0badc0de")


def number(n: int) -> str:
    return f"AP-REV-{n:06d}"


def salt(n: int) -> bytes:
    return hashlib.sha256(b"salt %d" % n).digest()[: logentries.SALT_BYTES]


def certificate_hex(n: int) -> str:
    return logentries.certificate_hash(number(n), salt(n)).hex()


def issuance(n: int, *, time: int | None = None, office: str | None = None, variant: bytes = b"") -> bytes:
    """Issuance `n`: a minute after issuance n-1, alternating between the two offices."""
    return logentries.issuance(
        number=number(n),
        salt=salt(n),
        time=START_TIME + 60 * n if time is None else time,
        kind="revenue-certificate",
        service="revenue.income-certificate",
        office=office or (WATCHED if n % 2 else OTHER_OFFICE),
        kid=KEY_ID,
        cose=b"cose %d" % n + variant,
    ).encode()


def issuances(count: int) -> list[bytes]:
    return [issuance(n) for n in range(count)]


def bundle(entries: Sequence[bytes]) -> bytes:
    return b"".join(len(entry).to_bytes(2, "big") + entry for entry in entries)


class ServedLog:
    """A log's files in a directory, served as `B/log/...`; remembers the paths asked for."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.requested: list[str] = []

    def path(self, relative: str) -> Path:
        return self.directory / "log" / relative

    def write(self, relative: str, data: bytes) -> None:
        target = self.path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def publish(
        self,
        entries: Sequence[bytes],
        *,
        signer: NoteSigner = LOG,
        cosigners: Sequence[CosignatureSigner] = (WITNESS,),
        signed_root: bytes | None = None,
    ) -> bytes:
        """Write every tile, bundle and the signed checkpoint of `entries`; returns the tree's root."""
        tree = MemoryTree(leaf_hash(entry) for entry in entries)
        size = len(entries)
        level, count = 0, size
        while count:
            for index in range(-(-count // TILE_WIDTH)):
                width = min(TILE_WIDTH, count - index * TILE_WIDTH)
                hashes = (tree.hash_at(TILE_HEIGHT * level, index * TILE_WIDTH + j) for j in range(width))
                self.write(tile_path(level, index, width), b"".join(hashes))
            level += 1
            count = size >> (TILE_HEIGHT * level)
        for index in range(-(-size // TILE_WIDTH)):
            chunk = entries[index * TILE_WIDTH : (index + 1) * TILE_WIDTH]
            self.write(entries_path(index, len(chunk)), bundle(chunk))
        body = Checkpoint(origin=ORIGIN, size=size, root=signed_root or tree.root()).body()
        signatures = (signer.sign(body), *(cosigner.cosign(body, COSIGNED_AT) for cosigner in cosigners))
        self.write("checkpoint", format_note(Note(text=body, signatures=signatures)))
        return tree.root()

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requested.append(request.url.path)
        target = self.directory / request.url.path.lstrip("/")
        if target.is_file():
            return httpx.Response(200, content=target.read_bytes())
        return httpx.Response(404)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))


@pytest.fixture
def served(tmp_path: Path) -> ServedLog:
    return ServedLog(tmp_path / "site")


async def run_audit(
    served: ServedLog,
    state: Path | None = None,
    *,
    witnesses: Sequence[str] = (WITNESS.vkey,),
    min_witnesses: int = 0,
    max_backdate_seconds: int = 3600,
    keep_entries: bool = True,
) -> AuditReport:
    async with served.client() as http:
        return await audit(
            http,
            BASE_URL,
            log_vkey=LOG.vkey,
            witness_vkeys=witnesses,
            min_witnesses=min_witnesses,
            state_dir=state,
            max_backdate_seconds=max_backdate_seconds,
            keep_entries=keep_entries,
        )


def saved_size(state: Path) -> int:
    [saved] = state.glob("*.json")
    size = json.loads(saved.read_text())["size"]
    assert isinstance(size, int)
    return size


def problems_with(report: AuditReport, text: str) -> list[str]:
    return [problem for problem in report.problems if text in problem]


# A clean log


async def test_a_clean_log_of_600_entries_audits_ok_and_saves_its_checkpoint(served: ServedLog, tmp_path: Path) -> None:
    root = served.publish(issuances(600))
    report = await run_audit(served, tmp_path / "state")
    assert report.problems == []
    assert (report.origin, report.size, report.root, report.witnesses_ok) == (ORIGIN, 600, root, 1)
    assert [index for index, _ in report.entries] == list(range(600))
    assert report.entries[7][1].get("certificate") == certificate_hex(7)
    assert saved_size(tmp_path / "state") == 600
    assert not list((tmp_path / "state").glob(".tmp-*"))


async def test_the_audit_reads_the_tiles_by_their_tlog_tiles_paths(served: ServedLog) -> None:
    served.publish(issuances(600))
    await run_audit(served)
    assert {"/log/checkpoint", "/log/tile/0/000", "/log/tile/0/002.p/88", "/log/tile/entries/002.p/88"} <= set(
        served.requested
    )
    assert "/log/tile/1/000.p/2" in served.requested


async def test_an_empty_log_audits_ok(served: ServedLog) -> None:
    served.publish([])
    report = await run_audit(served)
    assert report.ok and report.size == 0


async def test_a_full_tile_stands_in_for_a_missing_partial_one(served: ServedLog) -> None:
    entries = issuances(800)
    served.publish(entries)
    served.publish(entries[:600])
    served.path("tile/0/002.p/88").unlink()
    served.path("tile/entries/002.p/88").unlink()
    report = await run_audit(served)
    assert report.problems == []
    assert len(report.entries) == 600
    assert "/log/tile/0/002" in served.requested


async def test_a_log_past_one_level_one_tile_checks_its_level_two_tile(served: ServedLog) -> None:
    served.publish([issuance(0)] * (TILE_WIDTH * TILE_WIDTH + 3))
    report = await run_audit(served, keep_entries=False)
    assert report.problems == [] and report.entries == []
    assert "/log/tile/2/000.p/1" in served.requested


# Tampered tiles and entries


async def test_a_changed_byte_in_a_level_zero_tile_is_a_problem(served: ServedLog) -> None:
    served.publish(issuances(600))
    tile = served.path("tile/0/001")
    data = bytearray(tile.read_bytes())
    data[5 * 32] ^= 1
    tile.write_bytes(bytes(data))
    report = await run_audit(served)
    assert problems_with(report, "entry 261: SHA-256(0x00 ‖ entry) is")
    assert problems_with(report, "level-0 tile 1 (log/tile/0/001) holds")
    assert problems_with(report, "level-1 tile 0")
    assert problems_with(report, "the root recomputed from the level-0 tiles")


async def test_a_changed_entry_in_a_bundle_is_a_problem(served: ServedLog) -> None:
    entries = issuances(600)
    served.publish(entries)
    changed = entries[300].replace(b"service revenue.income-", b"service revenue.incomx-")
    assert changed != entries[300]
    entries[300] = changed
    served.write("tile/entries/001", bundle(entries[256:512]))
    report = await run_audit(served)
    assert len(report.problems) == 1
    assert report.problems[0].startswith(f"entry 300: SHA-256(0x00 ‖ entry) is {leaf_hash(changed).hex()}")


async def test_a_truncated_bundle_is_a_problem(served: ServedLog) -> None:
    served.publish(issuances(600))
    bundle_file = served.path("tile/entries/002.p/88")
    bundle_file.write_bytes(bundle_file.read_bytes()[:-10])
    report = await run_audit(served)
    assert problems_with(report, "entry bundle 2 (log/tile/entries/002.p/88) ends inside its entry 87")


async def test_a_missing_tile_is_a_problem(served: ServedLog) -> None:
    served.publish(issuances(600))
    served.path("tile/0/001").unlink()
    report = await run_audit(served)
    assert problems_with(report, "level-0 tile 1 (log/tile/0/001) is missing (HTTP 404)")
    assert problems_with(report, "the root of 600 entries cannot be recomputed")


async def test_a_changed_level_one_tile_is_a_problem(served: ServedLog) -> None:
    served.publish(issuances(600))
    tile = served.path("tile/1/000.p/2")
    tile.write_bytes(tile.read_bytes()[:32] + bytes(32))
    report = await run_audit(served)
    assert len(report.problems) == 1
    assert report.problems[0].startswith(f"level-1 tile 0 (log/tile/1/000.p/2) holds {bytes(32).hex()} at position 1")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param(lambda e: e.replace(b"time ", b"time 0"), "time is not a canonical decimal", id="leading-zero"),
        pytest.param(lambda e: e.replace(b"key 0badc0de", b"key 0BADC0DE"), "key is not 8 bytes", id="upper-case-hex"),
        pytest.param(lambda e: e.replace(b"\nkind", b"\nsort"), "exactly certificate, kind", id="renamed-field"),
        pytest.param(lambda e: e.replace(b"issuance", b"promotion"), "unknown event", id="unknown-event"),
        pytest.param(lambda e: e + b"\n", "not a 'name value' line", id="blank-line"),
    ],
)
async def test_a_malformed_entry_is_a_problem(served: ServedLog, change: Callable[[bytes], bytes], reason: str) -> None:
    entries = issuances(300)
    entries[10] = change(entries[10])
    served.publish(entries)
    report = await run_audit(served)
    assert len(report.problems) == 1
    assert report.problems[0].startswith("entry 10 is malformed") and reason in report.problems[0]
    assert 10 not in [index for index, _ in report.entries]


# Signatures and witnesses


async def test_a_wrong_signed_root_is_a_problem(served: ServedLog, tmp_path: Path) -> None:
    root = served.publish(issuances(600), signed_root=leaf_hash(b"not the root"))
    report = await run_audit(served, tmp_path / "state")
    assert report.problems == [
        f"the root recomputed from the level-0 tiles is {b64(root)}; the checkpoint signs {b64(report.root)}"
    ]
    assert not list((tmp_path / "state").glob("*.json"))


async def test_a_checkpoint_signed_by_another_key_is_a_problem(served: ServedLog) -> None:
    served.publish(issuances(10), signer=IMPOSTOR)
    report = await run_audit(served)
    assert len(report.problems) == 1 and "log signature does not verify" in report.problems[0]
    assert served.requested == ["/log/checkpoint"]


async def test_a_checkpoint_that_is_not_a_signed_note_is_a_problem(served: ServedLog) -> None:
    served.publish(issuances(10))
    served.write("checkpoint", b"not a checkpoint\n")
    report = await run_audit(served)
    assert len(report.problems) == 1 and "not a well-formed signed checkpoint" in report.problems[0]


async def test_fewer_valid_cosignatures_than_required_is_a_problem(served: ServedLog) -> None:
    served.publish(issuances(10))
    both = (WITNESS.vkey, SECOND_WITNESS.vkey)
    report = await run_audit(served, witnesses=both, min_witnesses=2)
    assert report.witnesses_ok == 1
    assert report.problems == ["the checkpoint is cosigned by 1 of the given witnesses, not the 2 required"]
    assert (await run_audit(served, witnesses=both, min_witnesses=1)).ok


async def test_a_cosignature_that_does_not_verify_is_a_problem(served: ServedLog) -> None:
    served.publish(issuances(10))
    note = parse_note(served.path("checkpoint").read_bytes())
    log_line, cosignature = note.signatures
    forged = replace(cosignature, signature=cosignature.signature[:-1] + bytes([cosignature.signature[-1] ^ 1]))
    served.write("checkpoint", format_note(replace(note, signatures=(log_line, forged))))
    report = await run_audit(served)
    assert report.witnesses_ok == 0
    assert report.problems == [
        "the checkpoint's cosignature by witness witness.example/w1 does not verify: "
        "the cosignature by 'witness.example/w1' does not verify"
    ]


async def test_a_cosignature_by_an_unknown_key_counts_for_nothing(served: ServedLog) -> None:
    served.publish(issuances(10), cosigners=(UNKNOWN_WITNESS, SECOND_WITNESS))
    report = await run_audit(served, witnesses=(WITNESS.vkey, SECOND_WITNESS.vkey), min_witnesses=1)
    assert report.ok and report.witnesses_ok == 1


async def test_unusable_keys_stop_the_audit(served: ServedLog) -> None:
    served.publish(issuances(10))
    async with served.client() as http:
        with pytest.raises(AuditError, match="log key is not a verifier key"):
            await audit(http, BASE_URL, log_vkey="nonsense", state_dir=None)
        with pytest.raises(AuditError, match="not a cosignature key"):
            await audit(http, BASE_URL, log_vkey=LOG.vkey, witness_vkeys=[LOG.vkey], state_dir=None)


async def test_an_unreachable_log_stops_the_audit() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        with pytest.raises(AuditError, match="ConnectError"):
            await audit(http, BASE_URL, log_vkey=LOG.vkey, state_dir=None)


async def test_a_server_error_stops_the_audit() -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(503))) as http:
        with pytest.raises(AuditError, match="HTTP 503"):
            await audit(http, BASE_URL, log_vkey=LOG.vkey, state_dir=None)


# History against the saved checkpoint


async def test_a_log_that_grows_moves_the_saved_checkpoint_forward(served: ServedLog, tmp_path: Path) -> None:
    entries = issuances(700)
    served.publish(entries[:600])
    assert (await run_audit(served, tmp_path)).ok
    served.publish(entries)
    assert (await run_audit(served, tmp_path)).ok
    assert saved_size(tmp_path) == 700


async def test_a_log_that_shrinks_is_a_fork(served: ServedLog, tmp_path: Path) -> None:
    served.publish(issuances(600))
    assert (await run_audit(served, tmp_path)).ok
    served.publish(issuances(500))
    report = await run_audit(served, tmp_path)
    assert report.forked
    assert report.problems == ["the log shrank: the saved checkpoint has 600 entries, this one 500"]
    assert saved_size(tmp_path) == 600


async def test_a_log_that_rewrites_history_is_a_fork(served: ServedLog, tmp_path: Path) -> None:
    entries = issuances(700)
    served.publish(entries[:600])
    old_root = (await run_audit(served, tmp_path)).root
    entries[5] = issuance(5, variant=b" rewritten")
    served.publish(entries)
    report = await run_audit(served, tmp_path)
    assert report.forked
    assert report.problems == [
        "the log rewrote history: the first 600 entries now give root "
        f"{problems_root(entries[:600])}, but the saved checkpoint signed {b64(old_root)}"
    ]


async def test_two_checkpoints_of_one_size_with_different_roots_are_a_fork(served: ServedLog, tmp_path: Path) -> None:
    entries = issuances(600)
    served.publish(entries)
    assert (await run_audit(served, tmp_path)).ok
    entries[599] = issuance(599, variant=b" twin")
    served.publish(entries)
    report = await run_audit(served, tmp_path)
    assert report.forked and "two signed checkpoints of 600 entries" in report.problems[0]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def problems_root(entries: Sequence[bytes]) -> str:
    return b64(MemoryTree(leaf_hash(entry) for entry in entries).root())


# Back-dating


async def test_an_issuance_dated_more_than_an_hour_before_an_earlier_entry_is_flagged(served: ServedLog) -> None:
    entries = issuances(600)
    latest_before = START_TIME + 60 * 399
    entries[400] = issuance(400, time=latest_before - 3601)
    entries[450] = issuance(450, time=START_TIME + 60 * 449 - 3600)  # exactly the limit: allowed
    served.publish(entries)
    report = await run_audit(served)
    assert report.problems == [
        f"entry 400 (issuance) is back-dated: its time {latest_before - 3601} is 3601 s "
        f"before the latest earlier entry time {latest_before} (allowed: 3600 s)"
    ]


async def test_the_back_dating_limit_is_a_setting(served: ServedLog) -> None:
    entries = issuances(20)
    entries[10] = issuance(10, time=START_TIME)
    served.publish(entries)
    assert len((await run_audit(served)).problems) == 0
    assert len((await run_audit(served, max_backdate_seconds=60)).problems) == 1


async def test_a_key_rotation_may_carry_an_earlier_time(served: ServedLog) -> None:
    entries = issuances(20)
    rotation = logentries.key_rotation(kid=KEY_ID, public=bytes(32), not_before=START_TIME, time=START_TIME - 86400)
    entries.insert(10, rotation.encode())
    served.publish(entries)
    assert (await run_audit(served)).ok


# The monitor


class Alerts(list[str]):
    def __call__(self, message: str) -> None:
        self.append(message)


async def run_monitor(served: ServedLog, state: Path, expected: set[str], alerts: Alerts, *, once: bool = True) -> bool:
    async with served.client() as http:
        outcome = await monitor(
            http,
            BASE_URL,
            log_vkey=LOG.vkey,
            witness_vkeys=[WITNESS.vkey],
            state_dir=state,
            watch_offices=[WATCHED],
            expected=expected,
            interval=0.01,
            once=once,
            alert=alerts,
        )
    return outcome.forked


async def test_the_monitor_alerts_on_an_unexpected_issuance_for_a_watched_office_only(
    served: ServedLog, tmp_path: Path
) -> None:
    served.publish(issuances(600))
    expected = {certificate_hex(n) for n in range(600) if n not in (7, 8)}  # 7 is watched, 8 is not
    alerts = Alerts()
    assert not await run_monitor(served, tmp_path, expected, alerts)
    assert len(alerts) == 1
    assert "entry 7 issues a certificate the office 'Revenue, Vijayawada Rural' did not expect" in alerts[0]
    assert certificate_hex(7) in alerts[0]


async def test_the_monitor_matches_offices_whatever_their_case_and_spacing(served: ServedLog, tmp_path: Path) -> None:
    served.publish(issuances(4))
    alerts = Alerts()
    async with served.client() as http:
        await monitor(
            http,
            BASE_URL,
            log_vkey=LOG.vkey,
            state_dir=tmp_path,
            watch_offices=["  revenue,   VIJAYAWADA rural "],
            expected={certificate_hex(1).upper()},
            interval=1,
            once=True,
            alert=alerts,
        )
    assert len(alerts) == 1 and "entry 3 " in alerts[0]


@pytest.mark.parametrize("first_size", [512, 600])
async def test_the_monitor_reads_only_the_new_part_of_the_log(
    served: ServedLog, tmp_path: Path, first_size: int
) -> None:
    entries = issuances(700)
    expected = {certificate_hex(n) for n in range(700) if n != 651}
    served.publish(entries[:first_size])
    alerts = Alerts()
    assert not await run_monitor(served, tmp_path, expected, alerts)
    assert alerts == []
    served.publish(entries)
    served.requested.clear()
    assert not await run_monitor(served, tmp_path, expected, alerts)
    assert len(alerts) == 1 and "entry 651 " in alerts[0]
    assert not {"/log/tile/0/000", "/log/tile/0/001", "/log/tile/entries/000"} & set(served.requested)
    assert "/log/tile/0/002.p/188" in served.requested
    served.requested.clear()
    assert not await run_monitor(served, tmp_path, expected, alerts)
    assert served.requested == ["/log/checkpoint"] and len(alerts) == 1


async def test_the_monitor_carries_the_latest_time_across_passes(served: ServedLog, tmp_path: Path) -> None:
    entries = issuances(40)
    served.publish(entries[:30])
    alerts = Alerts()
    await run_monitor(served, tmp_path, set(), Alerts())
    entries[35] = issuance(35, time=START_TIME - 7200)
    served.publish(entries)
    await run_monitor(served, tmp_path, {certificate_hex(n) for n in range(40)}, alerts)
    assert len(alerts) == 1 and "entry 35 (issuance) is back-dated" in alerts[0]


async def test_the_monitor_alerts_on_a_problem_and_reads_those_entries_again(served: ServedLog, tmp_path: Path) -> None:
    entries = issuances(700)
    expected = {certificate_hex(n) for n in range(700)}
    served.publish(entries[:600])
    await run_monitor(served, tmp_path, expected, Alerts())
    served.publish(entries)
    served.path("tile/entries/002.p/188").unlink()
    alerts = Alerts()
    assert not await run_monitor(served, tmp_path, expected, alerts)
    assert alerts and "entry bundle 2 (log/tile/entries/002.p/188) is missing" in alerts[0]
    served.publish(entries)
    served.requested.clear()
    alerts.clear()
    assert not await run_monitor(served, tmp_path, expected, alerts)
    assert alerts == [] and "/log/tile/entries/002.p/188" in served.requested


async def test_the_monitor_raises_a_fork_alert_and_stops(served: ServedLog, tmp_path: Path) -> None:
    entries = issuances(700)
    expected = {certificate_hex(n) for n in range(700)}
    served.publish(entries[:600])
    await run_monitor(served, tmp_path, expected, Alerts())
    entries[5] = issuance(5, variant=b" rewritten")
    served.publish(entries)
    alerts = Alerts()
    forked = await asyncio.wait_for(run_monitor(served, tmp_path, expected, alerts, once=False), timeout=10)
    assert forked
    assert any("rewrote history" in alert for alert in alerts)
    assert alerts[-1].endswith("fork detected; the monitor stops")


async def test_the_monitor_keeps_watching_until_the_log_forks(served: ServedLog, tmp_path: Path) -> None:
    served.publish(issuances(100))
    alerts = Alerts()
    watching = asyncio.ensure_future(run_monitor(served, tmp_path, set(), alerts, once=False))
    await asyncio.sleep(0.2)
    assert not watching.done()
    served.publish(issuances(50))
    assert await asyncio.wait_for(watching, timeout=10)
    assert "the log shrank" in alerts[-2]
