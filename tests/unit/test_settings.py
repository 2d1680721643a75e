"""Settings: embedded defaults in development, refusal of insecure values in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sevamitra.settings import Settings

SECRETS = {
    "SEVAMITRA_WHATSAPP_APP_SECRET": "a-real-secret",
    "SEVAMITRA_WHATSAPP_VERIFY_TOKEN": "a-real-token",
    "SEVAMITRA_WHATSAPP_ACCESS_TOKEN": "a-real-access-token",
    "SEVAMITRA_DATA_KEY": "a-real-data-key",
    "SEVAMITRA_PDF_SIGNING_KEY": "/etc/sevamitra/signing.key",
    "SEVAMITRA_PDF_SIGNING_CERTIFICATE": "/etc/sevamitra/signing.crt",
    "SEVAMITRA_LOG_SIGNING_KEY": "/etc/sevamitra/log.key",
    "SEVAMITRA_PAYMENT_PROVIDER": "razorpay",
    "SEVAMITRA_PAYMENT_LINK_KEY": "a-real-link-key",
    "SEVAMITRA_RAZORPAY_KEY_ID": "rzp_live_x",
    "SEVAMITRA_RAZORPAY_KEY_SECRET": "a-real-key-secret",
    "SEVAMITRA_RAZORPAY_WEBHOOK_SECRET": "a-real-webhook-secret",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in [*SECRETS, "SEVAMITRA_ENV", "SEVAMITRA_EMULATOR_ENABLED", "SEVAMITRA_GRAPH_API_URL"]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(str(tmp_path))  # no stray .env


def test_development_starts_on_embedded_defaults() -> None:
    settings = Settings()
    assert settings.env == "dev"
    assert settings.database_url.startswith("sqlite")
    assert settings.graph_api_url == "https://graph.facebook.com"
    assert settings.graph_api_version == "v23.0"
    assert settings.emulator_mounted


def test_production_refuses_development_secrets_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEVAMITRA_ENV", "prod")
    with pytest.raises(ValidationError, match="SEVAMITRA_WHATSAPP_APP_SECRET is a development default"):
        Settings()


def test_production_refuses_an_empty_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SEVAMITRA_ENV", "prod")
    monkeypatch.setenv("SEVAMITRA_WHATSAPP_ACCESS_TOKEN", "")
    with pytest.raises(ValidationError, match="SEVAMITRA_WHATSAPP_ACCESS_TOKEN is missing"):
        Settings()


def test_production_with_real_secrets_starts_without_the_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SEVAMITRA_ENV", "prod")
    settings = Settings()
    assert not settings.emulator_mounted
    assert "a-real-secret" not in repr(settings)  # secrets never print


def test_production_refuses_the_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SEVAMITRA_ENV", "prod")
    monkeypatch.setenv("SEVAMITRA_EMULATOR_ENABLED", "true")
    with pytest.raises(ValidationError, match="EMULATOR"):
        Settings()


def test_anchoring_needs_a_well_formed_key_and_is_off_without_an_rpc_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().anchor_rpc_url is None
    monkeypatch.setenv("SEVAMITRA_ANCHOR_RPC_URL", "http://127.0.0.1:8545")
    with pytest.raises(ValidationError, match="SEVAMITRA_ANCHOR_PRIVATE_KEY"):
        Settings()
    monkeypatch.setenv("SEVAMITRA_ANCHOR_PRIVATE_KEY", "0x1234")
    with pytest.raises(ValidationError, match="64 hex digits"):
        Settings()
    monkeypatch.setenv("SEVAMITRA_ANCHOR_PRIVATE_KEY", "0x" + "ab" * 32)
    settings = Settings()
    assert "ab" * 32 not in repr(settings)
    assert settings.anchor_private_key.get_secret_value().endswith("ab" * 32)
