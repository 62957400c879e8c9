"""member email lookups: every add-by-email, found or not, for the per-caller rate limit

- `member_email_lookups`: one row per `POST /organizations/{id}/members {"email"}` (caller: a user
  id, or `key:` and an API key id), append-only like every table; counted over the last hour.

Written by hand. Revision ID: 0008; Revises: 0007; Create Date: 2026-12-04 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.append_only import protect

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'member_email_lookups',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('caller', sa.String(length=64), nullable=False),
        sa.Column('organization_id', sa.UUID(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_member_email_lookups')),
    )
    op.create_index(
        'ix_member_email_lookups_caller', 'member_email_lookups', ['caller', sa.text('occurred_at DESC')], unique=False
    )
    for statement in protect('member_email_lookups'):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table('member_email_lookups')
