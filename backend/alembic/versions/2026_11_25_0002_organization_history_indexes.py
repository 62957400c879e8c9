"""organization history indexes: members and admins of one organization, newest first

`GET /organizations/{id}/events` merges every organization fact table newest first. The other
tables are keyed by the organization alone, so their `ix_<table>_as_of` index already reads one
organization by time; members and admins are keyed by (organization, user), so they need an index
of their own or each page would read and sort the organization's whole membership history.
No new table (so nothing to protect); written by hand.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('organization_members', 'organization_admins')


def upgrade() -> None:
    for table in TABLES:
        op.create_index(
            f'ix_{table}_history',
            table,
            ['organization_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')],
            unique=False,
            postgresql_include=['user_id', 'kind', 'actor_id'],
        )


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f'ix_{table}_history', table_name=table)
