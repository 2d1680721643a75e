"""Personal data at rest: envelope encryption (a data key per value, wrapped by the master key from
settings) and `sevamitra keys rotate-data`, which moves every sealed column to the newest master key."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import insert, select

from sevamitra.adapters.sealing import AesGcmSealer, SealError, key_from_secret, key_id_of
from sevamitra.adapters.sql.engine import create_engine
from sevamitra.adapters.sql.reseal import SEALED
from sevamitra.adapters.sql.stores import insert_application
from sevamitra.adapters.sql.tables import conversations
from sevamitra.bootstrap import build, data_sealer
from sevamitra.cli.data_keys import rotate_data
from sevamitra.core.messages import Recipient
from sevamitra.settings import Settings
from sevamitra.testing.applications import submitted

OLD, NEW = "old-data-key-for-tests", "new-data-key-for-tests"
PASSWORD = "Godavari-delta-2026"


def legacy(secret: str, plain: bytes) -> str:
    """A value sealed as before envelopes: the master key encrypting it directly (`<key id>:<base64>`)."""
    key, nonce = key_from_secret(secret), os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plain, key_id_of(key).encode())
    return f"{key_id_of(key)}:{base64.b64encode(nonce + sealed).decode()}"


def test_each_value_gets_its_own_data_key_wrapped_by_the_master_key() -> None:
    sealer = AesGcmSealer.from_secret(OLD)
    first, second = sealer.seal(b"aadhaar 234567890124"), sealer.seal(b"aadhaar 234567890124")
    assert first != second and first.split(":")[2] != second.split(":")[2]  # two data keys
    version, key_id, _, _ = first.split(":")
    assert (version, key_id) == ("v2", sealer.current_key_id)
    assert sealer.open(first) == sealer.open(second) == b"aadhaar 234567890124"
    assert b"234567890124" not in first.encode()


def test_tampering_and_unknown_keys_are_refused() -> None:
    sealer = AesGcmSealer.from_secret(OLD)
    sealed = sealer.seal(b"secret")
    version, key_id, wrapped, payload = sealed.split(":")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    with pytest.raises(SealError):
        sealer.open(":".join((version, key_id, wrapped, flipped)))
    other = AesGcmSealer.from_secret(NEW).seal(b"secret")
    with pytest.raises(SealError):
        sealer.open(":".join((version, key_id, other.split(":")[2], payload)))  # another master key's data key
    with pytest.raises(SealError, match="no key"):
        sealer.open(other)


def test_rotation_rewraps_the_data_key_and_leaves_the_ciphertext_as_it_is() -> None:
    old = AesGcmSealer.from_secret(OLD)
    both = AesGcmSealer.from_secrets(NEW, [OLD])
    sealed = old.seal(b"draft")
    assert both.open(sealed) == b"draft" and not both.is_current(sealed)
    moved = both.reseal(sealed)
    assert both.is_current(moved) and moved.split(":")[3] == sealed.split(":")[3]
    assert AesGcmSealer.from_secret(NEW).open(moved) == b"draft"
    assert both.reseal(moved) == moved
    old_style = legacy(OLD, b"form")
    assert old.open(old_style) == b"form" and AesGcmSealer.from_secret(NEW).open(both.reseal(old_style)) == b"form"


def settings_with(database_url: str, tmp_path: Path, key: str, previous: list[str]) -> Settings:
    return Settings(
        env="dev",
        database_url=database_url,
        data_key=key,
        data_keys_previous=previous,
        keys_dir=tmp_path / "keys",
        log_dir=tmp_path / "tlog",
        cache_dir=tmp_path / "cache",
        assistant=False,
    )


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
async def test_rotate_data_moves_every_sealed_column_to_the_new_key(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = settings_with(database_url, tmp_path, OLD, [])
    platform = build(before)
    try:
        await platform.start()  # the first signing key, its private half sealed
        await platform.access.create_officer(
            username="tahsildar.vjw",
            display_name="Tahsildar",
            role="tahsildar",
            place="ntr/vijayawada-rural",
            department_id=None,
            password=PASSWORD,
        )
        service = platform.context.catalogue.service("revenue.income-certificate")
        assert service is not None
        answers = {"applicant_name": "Lakshmi", "aadhaar": "234567890124"}
        now = platform.clock.now()
        async with platform.cases.engine.begin() as connection:
            application = submitted(service, answers, now, Recipient(wa_id="919800000404"))
            await insert_application(connection, platform.cases.sealer, "919800000404", application, "AP-REV-INC-1")
            await connection.execute(
                insert(conversations).values(
                    address="919800000405", state=legacy(OLD, b'{"language": "te"}'), created_at=now, updated_at=now
                )
            )
    finally:
        await platform.aclose()

    assert await rotate_data(settings_with(database_url, tmp_path, NEW, [])) == 1  # the old key is needed
    after = settings_with(database_url, tmp_path, NEW, [OLD])
    assert await rotate_data(after) == 0
    printed = capsys.readouterr().out
    assert (
        "conversations.state: 1 read, 1 resealed" in printed and "applications.answers: 1 read, 1 resealed" in printed
    )

    only_new = AesGcmSealer.from_secret(NEW)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            for table, _, column in SEALED:
                values = (await connection.execute(select(table.c[column]))).scalars().all()
                assert values and all(only_new.is_current(v) for v in values), table.name
                opened = [only_new.open(v) for v in values]
                if table.name == "applications":
                    assert json.loads(opened[0])["aadhaar"] == "234567890124"
    finally:
        await engine.dispose()
    assert await rotate_data(after) == 0  # nothing left to do
    assert "0 resealed" in capsys.readouterr().out
    assert data_sealer(after).current_key_id == only_new.current_key_id
    platform = build(settings_with(database_url, tmp_path, NEW, []))  # the old key can go: the platform starts
    try:
        await platform.start()
        assert platform.keys.signer is not None
    finally:
        await platform.aclose()
