"""officials: cases, officers, sessions, audit log, events, attachments, ratings

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 06:56:45.237765
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "application_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_events")),
    )
    with op.batch_alter_table("application_events", schema=None) as batch_op:
        batch_op.create_index("ix_application_events_reference", ["reference", "id"], unique=False)

    op.create_table(
        "attachments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("officer_id", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index("ix_attachments_reference", ["reference"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("officer_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_reference", ["reference", "id"], unique=False)

    op.create_table(
        "officer_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("officer_id", sa.BigInteger(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("second_factor", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_officer_sessions")),
    )
    op.create_table(
        "officers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("place", sa.String(length=160), nullable=False),
        sa.Column("department_id", sa.String(length=40), nullable=True),
        sa.Column("wa_id", sa.String(length=32), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("totp_secret", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officers")),
        sa.UniqueConstraint("username", name=op.f("uq_officers_username")),
    )
    op.create_table(
        "ratings",
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_ratings")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("department_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("district", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("desk", sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column("step_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("clock_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("workflow", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_applications_clock", ["clock_at"], unique=False)
        open_case = sa.text("desk IS NOT NULL AND status IN ('submitted', 'under_review')")
        for name, columns in (
            ("ix_applications_open", ["step_due_at", "id"]),
            ("ix_applications_open_district", ["district", "step_due_at", "id"]),
            ("ix_applications_open_department", ["department_id", "step_due_at", "id"]),
        ):
            batch_op.create_index(name, columns, unique=False, postgresql_where=open_case, sqlite_where=open_case)
        batch_op.create_index(
            "ix_applications_desk",
            ["desk", "status", "step_due_at"],
            unique=False,
            postgresql_ops={"desk": "varchar_pattern_ops"},
        )
        batch_op.create_index("ix_applications_district", ["district", "service_id", "submitted_at"], unique=False)

    if op.get_bind().dialect.name == "postgresql":  # the audit log is append-only, even for the owner's SQL
        op.execute(
            """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"""
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_district")
        batch_op.drop_index("ix_applications_desk")
        batch_op.drop_index("ix_applications_clock")
        for name in ("ix_applications_open", "ix_applications_open_district", "ix_applications_open_department"):
            batch_op.drop_index(name)
        batch_op.drop_column("decided_at")
        batch_op.drop_column("workflow")
        batch_op.drop_column("clock_at")
        batch_op.drop_column("step_due_at")
        batch_op.drop_column("desk")
        batch_op.drop_column("district")
        batch_op.drop_column("department_id")

    op.drop_table("ratings")
    op.drop_table("officers")
    op.drop_table("officer_sessions")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_reference")

    op.drop_table("audit_log")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_attachments_reference")

    op.drop_table("attachments")
    with op.batch_alter_table("application_events", schema=None) as batch_op:
        batch_op.drop_index("ix_application_events_reference")

    op.drop_table("application_events")
