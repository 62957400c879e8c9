"""api key history: key creations and revocations in the organization's `/events`

- `api_keys.seq`: a bigint identity, the key's position in the organization's history (every
  history branch is keyset-paged on `(occurred_at, seq)`); existing keys are numbered as the
  column is added (a table rewrite, not an UPDATE: the append-only triggers do not fire).
- `ix_api_keys_history` (organization_id, created_at DESC, seq DESC): the `/events` branch of key
  creations reads one page of it. Revocations are read through the organization's keys
  (`ix_api_keys_organization`, then each key's one revocation by `uq_api_key_revocations_api_key_id`).

Written by hand. Revision ID: 0009; Revises: 0008; Create Date: 2026-12-04 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('api_keys', sa.Column('seq', sa.BigInteger(), sa.Identity(always=True), nullable=False))
    op.create_index(
        'ix_api_keys_history', 'api_keys', ['organization_id', sa.text('created_at DESC'), sa.text('seq DESC')]
    )


def downgrade() -> None:
    op.drop_index('ix_api_keys_history', table_name='api_keys')
    op.drop_column('api_keys', 'seq')
