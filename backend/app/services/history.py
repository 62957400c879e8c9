"""The organization's history feed: every fact of every table, newest first, one keyset page."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.organizations import EventPosition, OrgEvent
from app.repositories import events as events_repo
from app.services import policies
from app.services.pages import Page, page_of
from app.services.policies import Action, OrgContext


async def list_events(
    db: AsyncSession, ctx: OrgContext, *, before: EventPosition | None = None, limit: int = 50
) -> Page[OrgEvent]:
    """The organization's whole history, newest first (admins and up)."""
    policies.require(ctx, Action.READ_HISTORY)
    rows = await events_repo.events_page(db, ctx.organization_id, before=before, limit=limit + 1)
    return page_of(rows, limit)
