"""Database roles: the owner runs migrations; the service runs as a role that may only read, insert
and lock (SPEC §7).

- `tenancy_runtime` (NOLOGIN) is the group that holds the service's privileges: SELECT and INSERT
  on every table, USAGE on the sequences, and UPDATE on the `id` column of the tables that have
  one — only because `SELECT … FOR UPDATE` needs an UPDATE privilege; the append-only triggers
  still reject every UPDATE. Nothing on `alembic_version` but SELECT. No DELETE, no TRUNCATE, no
  ownership (so no `ALTER TABLE … DISABLE TRIGGER`), no superuser (so no
  `SET session_replication_role`).
- The grants are made after every `alembic upgrade` (`alembic/env.py` calls `grant_runtime`), for
  every table in the schema, whichever migration created it — new tables need no extra step.
- The login role the service uses (DATABASE_URL's user) is made a member of the group: the
  embedded default creates `tenancy_app` with a generated password; elsewhere the migration
  environment grants the group to DATABASE_URL's user when it differs from the migration user,
  or the operator does (`GRANT tenancy_runtime TO app_user`).
"""

from __future__ import annotations

import re

RUNTIME_GROUP = "tenancy_runtime"
RUNTIME_LOGIN = "tenancy_app"

# One schema change at a time per database: the migrations, the grants and the runtime login are
# made under this advisory lock, so replicas (or `serve` processes) starting together take turns —
# the second finds the schema at head — instead of racing on CREATE TABLE and on GRANT / ALTER
# ROLE, which PostgreSQL refuses with "tuple concurrently updated".
SETUP_LOCK_KEY = int.from_bytes(b"tenancy", "big")

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _ident(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"unsupported role name {name!r}")
    return name


def ensure_group_sql(group: str = RUNTIME_GROUP) -> str:
    group = _ident(group)
    return f"""
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{group}') THEN
        CREATE ROLE {group} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- created concurrently
END $$"""


def ensure_login_sql(login: str, password: str, group: str = RUNTIME_GROUP) -> list[str]:
    """A login role in the group (created, or its password reset)."""
    login, group = _ident(login), _ident(group)
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,128}", password):
        raise ValueError("the generated password must be URL-safe")
    return [
        ensure_group_sql(group),
        f"""
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{login}') THEN
        CREATE ROLE {login} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT PASSWORD '{password}';
    ELSE
        ALTER ROLE {login} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT PASSWORD '{password}';
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$""",
        f"GRANT {group} TO {login}",
    ]


def grant_runtime_sql(group: str = RUNTIME_GROUP, login: str | None = None) -> list[str]:
    """Statements (idempotent) that give the group exactly the service's privileges."""
    group = _ident(group)
    statements = [
        ensure_group_sql(group),
        f"GRANT USAGE ON SCHEMA public TO {group}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {group}",
        f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {group}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {group}",
        f"""
DO $$ DECLARE t record; BEGIN
    FOR t IN SELECT c.table_name FROM information_schema.columns c
             JOIN information_schema.tables x USING (table_schema, table_name)
             WHERE c.table_schema = 'public' AND c.column_name = 'id' AND x.table_type = 'BASE TABLE'
               AND c.table_name <> 'alembic_version'
    LOOP
        EXECUTE format('GRANT UPDATE (id) ON %I TO {group}', t.table_name);
    END LOOP;
END $$""",
        f"""
DO $$ BEGIN
    IF to_regclass('public.alembic_version') IS NOT NULL THEN
        REVOKE ALL ON public.alembic_version FROM {group};
        GRANT SELECT ON public.alembic_version TO {group};
    END IF;
END $$""",
    ]
    if login is not None:
        login = _ident(login)
        # Best effort: the migration user may not be allowed to grant membership (then the operator does).
        statements.append(f"""
DO $$ BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{login}') THEN
        EXECUTE 'GRANT {group} TO {login}';
    END IF;
EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
    RAISE WARNING 'could not grant {group} to {login}: do it as a role that may';
END $$""")
    return statements
