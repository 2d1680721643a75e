"""erasure: erasure requests and their retention

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 19:45:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erased", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_requests")),
    )
    op.create_index("ix_erasure_requests_waiting", "erasure_requests", ["status", "due_at"])
    op.create_index("ix_erasure_requests_address", "erasure_requests", ["address", "status"])
    op.create_table(
        "privacy_marks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_privacy_marks")),
    )
    marks = sa.table(
        "privacy_marks",
        sa.column("name", sa.String()),
        sa.column("position", sa.BigInteger()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    # masking starts from the first message ever received (core.erasure.mask_identity_numbers)
    op.bulk_insert(marks, [{"name": "inbox_masked", "position": 0, "updated_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("privacy_marks")
    op.drop_index("ix_erasure_requests_address", table_name="erasure_requests")
    op.drop_index("ix_erasure_requests_waiting", table_name="erasure_requests")
    op.drop_table("erasure_requests")
