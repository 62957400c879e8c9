"""The status of a user or an organization, composed from its three lifecycle fact tables.

Users and organizations share one shape: an active-status table (activated / deactivated), a
suspension table (suspended / lifted) and an archive table (archived / restored). Their status is
the most severe current fact (`domain.lifecycle.Flags.status`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.lifecycle import Flags
from app.domain.vocabulary import ActiveKind, ArchiveKind, LifecycleKind, SuspensionKind
from app.models import (
    OrganizationActiveStatus,
    OrganizationArchive,
    OrganizationSuspension,
    UserActiveStatus,
    UserArchive,
    UserSuspension,
)
from app.repositories.facts import append, latest_kind


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """The three lifecycle fact tables of one kind of subject, keyed by `key`."""

    key: str
    active: Any
    suspension: Any
    archive: Any

    def columns(self, subject_id: Any, *, prefix: str = "") -> list[ColumnElement[Any]]:
        """`<prefix>active_kind`, `<prefix>suspension_kind`, `<prefix>archive_kind`: one
        index-only point lookup each, to compose into a larger query."""
        key = {self.key: subject_id}
        return [
            latest_kind(self.active, key).label(f"{prefix}active_kind"),
            latest_kind(self.suspension, key).label(f"{prefix}suspension_kind"),
            latest_kind(self.archive, key).label(f"{prefix}archive_kind"),
        ]

    @staticmethod
    def flags_from(row: Any, *, prefix: str = "") -> Flags:
        """The subject's lifecycle facts from the row's `columns(...)`."""
        return Flags.of(
            getattr(row, f"{prefix}active_kind"),
            getattr(row, f"{prefix}suspension_kind"),
            getattr(row, f"{prefix}archive_kind"),
        )

    async def append(
        self,
        db: AsyncSession,
        *,
        subject_id: uuid.UUID,
        kind: LifecycleKind,
        at: datetime,
        actor_id: uuid.UUID | None,
        reason: str | None = None,
        actor_api_key_id: uuid.UUID | None = None,
    ) -> None:
        """Append one fact: activated/deactivated, suspended (with reason)/lifted, archived/restored."""
        by = {"actor_id": actor_id, "actor_api_key_id": actor_api_key_id}
        if kind in tuple(ActiveKind):
            await append(db, self.active, occurred_at=at, **by, **{self.key: subject_id}, kind=kind)
        elif kind in tuple(SuspensionKind):
            await append(db, self.suspension, occurred_at=at, **by, **{self.key: subject_id}, kind=kind, reason=reason)
        elif kind in tuple(ArchiveKind):
            await append(db, self.archive, occurred_at=at, **by, **{self.key: subject_id}, kind=kind)
        else:
            raise ValueError(f"not a lifecycle fact: {kind!r}")


USER_LIFECYCLE = Lifecycle("user_id", UserActiveStatus, UserSuspension, UserArchive)
ORGANIZATION_LIFECYCLE = Lifecycle(
    "organization_id", OrganizationActiveStatus, OrganizationSuspension, OrganizationArchive
)
