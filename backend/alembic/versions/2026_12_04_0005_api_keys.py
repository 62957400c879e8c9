"""api keys: keys of one organization, their revocations and uses; the key as an actor of org facts

- `api_keys`: the base row, written once (name, public prefix, SHA-256 of the key, permissions,
  creator, expiry). CHECKs: prefix and hash formats, at least one permission and only names of
  the catalog as of this migration, expiry after creation. The creator is always a user (keys
  cannot hold `api_keys:create`).
- `api_key_revocations`: at most one per key (unique index); effective on the key's next request.
- `api_key_uses`: one row per key and minute at most (unique index, `ON CONFLICT DO NOTHING`),
  `last_used_at` is the latest.
- Every organization fact table gains `actor_api_key_id` (null unless the fact was made through a
  key; never together with `actor_id`), and the members / admins history indexes carry it so the
  `/events` branches stay index-only.

Written by hand. Revision ID: 0005; Revises: 0002; Create Date: 2026-12-04 03:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.core.append_only import protect

revision: str = '0005'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The permission catalog (domain/permissions.py) as of this migration; a key may hold these.
CATALOG = (
    'organization:read', 'members:read', 'admins:read', 'owner:read',
    'organization:update', 'members:add', 'members:remove', 'events:read',
    'invitations:read', 'invitations:create', 'invitations:revoke',
    'api_keys:read', 'api_keys:create', 'api_keys:revoke',
    'admins:grant', 'admins:revoke', 'ownership:transfer', 'organization:lifecycle', 'invitations:create_admin',
    'organization:suspend',
)
ORG_FACT_TABLES = (
    'organization_profile',
    'organization_active_status',
    'organization_suspensions',
    'organization_archives',
    'organization_members',
    'organization_admins',
    'organization_owners',
)
HISTORY_TABLES = ('organization_members', 'organization_admins')
NEW_TABLES = ('api_keys', 'api_key_revocations', 'api_key_uses')


def _fact_columns() -> list[sa.Column]:
    return [
        sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('actor_id', sa.UUID(), nullable=True),
    ]


def _history_index(table: str, include: list[str]) -> None:
    op.create_index(
        f'ix_{table}_history',
        table,
        ['organization_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')],
        unique=False,
        postgresql_include=include,
    )


def upgrade() -> None:
    catalog = ', '.join(f"'{name}'" for name in CATALOG)
    op.create_table(
        'api_keys',
        sa.Column('id', sa.UUID(), nullable=False),
        sa.Column('organization_id', sa.UUID(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('prefix', sa.String(length=12), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('permissions', postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column('created_by', sa.UUID(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("prefix ~ '^[0-9a-f]{12}$'", name=op.f('ck_api_keys_prefix_format')),
        sa.CheckConstraint("secret_hash ~ '^[0-9a-f]{64}$'", name=op.f('ck_api_keys_secret_hash_format')),
        sa.CheckConstraint('cardinality(permissions) >= 1', name=op.f('ck_api_keys_some_permission')),
        sa.CheckConstraint(f'permissions <@ ARRAY[{catalog}]::varchar[]', name=op.f('ck_api_keys_known_permissions')),
        sa.CheckConstraint(
            'expires_at IS NULL OR expires_at > created_at', name=op.f('ck_api_keys_expires_after_creation')
        ),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organizations.id'], name=op.f('fk_api_keys_organization_id_organizations')
        ),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_api_keys_created_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    )
    op.create_index('uq_api_keys_secret_hash', 'api_keys', ['secret_hash'], unique=True)
    op.create_index('uq_api_keys_prefix', 'api_keys', ['prefix'], unique=True)
    op.create_index(
        'ix_api_keys_organization',
        'api_keys',
        ['organization_id', sa.literal_column('created_at DESC'), sa.literal_column('id DESC')],
        unique=False,
    )

    op.create_table(
        'api_key_revocations',
        sa.Column('api_key_id', sa.UUID(), nullable=False),
        sa.Column(
            'actor_api_key_id',
            sa.UUID(),
            sa.CheckConstraint(
                'actor_id IS NULL OR actor_api_key_id IS NULL', name=op.f('ck_api_key_revocations_one_actor')
            ),
            nullable=True,
        ),
        *_fact_columns(),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_api_key_revocations_api_key_id_api_keys')),
        sa.ForeignKeyConstraint(
            ['actor_api_key_id'], ['api_keys.id'], name=op.f('fk_api_key_revocations_actor_api_key_id_api_keys')
        ),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_api_key_revocations_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key_revocations')),
    )
    op.create_index('uq_api_key_revocations_api_key_id', 'api_key_revocations', ['api_key_id'], unique=True)

    op.create_table(
        'api_key_uses',
        sa.Column('api_key_id', sa.UUID(), nullable=False),
        sa.Column('minute', sa.DateTime(timezone=True), nullable=False),
        *_fact_columns(),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_api_key_uses_api_key_id_api_keys')),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_api_key_uses_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key_uses')),
    )
    op.create_index(
        'uq_api_key_uses_minute', 'api_key_uses', ['api_key_id', 'minute'], unique=True, postgresql_include=['occurred_at']
    )
    for table in NEW_TABLES:
        for statement in protect(table):
            op.execute(statement)

    for table in ORG_FACT_TABLES:
        op.add_column(table, sa.Column('actor_api_key_id', sa.UUID(), nullable=True))
        op.create_foreign_key(
            op.f(f'fk_{table}_actor_api_key_id_api_keys'), table, 'api_keys', ['actor_api_key_id'], ['id']
        )
        op.create_check_constraint(
            op.f(f'ck_{table}_one_actor'), table, 'actor_id IS NULL OR actor_api_key_id IS NULL'
        )
    for table in HISTORY_TABLES:
        op.drop_index(f'ix_{table}_history', table_name=table)
        _history_index(table, ['user_id', 'kind', 'actor_id', 'actor_api_key_id'])


def downgrade() -> None:
    for table in HISTORY_TABLES:
        op.drop_index(f'ix_{table}_history', table_name=table)
        _history_index(table, ['user_id', 'kind', 'actor_id'])
    for table in ORG_FACT_TABLES:
        op.drop_constraint(op.f(f'ck_{table}_one_actor'), table, type_='check')
        op.drop_constraint(op.f(f'fk_{table}_actor_api_key_id_api_keys'), table, type_='foreignkey')
        op.drop_column(table, 'actor_api_key_id')
    op.drop_index('uq_api_key_uses_minute', table_name='api_key_uses')
    op.drop_table('api_key_uses')
    op.drop_index('uq_api_key_revocations_api_key_id', table_name='api_key_revocations')
    op.drop_table('api_key_revocations')
    op.drop_index('ix_api_keys_organization', table_name='api_keys')
    op.drop_index('uq_api_keys_prefix', table_name='api_keys')
    op.drop_index('uq_api_keys_secret_hash', table_name='api_keys')
    op.drop_table('api_keys')
