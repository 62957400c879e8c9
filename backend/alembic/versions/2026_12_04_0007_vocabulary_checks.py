"""vocabulary checks: session_revocations.reason accepts only the known revocation reasons

Every `kind` column already has its CHECK (0001); the revocation reason was the one vocabulary
column without one. The list is `app.domain.vocabulary.RevocationReason` as of this migration
(frozen here: a later reason needs a migration that replaces the constraint).

Written by hand. Revision ID: 0007; Revises: 0006; Create Date: 2026-12-04 04:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = (
    'logout', 'revoked_by_user', 'reuse_detected', 'password_changed', 'password_reset',
    'user_activated', 'user_deactivated', 'user_suspended', 'user_unsuspended', 'user_archived', 'user_restored',
)


def upgrade() -> None:
    allowed = ', '.join(f"'{r}'" for r in REASONS)
    op.create_check_constraint(op.f('ck_session_revocations_reason'), 'session_revocations', f'reason IN ({allowed})')


def downgrade() -> None:
    op.drop_constraint(op.f('ck_session_revocations_reason'), 'session_revocations', type_='check')
