"""initial schema: base tables, append-only fact tables, authentication state

Every table is append-only at the database (triggers from `app.core.append_only`). Each fact
table has two indexes: `ix_<table>_latest` (key, id DESC) for current state and `ix_<table>_as_of`
(key, occurred_at DESC, id DESC) for past state; their INCLUDE columns keep the reads index-only.
Reviewed by hand after autogeneration.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 17:23:13.791139
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.core.append_only import CREATE_FUNCTION, DROP_FUNCTION, protect

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    'login_attempts',
    'users',
    'organizations',
    'platform_admin_grants',
    'sessions',
    'user_active_status',
    'user_archives',
    'user_login_password',
    'user_profile',
    'user_suspensions',
    'organization_active_status',
    'organization_admins',
    'organization_archives',
    'organization_members',
    'organization_owners',
    'organization_profile',
    'organization_suspensions',
    'session_revocations',
    'session_rotations',
)


def upgrade() -> None:
    op.create_table('login_attempts',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('account_key', sa.String(length=254), nullable=False),
    sa.Column('ip_address', postgresql.INET(), nullable=True),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    op.create_index('ix_login_attempts_account', 'login_attempts', ['account_key', sa.literal_column('occurred_at DESC')], unique=False)
    op.create_index('ix_login_attempts_ip', 'login_attempts', ['ip_address', sa.literal_column('occurred_at DESC')], unique=False)
    op.create_table('users',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    op.create_table('organizations',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_organizations_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations'))
    )
    op.create_table('platform_admin_grants',
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.CheckConstraint("kind IN ('granted', 'revoked')", name=op.f('ck_platform_admin_grants_kind')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_platform_admin_grants_actor_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_platform_admin_grants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_admin_grants'))
    )
    op.create_index('ix_platform_admin_grants_as_of', 'platform_admin_grants', ['user_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_include=['kind'])
    op.create_index('ix_platform_admin_grants_latest', 'platform_admin_grants', ['user_id', sa.literal_column('id DESC')], unique=False, postgresql_include=['kind', 'occurred_at'])
    op.create_table('sessions',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('user_agent', sa.String(length=512), nullable=True),
    sa.Column('ip_address', postgresql.INET(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions'))
    )
    op.create_index('ix_sessions_user', 'sessions', ['user_id', sa.literal_column('created_at DESC')], unique=False)
    op.create_table('user_active_status',
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.CheckConstraint("kind IN ('activated', 'deactivated')", name=op.f('ck_user_active_status_kind')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_user_active_status_actor_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_active_status_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_active_status'))
    )
    op.create_index('ix_user_active_status_as_of', 'user_active_status', ['user_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_include=['kind'])
    op.create_index('ix_user_active_status_latest', 'user_active_status', ['user_id', sa.literal_column('id DESC')], unique=False, postgresql_include=['kind', 'occurred_at'])
    op.create_table('user_archives',
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.CheckConstraint("kind IN ('archived', 'restored')", name=op.f('ck_user_archives_kind')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_user_archives_actor_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_archives_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_archives'))
    )
    op.create_index('ix_user_archives_as_of', 'user_archives', ['user_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_include=['kind'])
    op.create_index('ix_user_archives_latest', 'user_archives', ['user_id', sa.literal_column('id DESC')], unique=False, postgresql_include=['kind', 'occurred_at'])
    op.create_table('user_login_password',
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_user_login_password_actor_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_login_password_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_login_password'))
    )
    op.create_index('ix_user_login_password_as_of', 'user_login_password', ['user_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_include=['email'])
    op.create_index('ix_user_login_password_email', 'user_login_password', ['email', sa.literal_column('id DESC')], unique=False, postgresql_include=['user_id'])
    op.create_index('ix_user_login_password_latest', 'user_login_password', ['user_id', sa.literal_column('id DESC')], unique=False, postgresql_include=['email', 'occurred_at'])
    op.create_table('user_profile',
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('bio', sa.Text(), nullable=True),
    sa.Column('avatar_url', sa.String(length=2048), nullable=True),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_user_profile_actor_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_profile_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_profile'))
    )
    op.create_index('ix_user_profile_as_of', 'user_profile', ['user_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_include=[])
    op.create_index('ix_user_profile_latest', 'user_profile', ['user_id', sa.literal_column('id DESC')], unique=False, postgresql_include=['occurred_at'])
    op.create_table('user_suspensions',
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.CheckConstraint("kind IN ('suspended', 'lifted')", name=op.f('ck_user_suspensions_kind')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_user_suspensions_actor_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_suspensions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_suspensions'))
    )
    op.create_index('ix_user_suspensions_as_of', 'user_suspensions', ['user_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_include=['kind'])
    op.create_index('ix_user_suspensions_latest', 'user_suspensions', ['user_id', sa.literal_column('id DESC')], unique=False, postgresql_include=['kind', 'occurred_at'])
    op.create_table('organization_active_status',
    sa.Column('organization_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.CheckConstraint("kind IN ('activated', 'deactivated')", name=op.f('ck_organization_active_status_kind')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_organization_active_status_actor_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_active_status_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_active_status'))
    )
    op.create_index('ix_organization_active_status_as_of', 'organization_active_status', ['organization_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_include=['kind'])
    op.create_index('ix_organization_active_status_latest', 'organization_active_status', ['organization_id', sa.literal_column('id DESC')], unique=False, postgresql_include=['kind', 'occurred_at'])
    op.create_table('organization_admins',
    sa.Column('organization_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.CheckConstraint("kind IN ('granted', 'revoked')", name=op.f('ck_organization_admins_kind')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_organization_admins_actor_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_admins_organization_id_organizations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_organization_admins_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_admins'))
    )
    op.create_index('ix_organization_admins_as_of', 'organization_admins', ['organization_id', 'user_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_include=['kind'])
    op.create_index('ix_organization_admins_latest', 'organization_admins', ['organization_id', 'user_id', sa.literal_column('id DESC')], unique=False, postgresql_include=['kind', 'occurred_at'])
    op.create_table('organization_archives',
    sa.Column('organization_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.CheckConstraint("kind IN ('archived', 'restored')", name=op.f('ck_organization_archives_kind')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_organization_archives_actor_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_archives_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_archives'))
    )
    op.create_index('ix_organization_archives_as_of', 'organization_archives', ['organization_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_include=['kind'])
    op.create_index('ix_organization_archives_latest', 'organization_archives', ['organization_id', sa.literal_column('id DESC')], unique=False, postgresql_include=['kind', 'occurred_at'])
    op.create_table('organization_members',
    sa.Column('organization_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.CheckConstraint("kind IN ('added', 'removed')", name=op.f('ck_organization_members_kind')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_organization_members_actor_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_members_organization_id_organizations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_organization_members_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_members'))
    )
    op.create_index('ix_organization_members_as_of', 'organization_members', ['organization_id', 'user_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_include=['kind'])
    op.create_index('ix_organization_members_by_user', 'organization_members', ['user_id', 'organization_id', sa.literal_column('id DESC')], unique=False, postgresql_include=['kind'])
    op.create_index('ix_organization_members_latest', 'organization_members', ['organization_id', 'user_id', sa.literal_column('id DESC')], unique=False, postgresql_include=['kind', 'occurred_at'])
    op.create_table('organization_owners',
    sa.Column('organization_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_organization_owners_actor_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_owners_organization_id_organizations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_organization_owners_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_owners'))
    )
    op.create_index('ix_organization_owners_as_of', 'organization_owners', ['organization_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_include=['user_id'])
    op.create_index('ix_organization_owners_latest', 'organization_owners', ['organization_id', sa.literal_column('id DESC')], unique=False, postgresql_include=['user_id', 'occurred_at'])
    op.create_table('organization_profile',
    sa.Column('organization_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_organization_profile_actor_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_profile_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_profile'))
    )
    op.create_index('ix_organization_profile_as_of', 'organization_profile', ['organization_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_include=[])
    op.create_index('ix_organization_profile_latest', 'organization_profile', ['organization_id', sa.literal_column('id DESC')], unique=False, postgresql_include=['occurred_at'])
    op.create_table('organization_suspensions',
    sa.Column('organization_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.CheckConstraint("kind IN ('suspended', 'lifted')", name=op.f('ck_organization_suspensions_kind')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_organization_suspensions_actor_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_suspensions_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization_suspensions'))
    )
    op.create_index('ix_organization_suspensions_as_of', 'organization_suspensions', ['organization_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_include=['kind'])
    op.create_index('ix_organization_suspensions_latest', 'organization_suspensions', ['organization_id', sa.literal_column('id DESC')], unique=False, postgresql_include=['kind', 'occurred_at'])
    op.create_table('session_revocations',
    sa.Column('session_id', sa.UUID(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_session_revocations_actor_id_users')),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_session_revocations_session_id_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_revocations'))
    )
    op.create_index('ix_session_revocations_as_of', 'session_revocations', ['session_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_include=['reason'])
    op.create_index('ix_session_revocations_latest', 'session_revocations', ['session_id', sa.literal_column('id DESC')], unique=False, postgresql_include=['reason', 'occurred_at'])
    op.create_table('session_rotations',
    sa.Column('session_id', sa.UUID(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('organization_id', sa.UUID(), nullable=True),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.UUID(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_session_rotations_actor_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_session_rotations_organization_id_organizations')),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_session_rotations_session_id_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_rotations'))
    )
    op.create_index('ix_session_rotations_as_of', 'session_rotations', ['session_id', sa.literal_column('occurred_at DESC'), sa.literal_column('id DESC')], unique=False, postgresql_include=['token_hash', 'organization_id'])
    op.create_index('ix_session_rotations_latest', 'session_rotations', ['session_id', sa.literal_column('id DESC')], unique=False, postgresql_include=['token_hash', 'organization_id', 'occurred_at'])
    op.create_index('uq_session_rotations_token_hash', 'session_rotations', ['token_hash'], unique=True)

    op.execute(CREATE_FUNCTION)
    for table in TABLES:
        for statement in protect(table):
            op.execute(statement)


def downgrade() -> None:
    op.drop_index('uq_session_rotations_token_hash', table_name='session_rotations')
    op.drop_index('ix_session_rotations_latest', table_name='session_rotations', postgresql_include=['token_hash', 'organization_id', 'occurred_at'])
    op.drop_index('ix_session_rotations_as_of', table_name='session_rotations', postgresql_include=['token_hash', 'organization_id'])
    op.drop_table('session_rotations')
    op.drop_index('ix_session_revocations_latest', table_name='session_revocations', postgresql_include=['reason', 'occurred_at'])
    op.drop_index('ix_session_revocations_as_of', table_name='session_revocations', postgresql_include=['reason'])
    op.drop_table('session_revocations')
    op.drop_index('ix_organization_suspensions_latest', table_name='organization_suspensions', postgresql_include=['kind', 'occurred_at'])
    op.drop_index('ix_organization_suspensions_as_of', table_name='organization_suspensions', postgresql_include=['kind'])
    op.drop_table('organization_suspensions')
    op.drop_index('ix_organization_profile_latest', table_name='organization_profile', postgresql_include=['occurred_at'])
    op.drop_index('ix_organization_profile_as_of', table_name='organization_profile', postgresql_include=[])
    op.drop_table('organization_profile')
    op.drop_index('ix_organization_owners_latest', table_name='organization_owners', postgresql_include=['user_id', 'occurred_at'])
    op.drop_index('ix_organization_owners_as_of', table_name='organization_owners', postgresql_include=['user_id'])
    op.drop_table('organization_owners')
    op.drop_index('ix_organization_members_latest', table_name='organization_members', postgresql_include=['kind', 'occurred_at'])
    op.drop_index('ix_organization_members_by_user', table_name='organization_members', postgresql_include=['kind'])
    op.drop_index('ix_organization_members_as_of', table_name='organization_members', postgresql_include=['kind'])
    op.drop_table('organization_members')
    op.drop_index('ix_organization_archives_latest', table_name='organization_archives', postgresql_include=['kind', 'occurred_at'])
    op.drop_index('ix_organization_archives_as_of', table_name='organization_archives', postgresql_include=['kind'])
    op.drop_table('organization_archives')
    op.drop_index('ix_organization_admins_latest', table_name='organization_admins', postgresql_include=['kind', 'occurred_at'])
    op.drop_index('ix_organization_admins_as_of', table_name='organization_admins', postgresql_include=['kind'])
    op.drop_table('organization_admins')
    op.drop_index('ix_organization_active_status_latest', table_name='organization_active_status', postgresql_include=['kind', 'occurred_at'])
    op.drop_index('ix_organization_active_status_as_of', table_name='organization_active_status', postgresql_include=['kind'])
    op.drop_table('organization_active_status')
    op.drop_index('ix_user_suspensions_latest', table_name='user_suspensions', postgresql_include=['kind', 'occurred_at'])
    op.drop_index('ix_user_suspensions_as_of', table_name='user_suspensions', postgresql_include=['kind'])
    op.drop_table('user_suspensions')
    op.drop_index('ix_user_profile_latest', table_name='user_profile', postgresql_include=['occurred_at'])
    op.drop_index('ix_user_profile_as_of', table_name='user_profile', postgresql_include=[])
    op.drop_table('user_profile')
    op.drop_index('ix_user_login_password_latest', table_name='user_login_password', postgresql_include=['email', 'occurred_at'])
    op.drop_index('ix_user_login_password_email', table_name='user_login_password', postgresql_include=['user_id'])
    op.drop_index('ix_user_login_password_as_of', table_name='user_login_password', postgresql_include=['email'])
    op.drop_table('user_login_password')
    op.drop_index('ix_user_archives_latest', table_name='user_archives', postgresql_include=['kind', 'occurred_at'])
    op.drop_index('ix_user_archives_as_of', table_name='user_archives', postgresql_include=['kind'])
    op.drop_table('user_archives')
    op.drop_index('ix_user_active_status_latest', table_name='user_active_status', postgresql_include=['kind', 'occurred_at'])
    op.drop_index('ix_user_active_status_as_of', table_name='user_active_status', postgresql_include=['kind'])
    op.drop_table('user_active_status')
    op.drop_index('ix_sessions_user', table_name='sessions')
    op.drop_table('sessions')
    op.drop_index('ix_platform_admin_grants_latest', table_name='platform_admin_grants', postgresql_include=['kind', 'occurred_at'])
    op.drop_index('ix_platform_admin_grants_as_of', table_name='platform_admin_grants', postgresql_include=['kind'])
    op.drop_table('platform_admin_grants')
    op.drop_table('organizations')
    op.drop_table('users')
    op.drop_index('ix_login_attempts_ip', table_name='login_attempts')
    op.drop_index('ix_login_attempts_account', table_name='login_attempts')
    op.drop_table('login_attempts')
    op.execute(DROP_FUNCTION)
