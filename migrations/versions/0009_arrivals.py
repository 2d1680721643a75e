"""service links and posters: arrivals through them, by source tag, for the dashboard

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 13:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "arrivals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("service_id", sa.String(length=120), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("first_contact", sa.Boolean(), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arrivals")),
    )
    op.create_index("ix_arrivals_when", "arrivals", ["arrived_at"])


def downgrade() -> None:
    op.drop_index("ix_arrivals_when", table_name="arrivals")
    op.drop_table("arrivals")
