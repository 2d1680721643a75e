"""`sevamitra qr sync`: the plan, the message QR code client, and whole syncs against the in-process emulator."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from sevamitra.adapters.catalogue_files import load_catalogue
from sevamitra.adapters.whatsapp.graph import GraphApiError
from sevamitra.adapters.whatsapp.qrcodes import MessageQrCodes
from sevamitra.cli.qr_sync import Create, Delete, Plan, Update, plan, run_sync, sync, wanted_texts
from sevamitra.core.links import marker_in
from sevamitra.emulator import create_emulator
from sevamitra.settings import Settings
from tests.emulator.support import ACCESS_TOKEN, PHONE_NUMBER_ID, fast_config

GRAPH = "http://emulator.test"
FOREIGN = "Show me this week's offers"


@pytest.fixture
def emulator_app() -> Starlette:
    # QR code endpoints send no webhooks, so the emulator makes no client that would need closing.
    return create_emulator(fast_config())


def qr_codes(http: httpx.AsyncClient, token: str = ACCESS_TOKEN) -> MessageQrCodes:
    return MessageQrCodes(http, base_url=GRAPH, version="v23.0", phone_number_id=PHONE_NUMBER_ID, access_token=token)


@pytest.fixture
async def codes(emulator_app: Starlette) -> AsyncIterator[MessageQrCodes]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator_app)) as http:
        yield qr_codes(http)


def settings(token: str = ACCESS_TOKEN) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        graph_api_url=GRAPH,
        whatsapp_access_token=token,  # type: ignore[arg-type]
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
        cache_dir=None,
    )


def sync_args(*, dry_run: bool = False) -> argparse.Namespace:
    return argparse.Namespace(qr_command="sync", dry_run=dry_run, language="en")


# ------------------------------------------------------------ the plan


def test_the_plan_creates_updates_deletes_and_keeps() -> None:
    existing = [("QRINC", "Income certificate #INC"), ("QRCST", "Caste #CST"), ("QROLD", "Gone service #OLD")]
    wanted = {"INC": "Income certificate #INC", "CST": "Caste certificate #CST", "BRT": "Birth certificate #BRT"}

    assert plan(existing, wanted) == Plan(
        creates=(Create("BRT", "Birth certificate #BRT"),),
        updates=(Update("QRCST", "CST", "Caste certificate #CST"),),
        deletes=(Delete("QROLD", "Gone service #OLD"),),
        kept=("QRINC",),
    )


def test_the_plan_leaves_codes_without_a_closing_marker_alone() -> None:
    assert plan([("QRSHOP", FOREIGN)], {}) == Plan()
    assert plan([("QRSALE", "Show me #Diwali deals")], {}) == Plan()  # a hashtag in passing is not our marker


def test_of_duplicates_the_plan_keeps_one_right_copy_else_the_first() -> None:
    right = [("QR1", "Income #INC"), ("QR2", "Income certificate #INC"), ("QR3", "Income certificate #INC")]
    assert plan(right, {"INC": "Income certificate #INC"}) == Plan(
        deletes=(Delete("QR1", "Income #INC"), Delete("QR3", "Income certificate #INC")), kept=("QR2",)
    )
    wrong = [("QR1", "Income #INC"), ("QR2", "Earnings #INC@poster-7")]
    assert plan(wrong, {"INC": "Income certificate #INC"}) == Plan(
        updates=(Update("QR1", "INC", "Income certificate #INC"),), deletes=(Delete("QR2", "Earnings #INC@poster-7"),)
    )


def test_the_plan_reads_a_marker_in_any_case() -> None:
    assert plan([("QR1", "Income certificate #inc")], {"INC": "Income certificate #INC"}).updates == (
        Update("QR1", "INC", "Income certificate #INC"),
    )


def test_every_service_wants_one_text_carrying_its_own_marker() -> None:
    services = load_catalogue(settings().catalogue_root).services
    wanted = wanted_texts(services, "te")
    assert len(wanted) == len(services) > 300
    assert all(getattr(marker_in(text), "code", None) == code for code, text in wanted.items())


# ------------------------------------------------------------ the client


async def test_the_client_creates_lists_every_page_updates_and_deletes(codes: MessageQrCodes) -> None:
    with_image = await codes.create("Income certificate #INC", image_format="SVG")
    assert with_image.qr_image_url and with_image.deep_link_url == f"https://wa.me/message/{with_image.code}"
    made = [with_image, *[await codes.create(f"Service {n} #S{n}") for n in range(29)]]

    listed = await codes.list_all()
    assert [qr.code for qr in listed] == [qr.code for qr in reversed(made)]
    assert listed[-1].qr_image_url is None  # lists carry an image only when asked

    updated = await codes.update(with_image.code, "Income certificate (revised) #INC")
    assert (updated.code, updated.prefilled_message) == (with_image.code, "Income certificate (revised) #INC")
    await codes.delete(with_image.code)
    assert with_image.code not in {qr.code for qr in await codes.list_all()}


async def test_the_client_raises_graph_errors(codes: MessageQrCodes, emulator_app: Starlette) -> None:
    with pytest.raises(GraphApiError) as unknown:
        await codes.delete("ABCDEFGHIJKLMN")
    assert (unknown.value.status, unknown.value.error.code, unknown.value.retryable) == (404, 803, False)
    with pytest.raises(GraphApiError) as too_long:
        await codes.create("x" * 141)
    assert (too_long.value.status, too_long.value.error.code) == (400, 100)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator_app)) as http:
        with pytest.raises(GraphApiError) as bad_token:
            await qr_codes(http, token="wrong").list_all()
    assert (bad_token.value.status, bad_token.value.error.code) == (401, 190)


async def test_network_failures_and_server_errors_are_retryable() -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"error": {"message": "Unexpected", "type": "GraphMethodException", "code": 2}})

    for handler, status in ((unreachable, None), (broken, 500)):
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            with pytest.raises(GraphApiError) as failure:
                await qr_codes(http).create("Income certificate #INC")
        assert (failure.value.status, failure.value.retryable) == (status, True)


# ------------------------------------------------------------ whole syncs


async def test_a_sync_follows_the_catalogue_and_spares_foreign_codes(codes: MessageQrCodes) -> None:
    wanted = wanted_texts(load_catalogue(settings().catalogue_root).services, "en")
    foreign = await codes.create(FOREIGN)

    first = await sync(codes, wanted)
    assert (len(first.creates), first.updates, first.deletes, first.kept) == (len(wanted), (), (), ())
    second = await sync(codes, wanted)
    assert (second.creates, second.updates, second.deletes, len(second.kept)) == ((), (), (), len(wanted))

    renamed, removed = sorted(wanted)[:2]
    changed = {code: text for code, text in wanted.items() if code != removed} | {renamed: f"New name #{renamed}"}
    third = await sync(codes, changed)
    assert [(u.service_code, u.text) for u in third.updates] == [(renamed, f"New name #{renamed}")]
    assert [d.text for d in third.deletes] == [wanted[removed]]
    assert (third.creates, len(third.kept)) == ((), len(wanted) - 2)

    listed = {qr.code: qr.prefilled_message for qr in await codes.list_all()}
    assert listed[foreign.code] == FOREIGN
    assert sorted(listed.values()) == sorted([*changed.values(), FOREIGN])


async def test_of_duplicates_a_sync_keeps_the_oldest(codes: MessageQrCodes) -> None:
    oldest, newer = await codes.create("Income #INC"), await codes.create("Income #INC")
    changes = await sync(codes, {"INC": "Income certificate #INC"})
    assert (changes.updates[0].qr_code, changes.deletes[0].qr_code) == (oldest.code, newer.code)
    assert [(qr.code, qr.prefilled_message) for qr in await codes.list_all()] == [
        (oldest.code, "Income certificate #INC")
    ]


async def test_a_dry_run_changes_nothing(codes: MessageQrCodes) -> None:
    await codes.create("Gone service #GONE")
    planned = await sync(codes, {"INC": "Income certificate #INC"}, dry_run=True)
    assert (len(planned.creates), len(planned.deletes)) == (1, 1)
    assert [qr.prefilled_message for qr in await codes.list_all()] == ["Gone service #GONE"]


def test_the_command_syncs_then_reports_nothing_to_do(
    emulator_app: Starlette, capsys: pytest.CaptureFixture[str]
) -> None:
    transport = httpx.ASGITransport(app=emulator_app)
    services = len(load_catalogue(settings().catalogue_root).services)

    assert run_sync(sync_args(dry_run=True), settings(), transport=transport) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == services + 1 and out[0].startswith("create  #")
    assert out[-1] == f"dry run, nothing changed: would have created {services}, updated 0, deleted 0, kept 0"

    assert run_sync(sync_args(), settings(), transport=transport) == 0
    assert capsys.readouterr().out == f"created {services}, updated 0, deleted 0, kept 0\n"
    assert run_sync(sync_args(), settings(), transport=transport) == 0
    assert capsys.readouterr().out == f"created 0, updated 0, deleted 0, kept {services}\n"


def test_the_command_fails_clearly_on_a_graph_error(
    emulator_app: Starlette, capsys: pytest.CaptureFixture[str]
) -> None:
    transport = httpx.ASGITransport(app=emulator_app)
    assert run_sync(sync_args(), settings(token="wrong"), transport=transport) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Graph API error 190 (401)" in captured.err and "run it again" in captured.err
