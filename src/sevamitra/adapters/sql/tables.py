"""The relational schema (SQLAlchemy Core). Rows here are storage, not domain types."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.engine import Dialect

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BigInteger ids that are still SQLite's INTEGER PRIMARY KEY (the rowid) there.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite keeps no zone, so it is restored on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Stamp = UtcDateTime()

inbox = Table(
    "inbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),  # arrival order
    Column("key", String(255), nullable=False, unique=True),  # idempotency: Meta redelivers
    Column("kind", String(16), nullable=False),
    Column("address", String(64)),  # the citizen, for per-citizen ordering
    Column("fragment", JSON, nullable=False),  # the raw wire data, enough to parse it again
    Column("received_at", Stamp, nullable=False),
    Column("state", String(16), nullable=False),  # pending | done | failed | ignored
    Column("attempts", Integer, nullable=False, default=0),
    Column("not_before", Stamp),
    Column("processed_at", Stamp),
    Column("error", Text),
    Index("ix_inbox_waiting", "state", "kind", "address", "id"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("address", String(64), primary_key=True),
    Column("wa_id", String(32)),
    Column("user_id", String(64)),
    Column("number", String(32)),  # the business number they last wrote to (answers them); None: the main one
    Column("state", Text, nullable=False),  # sealed JSON: a draft holds personal data
    Column("created_at", Stamp, nullable=False),
    Column("updated_at", Stamp, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),  # per-citizen send order
    Column("address", String(64), nullable=False),
    Column("wa_id", String(32)),
    Column("user_id", String(64)),
    Column("payload", JSON, nullable=False),  # core.messages.outbound_to_dict
    Column("cause", BigInteger),  # the inbox row that led to it
    Column("state", String(16), nullable=False),  # pending | sending | sent | failed | undeliverable | ...
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Stamp, nullable=False),
    Column("lease_until", Stamp),
    Column("created_at", Stamp, nullable=False),
    Column("sent_at", Stamp),
    Column("message_id", String(128), unique=True),  # the channel's id, for status webhooks
    Column("delivery", String(16)),  # sent | delivered | read | failed, from status webhooks
    Column("delivery_at", Stamp),
    Column("error_code", Integer),
    Column("error", Text),
    Index("ix_outbox_due", "state", "address", "id"),
)

applications = Table(
    "applications",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("reference", String(40), nullable=False, unique=True),
    Column("service_id", String(80), nullable=False),
    Column("service_version", Integer, nullable=False),
    Column("definition_hash", String(64), nullable=False),  # the exact definition the citizen answered
    Column("address", String(64), nullable=False),  # the citizen who owns it
    Column("wa_id", String(32)),
    Column("user_id", String(64)),
    Column("language", String(8), nullable=False),
    Column("answers", Text, nullable=False),  # sealed JSON: personal data is encrypted at rest
    Column("status", String(16), nullable=False),
    Column("decision", JSON),  # instant services: the registry's answer (facts, amount)
    Column("fee_inr", Integer),
    Column("submitted_at", Stamp, nullable=False),
    Column("due_at", Stamp, nullable=False),
    Column("updated_at", Stamp, nullable=False),
    # reviewed applications: the case (core.workflow) and what the dashboard filters and counts by
    Column("department_id", String(40)),
    Column("district", String(64)),  # the applicant's district (place id), for routing and analytics
    Column("desk", String(160)),  # core.workflow.Desk.key of the step's officer: "tahsildar@ntr/..."
    Column("step_due_at", Stamp),
    Column("clock_at", Stamp),  # when the SLA clock next has something to do (remind, move, deem)
    Column("workflow", JSON),  # core.workflow.Case.to_dict()
    Column("decided_at", Stamp),  # approved, rejected or deemed approved
    Column("latitude", Float),  # grievances: where the citizen shared a location ("me too" nearby)
    Column("longitude", Float),
    Index("ix_applications_owner", "address", "submitted_at"),
    Index("ix_applications_desk", "desk", "status", "step_due_at", postgresql_ops={"desk": "varchar_pattern_ops"}),
    Index("ix_applications_clock", "clock_at"),
    Index("ix_applications_district", "district", "service_id", "submitted_at"),
)

# The administrators' first page: open cases, soonest due first, state-wide, per district or per
# department. Partial indexes over the open cases only (a quarter of the table, or less).
OPEN_CASE = text("desk IS NOT NULL AND status IN ('submitted', 'under_review')")
for name, columns in (
    ("ix_applications_open", ("step_due_at", "id")),
    ("ix_applications_open_district", ("district", "step_due_at", "id")),
    ("ix_applications_open_department", ("department_id", "step_due_at", "id")),
):
    Index(name, *(applications.c[c] for c in columns), postgresql_where=OPEN_CASE, sqlite_where=OPEN_CASE)

reference_counters = Table(
    "reference_counters",
    metadata,
    Column("prefix", String(32), nullable=False),
    Column("year", Integer, nullable=False),
    Column("last", Integer, nullable=False),
    PrimaryKeyConstraint("prefix", "year"),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(16), primary_key=True),  # hex of the first 8 bytes of SHA-256 of the public key
    Column("public", LargeBinary, nullable=False),
    Column("private", Text, nullable=False),  # sealed: never stored in plain text
    Column("not_before", Stamp, nullable=False),
    Column("not_after", Stamp),
    Column("status", String(16), nullable=False),  # active | retired | revoked
    Column("created_at", Stamp, nullable=False),
)

certificates = Table(
    "certificates",
    metadata,
    Column("number", String(40), primary_key=True),
    Column("reference", String(40), nullable=False),  # the application it certifies
    Column("service_id", String(80), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("address", String(64), nullable=False),  # the holder, as a citizen of the platform
    Column("language", String(8), nullable=False),
    Column("issued_at", Stamp, nullable=False),
    Column("valid_until", Stamp),
    Column("kid", String(16), nullable=False),
    Column("cose", LargeBinary, nullable=False),  # the signed QR payload
    Column("pdf", LargeBinary, nullable=False),  # the signed PDF as sent
    Column("download_token", String(64), nullable=False, unique=True),
    Column("status", String(16), nullable=False),  # valid | revoked | superseded
    Column("superseded_by", String(40)),
    Column("status_reason", Text),
    Column("status_at", Stamp),
    Column("alerts", Boolean, nullable=False, default=False, server_default=false()),  # holder's notes on verification
    Column("alerted_at", Stamp),  # the last such note
    Column("log_salt", LargeBinary),  # salts the certificate's hash in the transparency log
    Index("ix_certificates_reference", "reference"),
)

# The transparency log. Entries wait in `log_pending`, written in the issuing transaction; the
# integrator gives them positions in arrival order, writes the tiles and signs a checkpoint.
log_pending = Table(
    "log_pending",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("entry", LargeBinary, nullable=False),  # core.logentries bytes: hashes and public metadata only
    Column("number", String(40)),  # the certificate it is about (kept here, never in the log)
    Column("created_at", Stamp, nullable=False),
)

log_entries = Table(
    "log_entries",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("entry", LargeBinary, nullable=False),
    Column("number", String(40)),
    Column("integrated_at", Stamp, nullable=False),
    Index("ix_log_entries_number", "number"),
)

log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", LargeBinary, nullable=False),  # the signed note, with witnesses' cosignatures as they come
    Column("created_at", Stamp, nullable=False),
)

log_witnesses = Table(
    "log_witnesses",
    metadata,
    Column("url", String(300), primary_key=True),
    Column("size", BigInteger, nullable=False),  # the largest checkpoint this witness cosigned
    Column("updated_at", Stamp, nullable=False),
)

# Checkpoints anchored in a public chain (optional): one row per anchor, made before anything is
# sent; the transaction carrying it now, the ones it replaced, and where it was mined.
log_anchors = Table(
    "log_anchors",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("size", BigInteger, nullable=False, unique=True),
    Column("checkpoint_hash", LargeBinary, nullable=False),  # SHA-256 of the checkpoint body
    Column("chain_id", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("tx_hash", LargeBinary),
    Column("tx_nonce", BigInteger),
    Column("tx_raw", LargeBinary),  # the signed transaction, to broadcast again
    Column("tx_max_fee", BigInteger),  # wei per gas
    Column("tx_priority_fee", BigInteger),
    Column("earlier", LargeBinary, nullable=False),  # hashes of replaced transactions, 32 bytes each
    Column("sent_at", Stamp),
    Column("block", BigInteger),
    Column("block_hash", LargeBinary),
    Column("succeeded", Boolean),
    Column("gas_used", BigInteger),
    Column("fee_paid", BigInteger),  # wei
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("created_at", Stamp, nullable=False),
    Column("confirmed_at", Stamp),
)

# --- officials

officers = Table(
    "officers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(120), nullable=False),
    Column("role", String(64), nullable=False),  # core.roles
    Column("place", String(160), nullable=False),  # a place id, or "state"
    Column("department_id", String(40)),  # department administrators
    Column("wa_id", String(32)),  # where reminders go on WhatsApp, when given
    Column("password_hash", Text, nullable=False),  # argon2id
    Column("totp_secret", Text, nullable=False),  # sealed
    Column("active", Boolean, nullable=False, default=True, server_default=true()),
    Column("failed_logins", Integer, nullable=False, default=0, server_default="0"),
    Column("locked_until", Stamp),
    Column("created_at", Stamp, nullable=False),
    Column("last_login_at", Stamp),
)

officer_sessions = Table(
    "officer_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the cookie's random token
    Column("officer_id", BigInteger, nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("second_factor", Boolean, nullable=False, default=False),  # TOTP passed
    Column("created_at", Stamp, nullable=False),
    Column("expires_at", Stamp, nullable=False),
    Column("last_seen_at", Stamp, nullable=False),
)

audit_log = Table(  # append-only: nothing in the code updates or deletes it (PostgreSQL refuses to)
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", Stamp, nullable=False),
    Column("officer_id", BigInteger),
    Column("action", String(40), nullable=False),  # view, approve, sign_in, sign_in_failed, export, ...
    Column("reference", String(40)),
    Column("detail", JSON),
    Column("ip", String(64)),
    Index("ix_audit_log_reference", "reference", "id"),
)

application_events = Table(
    "application_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("reference", String(40), nullable=False),
    Column("at", Stamp, nullable=False),
    Column("actor", String(64), nullable=False),  # an officer's username, "citizen" or "clock"
    Column("kind", String(32), nullable=False),
    Column("detail", JSON),
    Index("ix_application_events_reference", "reference", "id"),
)

attachments = Table(  # officers' field-verification photos
    "attachments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("reference", String(40), nullable=False),
    Column("officer_id", BigInteger, nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("at", Stamp, nullable=False),
    Index("ix_attachments_reference", "reference"),
)

ratings = Table(
    "ratings",
    metadata,
    Column("reference", String(40), primary_key=True),
    Column("score", Integer, nullable=False),  # 1 (very poor) to 5 (excellent)
    Column("comment", Text),
    Column("at", Stamp, nullable=False),
)

# --- citizen engagement: payments, bookings, alerts, grievances

payments = Table(
    "payments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("reference", String(40), nullable=False),  # the application (or bill) it pays for
    Column("address", String(64), nullable=False),  # the citizen
    Column("provider", String(32), nullable=False),  # simulated | upi_link | whatsapp
    Column("provider_ref", String(128), unique=True),  # the provider's order or link id
    Column("amount_paise", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # created | paid | failed | expired | refunded
    Column("link", Text),
    Column("created_at", Stamp, nullable=False),
    Column("updated_at", Stamp, nullable=False),
    Column("paid_at", Stamp),
    Column("detail", JSON),
    Index("ix_payments_reference", "reference"),
)

payment_events = Table(  # every verified webhook, once: its id makes a redelivery a no-op
    "payment_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_key", String(160), nullable=False, unique=True),
    Column("payment_id", BigInteger),
    Column("kind", String(32), nullable=False),
    Column("at", Stamp, nullable=False),
    Column("detail", JSON),
)

booking_slots = Table(
    "booking_slots",
    metadata,
    Column("resource", String(160), primary_key=True),  # e.g. temple darshan slot, bus seat map, room
    Column("capacity", Integer, nullable=False),
    Column("taken", Integer, nullable=False, default=0, server_default="0"),
)

bookings = Table(
    "bookings",
    metadata,
    Column("reference", String(40), primary_key=True),
    Column("resource", String(160), nullable=False),
    Column("seat", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # held | confirmed | released
    Column("created_at", Stamp, nullable=False),
    UniqueConstraint("resource", "seat", name="uq_bookings_resource_seat"),
)

subscriptions = Table(  # the topics and areas a citizen asked to be alerted about
    "subscriptions",
    metadata,
    Column("address", String(64), nullable=False),
    Column("topic", String(40), nullable=False),
    Column("area", String(160), nullable=False),  # a place id, or "state"
    Column("wa_id", String(32)),
    Column("user_id", String(64)),
    Column("language", String(8), nullable=False),
    Column("created_at", Stamp, nullable=False),
    PrimaryKeyConstraint("address", "topic", "area"),
    Index("ix_subscriptions_topic_area", "topic", "area"),
)

broadcasts = Table(
    "broadcasts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("topic", String(40), nullable=False),
    Column("area", String(160), nullable=False),
    Column("emergency", Boolean, nullable=False, default=False, server_default=false()),
    Column("message", JSON, nullable=False),  # per language: the text, and the template it goes as
    Column("created_by", BigInteger),
    Column("created_at", Stamp, nullable=False),
    Column("recipients", Integer, nullable=False, default=0, server_default="0"),
)

grievance_joins = Table(  # "me too": a report attached to an open grievance nearby
    "grievance_joins",
    metadata,
    Column("reference", String(40), primary_key=True),  # the citizen's own report
    Column("joined", String(40), nullable=False),  # the grievance it joined
    Column("at", Stamp, nullable=False),
    Index("ix_grievance_joins_joined", "joined"),
)

# --- the assistant

phrasings = Table(  # what citizens wrote before picking a service from the assistant's list: aliases to review
    "phrasings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("service_id", String(120), nullable=False),
    Column("text", String(200), nullable=False),
    Column("language", String(8), nullable=False),
    Column("count", Integer, nullable=False, default=1, server_default="1"),
    Column("status", String(16), nullable=False, default="proposed", server_default="proposed"),
    Column("first_at", Stamp, nullable=False),
    Column("last_at", Stamp, nullable=False),
    Column("reviewed_by", String(64)),
    UniqueConstraint("service_id", "text", name="uq_phrasings_service_text"),
)

arrivals = Table(  # citizens who came through a service's link or poster: counts by source, no one's number
    "arrivals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("service_id", String(120), nullable=False),
    Column("source", String(40)),  # the poster or place tag in the link; None: an untagged link
    Column("language", String(8), nullable=False),
    Column("first_contact", Boolean, nullable=False),  # a citizen new to the platform
    Column("arrived_at", Stamp, nullable=False),
    Index("ix_arrivals_when", "arrived_at"),
)

send_budgets = Table(  # one token bucket per WhatsApp number, shared by every sending process
    "send_budgets",
    metadata,
    Column("phone_number_id", String(32), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", Stamp, nullable=False),
)

sending_pauses = Table(  # a number whose access token Meta refused (code 190): no process sends from it
    "sending_pauses",
    metadata,
    Column("phone_number_id", String(32), primary_key=True),
    Column("error_code", Integer, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("paused_at", Stamp, nullable=False),
    Column("next_probe_at", Stamp, nullable=False),  # when one process tries one message again
    Column("probes", Integer, nullable=False, default=0, server_default="0"),
    Column("token", String(16), nullable=False),  # a fingerprint of the refused token (never the token)
)

dead_letters = Table(  # messages given up for good: listed for officers, who may queue them again
    "dead_letters",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("outbox_id", BigInteger, nullable=False),  # the message as it was queued (its payload, its citizen)
    Column("address", String(64), nullable=False),
    Column("kind", String(24), nullable=False),  # text, buttons, template, document, ...
    Column("state", String(16), nullable=False),  # failed | undeliverable | outside_window
    Column("error_code", Integer),
    Column("error", Text),
    Column("attempts", Integer, nullable=False),
    Column("dead_at", Stamp, nullable=False),
    Column("retried_at", Stamp),
    Column("retried_by", BigInteger),  # the officer
    Column("retry_outbox_id", BigInteger),  # the message queued again
    Index("ix_dead_letters_open", "retried_at", "id"),
)

# --- consent and data rights (core.privacy)

consents = Table(  # each consent a citizen gave to a notice, and its withdrawal
    "consents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("address", String(64), nullable=False),
    Column("notice_version", String(32), nullable=False),
    Column("language", String(8), nullable=False),  # the language the notice was read in
    Column("purposes", JSON, nullable=False),  # core.privacy.PURPOSES consented to
    Column("given_at", Stamp, nullable=False),
    Column("withdrawn_at", Stamp),
    Index("ix_consents_address", "address", "id"),
)

data_requests = Table(  # a citizen's requests under their rights: a copy of their data, who saw it
    "data_requests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("address", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # export | accesses
    Column("at", Stamp, nullable=False),
    Index("ix_data_requests_address", "address", "kind", "at"),
)

# --- erasure of citizens' personal data (core.erasure)

erasure_requests = Table(  # "delete my data": recorded at once, carried out by the worker when due
    "erasure_requests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("address", String(64)),  # the citizen; None once done (nothing then links the request to them)
    Column("requested_at", Stamp, nullable=False),
    Column("due_at", Stamp, nullable=False),  # put off while an application of theirs is still open
    Column("status", String(16), nullable=False),  # waiting | done
    Column("done_at", Stamp),
    Column("erased", JSON),  # table -> rows erased, deleted or anonymised
    Index("ix_erasure_requests_waiting", "status", "due_at"),
    Index("ix_erasure_requests_address", "address", "status"),
)

privacy_marks = Table(  # how far a chore has gone through a table, e.g. masking processed messages' text
    "privacy_marks",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", Stamp, nullable=False),
)
