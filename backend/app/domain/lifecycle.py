"""One lifecycle for users and organizations: six transitions over three independent facts.

A subject (a user or an organization) is deactivated or not, suspended or not, archived or not —
three fact tables, each with its own pair of kinds. Its `Status` is the most severe fact that holds
(`Flags.status`). A transition appends one fact and is refused (409) when it would change
nothing: `LIFECYCLE` says, for each, the fact, the flag it sets or clears, the refusal for each
kind of subject, and what it does to a user's sessions. Both services read this one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain import errors
from app.domain.vocabulary import ActiveKind, ArchiveKind, LifecycleKind, RevocationReason, Status, SuspensionKind


class Transition(StrEnum):
    """The six lifecycle calls (`POST /users/{id}/<t>`, `POST /organizations/{id}/<t>`)."""

    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    ARCHIVE = "archive"
    RESTORE = "restore"


@dataclass(frozen=True, slots=True)
class Flags:
    """The three independent lifecycle facts of one subject, now."""

    deactivated: bool = False
    suspended: bool = False
    archived: bool = False

    @classmethod
    def of(cls, active_kind: str | None, suspension_kind: str | None, archive_kind: str | None) -> Flags:
        """From the latest kind of each fact table (None: no fact yet)."""
        return cls(
            deactivated=active_kind == ActiveKind.DEACTIVATED,
            suspended=suspension_kind == SuspensionKind.SUSPENDED,
            archived=archive_kind == ArchiveKind.ARCHIVED,
        )

    @property
    def status(self) -> Status:
        """Most severe first: archived > suspended > inactive > active."""
        if self.archived:
            return Status.ARCHIVED
        if self.suspended:
            return Status.SUSPENDED
        if self.deactivated:
            return Status.INACTIVE
        return Status.ACTIVE


NO_FACTS = Flags()  # a subject with no lifecycle fact yet: active


@dataclass(frozen=True, slots=True)
class Move:
    fact: LifecycleKind  # the fact appended
    sets: bool  # the fact's flag after the move (True: deactivated / suspended / archived)
    locks_out: bool  # a platform admin may not do it to themself
    session_reason: RevocationReason  # a user's sessions end with this reason
    user_refusal: type[errors.Conflict]  # when the user's flag already is `sets`
    organization_refusal: type[errors.Conflict]  # when the organization's flag already is `sets`

    def changes_nothing(self, flags: Flags) -> bool:
        """Would the move leave the subject as it is (the refusal's case)?"""
        if isinstance(self.fact, ActiveKind):
            current = flags.deactivated
        elif isinstance(self.fact, SuspensionKind):
            current = flags.suspended
        else:
            current = flags.archived
        return current == self.sets


LIFECYCLE: dict[Transition, Move] = {
    Transition.ACTIVATE: Move(
        ActiveKind.ACTIVATED,
        sets=False,
        locks_out=False,
        session_reason=RevocationReason.USER_ACTIVATED,
        user_refusal=errors.UserAlreadyActive,
        organization_refusal=errors.AlreadyActive,
    ),
    Transition.DEACTIVATE: Move(
        ActiveKind.DEACTIVATED,
        sets=True,
        locks_out=True,
        session_reason=RevocationReason.USER_DEACTIVATED,
        user_refusal=errors.UserAlreadyInactive,
        organization_refusal=errors.AlreadyInactive,
    ),
    Transition.SUSPEND: Move(
        SuspensionKind.SUSPENDED,
        sets=True,
        locks_out=True,
        session_reason=RevocationReason.USER_SUSPENDED,
        user_refusal=errors.UserAlreadySuspended,
        organization_refusal=errors.AlreadySuspended,
    ),
    Transition.UNSUSPEND: Move(
        SuspensionKind.LIFTED,
        sets=False,
        locks_out=False,
        session_reason=RevocationReason.USER_UNSUSPENDED,
        user_refusal=errors.UserNotSuspended,
        organization_refusal=errors.NotSuspended,
    ),
    Transition.ARCHIVE: Move(
        ArchiveKind.ARCHIVED,
        sets=True,
        locks_out=True,
        session_reason=RevocationReason.USER_ARCHIVED,
        user_refusal=errors.UserAlreadyArchived,
        organization_refusal=errors.AlreadyArchived,
    ),
    Transition.RESTORE: Move(
        ArchiveKind.RESTORED,
        sets=False,
        locks_out=False,
        session_reason=RevocationReason.USER_RESTORED,
        user_refusal=errors.UserNotArchived,
        organization_refusal=errors.NotArchived,
    ),
}
