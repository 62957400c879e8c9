"""SQL that makes a table append-only at the database: UPDATE, DELETE and TRUNCATE raise.

Used by migrations: every table a migration creates gets `protect(table)`; a test checks that no
table but alembic's own is left unprotected.
"""

from __future__ import annotations

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION reject_append_only_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$
"""

DROP_FUNCTION = "DROP FUNCTION IF EXISTS reject_append_only_change()"

# Fact tables are only ever inserted into, so autovacuum's insert trigger is all that keeps their
# visibility map fresh; without it "latest row" index-only scans fall back to the heap.
VACUUM_SETTINGS = "autovacuum_vacuum_insert_scale_factor = 0.01, autovacuum_vacuum_insert_threshold = 10000"


def protect(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION reject_append_only_change()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION reject_append_only_change()",
        f"ALTER TABLE {table} SET ({VACUUM_SETTINGS})",
    ]
