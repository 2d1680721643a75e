"""several WhatsApp numbers: the number each citizen last wrote to, which answers them

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 16:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("number", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("conversations", "number")
