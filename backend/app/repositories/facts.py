"""The composition helper: append a fact, read the latest fact per key — now or as of an instant.

Every repository goes through these functions; nothing else reads "latest row per key".

- `latest_stmt` / `latest`: a point lookup, `WHERE key = … ORDER BY id DESC LIMIT 1`, served by
  the table's `ix_<table>_latest` index. With `as_of`, `WHERE key = … AND occurred_at <= T ORDER BY
  occurred_at DESC, id DESC LIMIT 1`, served by `ix_<table>_as_of`. Both stay flat as history grows.
- `latest_per_key_page`: one page of keys under a fixed prefix (e.g. the members of one
  organization) whose latest fact is in a given state. It walks distinct keys with a recursive CTE
  (a "loose index scan": one index descent per key, not per event) and probes the latest fact of
  each key, stopping as soon as the page is full.
- `latest_per_key_subquery`: the same page as a subquery with open bind parameters, so a
  repository can fuse per-key lookups (a display name, an admin grant, …) into the one statement
  that reads the page (no N+1), build that statement once, and run it with `page_params(...)`.

Hot statements are built once per shape with bind parameters (`bindparam`) rather than per call:
composing a dozen correlated subqueries costs more Python than the query costs PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import ColumnElement, Integer, Select, Subquery, bindparam, column, insert, select, text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import class_mapper

from app.models.base import AppendOnly

F = TypeVar("F", bound=AppendOnly)

_MIN_UUID = UUID(int=0)


def latest_stmt(model: type[F], key: Mapping[str, Any], as_of: datetime | None = None) -> Select[tuple[F]]:
    """The statement selecting the latest row of `model` for `key` (as of `as_of` when given)."""
    stmt = select(model).where(*(getattr(model, col) == value for col, value in key.items()))
    if as_of is None:
        return stmt.order_by(model.id.desc()).limit(1)
    return stmt.where(model.occurred_at <= as_of).order_by(model.occurred_at.desc(), model.id.desc()).limit(1)


def latest_column(model: Any, column: str, key: Mapping[str, Any], as_of: datetime | None = None) -> ColumnElement[Any]:
    """`(SELECT <column> FROM <fact> WHERE key … ORDER BY id DESC LIMIT 1)`, a scalar subquery
    to compose into a larger statement (select only included columns to stay index-only)."""
    return latest_stmt(model, key, as_of).with_only_columns(getattr(model, column)).scalar_subquery()


def latest_kind(model: Any, key: Mapping[str, Any], as_of: datetime | None = None) -> ColumnElement[Any]:
    """The latest fact's `kind` as a scalar subquery."""
    return latest_column(model, "kind", key, as_of)


async def latest(db: AsyncSession, model: type[F], key: Mapping[str, Any], as_of: datetime | None = None) -> F | None:
    return (await db.execute(latest_stmt(model, key, as_of))).scalar_one_or_none()


async def append(
    db: AsyncSession,
    model: type[F],
    *,
    occurred_at: datetime,
    actor_id: UUID | None,
    actor_api_key_id: UUID | None = None,
    **values: Any,
) -> int:
    """Insert one fact and return its id. The only way rows get into fact tables.

    `actor_api_key_id` (organization facts only, `models.base.KeyActed`): the API key that acted.
    """
    if actor_api_key_id is not None:
        values["actor_api_key_id"] = actor_api_key_id
    stmt = insert(model).values(occurred_at=occurred_at, actor_id=actor_id, **values).returning(model.id)
    return (await db.execute(stmt)).scalar_one()


def latest_per_key_sql(
    table: str,
    prefix: Sequence[str],
    walk: str,
    *,
    columns: Sequence[str] = ("id", "kind", "occurred_at"),
    as_of: bool = False,
    where: str | None = None,
) -> str:
    """SQL (as text) for one page of `walk` keys under `prefix` with their latest fact.

    Bind parameters: one per prefix column (same name), `after` (walk keys strictly greater are
    returned, ascending), `page_limit`, and `as_of` when `as_of=True`. The caller adds a filter on
    the latest fact (e.g. `kind = 'added'`) through `:state` — rows whose latest fact's `kind`
    differs are skipped. The result has `key` plus `columns`.
    The order of keys is the recursion's (ascending); a test pins it.
    `where` is an extra SQL condition on each candidate (`w.key` is the walked key, `f` its latest
    fact) applied before the page limit, so filtered-out keys do not shorten the page; it may use
    bind parameters of its own.
    """
    where_prefix = " AND ".join(f"t.{col} = :{col}" for col in prefix)
    probe_order = "t.occurred_at DESC, t.id DESC" if as_of else "t.id DESC"
    probe_as_of = " AND t.occurred_at <= :as_of" if as_of else ""
    extra = f" AND ({where})" if where else ""
    cols = ", ".join(f"f.{c}" for c in columns)
    inner_cols = ", ".join(f"t.{c}" for c in columns)
    return f"""
WITH RECURSIVE walk(key) AS (
    (SELECT t.{walk} FROM {table} t WHERE {where_prefix} AND t.{walk} > :after
     ORDER BY t.{walk} LIMIT 1)
    UNION ALL
    SELECT (SELECT t.{walk} FROM {table} t WHERE {where_prefix} AND t.{walk} > w.key
            ORDER BY t.{walk} LIMIT 1)
    FROM walk w WHERE w.key IS NOT NULL
)
SELECT w.key, {cols}
FROM walk w
CROSS JOIN LATERAL (
    SELECT {inner_cols} FROM {table} t
    WHERE {where_prefix} AND t.{walk} = w.key{probe_as_of}
    ORDER BY {probe_order} LIMIT 1
) f
WHERE w.key IS NOT NULL AND f.kind = :state{extra}
LIMIT :page_limit
"""


async def latest_per_key_page(
    db: AsyncSession,
    model: type[AppendOnly],
    prefix: Mapping[str, Any],
    walk: str,
    *,
    state: str,
    after: UUID | None = None,
    limit: int = 50,
    as_of: datetime | None = None,
) -> list[Row[Any]]:
    """Keys under `prefix` whose latest fact (as of `as_of`) has `kind == state`, ascending."""
    sql = latest_per_key_sql(model.__tablename__, list(prefix), walk, as_of=as_of is not None)
    params: dict[str, Any] = {**prefix, "after": after or _MIN_UUID, "page_limit": limit, "state": state}
    if as_of is not None:
        params["as_of"] = as_of
    return list((await db.execute(text(sql), params)).all())


def latest_per_key_subquery(
    model: type[AppendOnly],
    prefix: Sequence[str],
    walk: str,
    *,
    as_of: bool = False,
    columns: Sequence[str] = ("id", "kind", "occurred_at"),
    where: str | None = None,
    where_binds: Mapping[str, Any] | None = None,
    name: str = "page",
) -> Subquery:
    """`latest_per_key_page` as a subquery, its parameters left open: columns `key` plus `columns`.

    Select from it and add correlated point lookups on `key` (they run only for the page's rows),
    build the statement once per shape, and execute it with `page_params(...)` (plus any of your
    own bind parameters, e.g. the prefix column reused in the lookups). `where` / `where_binds`
    (name → type): see `latest_per_key_sql`. Ordering the outer select by `key` is cheap (it
    sorts one page, after the walk's LIMIT).
    """
    sql = latest_per_key_sql(model.__tablename__, list(prefix), walk, columns=columns, as_of=as_of, where=where)
    table = class_mapper(model).local_table
    binds = [
        *(bindparam(col, type_=table.c[col].type) for col in prefix),
        bindparam("after", type_=table.c[walk].type),
        bindparam("page_limit", type_=Integer()),
        bindparam("state", type_=table.c["kind"].type),
        *([bindparam("as_of", type_=table.c["occurred_at"].type)] if as_of else []),
        *(bindparam(key, type_=type_) for key, type_ in (where_binds or {}).items()),
    ]
    typed = [column("key", table.c[walk].type), *(column(c, table.c[c].type) for c in columns)]
    return text(sql).bindparams(*binds).columns(*typed).subquery(name)


def page_params(
    prefix: Mapping[str, Any], *, state: str, after: UUID | None = None, limit: int = 50, as_of: datetime | None = None
) -> dict[str, Any]:
    """The bind parameters of a `latest_per_key_subquery` statement."""
    params: dict[str, Any] = {**prefix, "after": after or _MIN_UUID, "page_limit": limit, "state": state}
    if as_of is not None:
        params["as_of"] = as_of
    return params
