"""The organization service against a small model of SPEC §5, step by step (hypothesis stateful).

Random sequences of create, add, remove, leave, grant, revoke, transfer, suspend, unsuspend,
archive, restore, deactivate and activate, invite, accept (with the token from the mailed link,
by the invitee or someone else), revoke an invitation and a week passing, by random callers (five
active users and a platform admin), on random targets (including a deactivated user and an id
nobody has), go through the SERVICE layer on the real database. After every step the service's
answer (success, or the exact status and code of the refusal) must be the model's, the current
members/admins/owner/status must be the model's, and the invariants must hold: exactly one owner,
the owner is a member and an admin, every admin is a member; an accepted invitation adds exactly
its member (and admin), a revoked, answered or expired one never adds anyone. The clock moves one
second per step, and `as_of` reads at random earlier instants (on a step, and between two) must
agree with the model's past.

The machine is synchronous: it drives the async services through its own event loop
(`asyncio.Runner`) and engine, on a database cloned for this test; each example runs in one
transaction on one connection, rolled back in teardown (each step in a savepoint, like a request).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, ClassVar, TypeVar

import pytest
from factories import create_user
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.clock import FrozenClock
from app.core.database import make_engine
from app.core.errors import AppError
from app.core.sealed import unseal
from app.domain.errors import OwnerNotFound
from app.domain.lifecycle import Transition
from app.services import invitations as invitations_service
from app.services import org_access, roster
from app.services import organizations as service

T = TypeVar("T")
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
N_ACTIVE = 5
PLATFORM_ADMIN = N_ACTIVE  # actor index
INACTIVE, GHOST = N_ACTIVE, N_ACTIVE + 1  # target indexes
MAX_ORGS = 3

actors = st.integers(0, N_ACTIVE)  # five active users, then the platform admin
targets = st.integers(0, N_ACTIVE + 1)  # five active users, a deactivated one, a nonexistent id

Outcome = tuple[int, str] | None  # None: success


# ----------------------------------------------------------------------------------- the model


@dataclass
class Invitation:
    invitee: int  # target index: whose login email was invited (GHOST: an address with no account)
    role: str
    expires_at: datetime
    token: str
    answered: bool = False  # accepted or revoked (declines go the same way)

    def pending(self, now: datetime) -> bool:
        return not self.answered and now < self.expires_at


@dataclass
class Org:
    members: set[int]
    admins: set[int]
    owner: int
    invitations: dict[uuid.UUID, Invitation] = field(default_factory=dict)
    deactivated: bool = False
    suspended: bool = False
    archived: bool = False
    # (instant, members, admins, owner): the state from that instant on
    history: list[tuple[datetime, frozenset[int], frozenset[int], int]] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.archived:
            return "archived"
        if self.suspended:
            return "suspended"
        return "inactive" if self.deactivated else "active"

    def role(self, user: int) -> str | None:
        if user not in self.members:
            return None
        if user == self.owner:
            return "owner"
        return "admin" if user in self.admins else "member"

    def record(self, at: datetime) -> None:
        self.history.append((at, frozenset(self.members), frozenset(self.admins), self.owner))

    def at(self, instant: datetime) -> tuple[frozenset[int], frozenset[int], int] | None:
        past = [entry for entry in self.history if entry[0] <= instant]
        return past[-1][1:] if past else None


MEMBERSHIP = {"add", "remove", "grant", "revoke", "transfer", "invite", "revoke_invitation"}
INVITATION_DAYS = 7
LIFECYCLE = {"activate", "deactivate", "archive", "restore"}
SUSPENSION = {"suspend", "unsuspend"}


def refusal(org: Org, actor: int, action: str, allowed_roles: set[str]) -> Outcome:
    """What SPEC §5 says before the action's own conflicts: visibility, status, permission."""
    pa = actor == PLATFORM_ADMIN
    role = None if pa else org.role(actor)
    if not pa and (role is None or (org.archived and role != "owner")):
        return (404, "organization_not_found")
    if org.status == "suspended" and not (pa and action in LIFECYCLE | SUSPENSION):
        return (403, "organization_suspended")
    if not (pa or role in allowed_roles):
        return (403, "forbidden")
    if org.archived and (action in MEMBERSHIP or action in ("activate", "deactivate")):
        return (409, "organization_archived")
    if org.deactivated and not org.archived and not org.suspended and action in MEMBERSHIP:
        return (409, "organization_inactive")
    return None


def may_remove(org: Org, target: int, is_self: bool) -> set[str]:
    """The roles that may remove `target` (SPEC: plain member self; admin members and self)."""
    target_role = org.role(target) if target < N_ACTIVE else None
    allowed = {"owner"}
    if is_self or target_role in ("member", None):
        allowed.add("admin")
    if is_self:
        allowed.add("member")
    return allowed


# -------------------------------------------------------------------------------- the machine


@dataclass
class Env:
    runner: asyncio.Runner
    engine: AsyncEngine
    users: list[uuid.UUID]  # N_ACTIVE active users, the platform admin, the deactivated user
    settings: Any = None

    def run(self, coro: Awaitable[T]) -> T:
        return self.runner.run(coro)  # type: ignore[arg-type]


class OrgLifecycle(RuleBasedStateMachine):
    env: ClassVar[Env]
    orgs = Bundle("orgs")
    invitations = Bundle("invitations")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FrozenClock(START)
        self.conn = self.env.run(self.env.engine.connect().start())
        self.outer = self.env.run(self.conn.begin().start())
        self.db = AsyncSession(bind=self.conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        self.model: dict[uuid.UUID, Org] = {}
        self.ghost = uuid.uuid4()

    def teardown(self) -> None:
        async def close() -> None:
            await self.db.close()
            await self.outer.rollback()
            await self.conn.close()

        self.env.run(close())

    # -------------------------------------------------------------------------------- helpers

    def uid(self, index: int) -> uuid.UUID:
        if index == GHOST:
            return self.ghost
        if index == INACTIVE:
            return self.env.users[N_ACTIVE + 1]
        return self.env.users[index]

    def email(self, index: int) -> str:
        """The login email of a target (the factory's default), or an address nobody has."""
        return f"user-{self.uid(index).hex[:12]}@example.com"

    def actor_id(self, actor: int) -> uuid.UUID:
        return self.env.users[actor]  # index N_ACTIVE is the platform admin

    def step(self) -> datetime:
        return self.clock.advance(seconds=1)

    def call(self, org: uuid.UUID, actor: int, fn: Callable[[Any], Awaitable[Any]]) -> Outcome:
        """Run `fn(ctx)` as `actor` in a savepoint of its own (like a request); its outcome."""

        async def go() -> Outcome:
            try:
                async with self.db.begin_nested():
                    ctx = await org_access.load_context(
                        self.db,
                        organization_id=org,
                        user_id=self.actor_id(actor),
                        is_platform_admin=actor == PLATFORM_ADMIN,
                        now=self.clock.now(),
                    )
                    await fn(ctx)
            except AppError as error:
                return (error.status, error.code)
            return None

        return self.env.run(go())

    def operator_read(self, org: uuid.UUID, fn: Callable[[Any], Awaitable[T]]) -> T:
        """`fn(ctx)` as the platform admin (who may read every organization, whatever its status)."""

        async def go() -> T:
            ctx = await org_access.load_context(
                self.db,
                organization_id=org,
                user_id=self.actor_id(PLATFORM_ADMIN),
                is_platform_admin=True,
                now=self.clock.now(),
            )
            return await fn(ctx)

        return self.env.run(go())

    def expect(
        self, org_id: uuid.UUID, actor: int, action: str, allowed: set[str], outcome: Outcome, conflict: Outcome
    ) -> bool:
        """Compare; True when the model should apply the change."""
        org = self.model[org_id]
        expected = refusal(org, actor, action, allowed) or conflict
        assert outcome == expected, (action, actor, org.status, org.role(actor), outcome, expected)
        return expected is None

    # ---------------------------------------------------------------------------------- rules

    @initialize(target=orgs, creator=st.integers(0, N_ACTIVE - 1))
    def first_org(self, creator: int) -> uuid.UUID:
        return self.create(creator)

    @precondition(lambda self: len(self.model) < MAX_ORGS)
    @rule(target=orgs, creator=st.integers(0, N_ACTIVE - 1))
    def create(self, creator: int) -> uuid.UUID:
        now = self.step()

        async def go() -> uuid.UUID:
            async with self.db.begin_nested():
                return await service.create_organization(
                    self.db, creator_id=self.uid(creator), name=f"org by {creator}", now=now
                )

        org_id = self.env.run(go())
        org = Org(members={creator}, admins={creator}, owner=creator)
        org.record(now)
        self.model[org_id] = org
        return org_id

    @rule(org=orgs, actor=actors, who=targets)
    def add(self, org: uuid.UUID, actor: int, who: int) -> None:
        target = who  # `target` is hypothesis's name for a rule's bundle
        self.step()
        outcome = self.call(org, actor, lambda ctx: roster.add_member(self.db, ctx, user_id=self.uid(target)))
        m = self.model[org]
        conflict = (
            (404, "user_not_found")
            if target == GHOST
            else (409, "already_member")
            if target in m.members
            else (409, "user_not_active")
            if target == INACTIVE
            else None
        )
        if self.expect(org, actor, "add", {"admin", "owner"}, outcome, conflict):
            m.members.add(target)
            m.record(self.clock.now())

    @rule(org=orgs, actor=actors, who=targets)
    def remove(self, org: uuid.UUID, actor: int, who: int) -> None:
        target = who  # `target` is hypothesis's name for a rule's bundle
        self.step()
        outcome = self.call(org, actor, lambda ctx: roster.remove_member(self.db, ctx, user_id=self.uid(target)))
        self._check_removal(org, actor, target, outcome)

    @rule(org=orgs, actor=st.integers(0, N_ACTIVE - 1))
    def leave(self, org: uuid.UUID, actor: int) -> None:
        self.step()
        outcome = self.call(org, actor, lambda ctx: roster.remove_member(self.db, ctx, user_id=self.uid(actor)))
        self._check_removal(org, actor, actor, outcome)

    def _check_removal(self, org: uuid.UUID, actor: int, target: int, outcome: Outcome) -> None:
        m = self.model[org]
        is_self = self.actor_id(actor) == self.uid(target)
        conflict = (
            (409, "not_a_member")
            if target not in m.members
            else ((409, "owner_cannot_leave") if is_self else (409, "owner_cannot_be_removed"))
            if target == m.owner
            else None
        )
        if self.expect(org, actor, "remove", may_remove(m, target, is_self), outcome, conflict):
            m.members.discard(target)
            m.admins.discard(target)
            m.record(self.clock.now())

    @rule(org=orgs, actor=actors, who=targets)
    def grant(self, org: uuid.UUID, actor: int, who: int) -> None:
        target = who  # `target` is hypothesis's name for a rule's bundle
        self.step()
        outcome = self.call(org, actor, lambda ctx: roster.grant_admin(self.db, ctx, user_id=self.uid(target)))
        m = self.model[org]
        conflict = (
            (409, "not_a_member") if target not in m.members else (409, "already_admin") if target in m.admins else None
        )
        if self.expect(org, actor, "grant", {"owner"}, outcome, conflict):
            m.admins.add(target)
            m.record(self.clock.now())

    @rule(org=orgs, actor=actors, who=targets)
    def revoke(self, org: uuid.UUID, actor: int, who: int) -> None:
        target = who  # `target` is hypothesis's name for a rule's bundle
        self.step()
        outcome = self.call(org, actor, lambda ctx: roster.revoke_admin(self.db, ctx, user_id=self.uid(target)))
        m = self.model[org]
        conflict = (
            (409, "owner_cannot_lose_admin")
            if target == m.owner
            else (409, "not_an_admin")
            if target not in m.admins
            else None
        )
        if self.expect(org, actor, "revoke", {"owner"}, outcome, conflict):
            m.admins.discard(target)
            m.record(self.clock.now())

    @rule(org=orgs, actor=actors, who=targets)
    def transfer(self, org: uuid.UUID, actor: int, who: int) -> None:
        target = who  # `target` is hypothesis's name for a rule's bundle
        self.step()
        outcome = self.call(org, actor, lambda ctx: roster.transfer_ownership(self.db, ctx, user_id=self.uid(target)))
        m = self.model[org]
        conflict = (
            (409, "not_a_member") if target not in m.members else (409, "already_owner") if target == m.owner else None
        )
        if self.expect(org, actor, "transfer", {"owner"}, outcome, conflict):
            m.admins |= {m.owner, target}
            m.owner = target
            m.record(self.clock.now())

    @rule(
        org=orgs,
        actor=actors,
        action=st.sampled_from(["suspend", "unsuspend", "archive", "restore", "deactivate", "activate"]),
    )
    def change_status(self, org: uuid.UUID, actor: int, action: str) -> None:
        self.step()
        reason = "stateful" if action == "suspend" else None
        outcome = self.call(
            org, actor, lambda ctx: service.change_status(self.db, ctx, Transition(action), reason=reason)
        )
        m = self.model[org]
        flag, wanted, code = {
            "suspend": ("suspended", True, "already_suspended"),
            "unsuspend": ("suspended", False, "not_suspended"),
            "archive": ("archived", True, "already_archived"),
            "restore": ("archived", False, "not_archived"),
            "deactivate": ("deactivated", True, "already_inactive"),
            "activate": ("deactivated", False, "already_active"),
        }[action]
        conflict = (409, code) if getattr(m, flag) == wanted else None
        allowed = set() if action in SUSPENSION else {"owner"}
        if self.expect(org, actor, action, allowed, outcome, conflict):
            setattr(m, flag, wanted)

    # ---------------------------------------------------------------------------- invitations

    @rule(target=invitations, org=orgs, actor=actors, who=targets, role=st.sampled_from(["member", "admin"]))
    def invite(self, org: uuid.UUID, actor: int, who: int, role: str) -> Any:
        invitee = who
        self.step()
        created: list[uuid.UUID] = []

        async def go(ctx: Any) -> None:
            state = await invitations_service.create(
                self.db, self.env.settings, ctx, email=self.email(invitee), role=role
            )
            created.append(state.id)

        outcome = self.call(org, actor, go)
        m = self.model[org]
        now = self.clock.now()
        conflict = (
            (409, "already_member")
            if invitee in m.members
            else (409, "invitation_pending")
            if any(i.invitee == invitee and i.pending(now) for i in m.invitations.values())
            else None
        )
        allowed = {"owner"} if role == "admin" else {"admin", "owner"}
        if not self.expect(org, actor, "invite", allowed, outcome, conflict):
            return multiple()
        (invitation_id,) = created
        m.invitations[invitation_id] = Invitation(
            invitee, role, now + timedelta(days=INVITATION_DAYS), self.mailed_token(invitee)
        )
        return (org, invitation_id)

    def mailed_token(self, invitee: int) -> str:
        """The token of the link in the latest invitation message to the invitee (the outbox)."""

        async def go() -> str:
            link = (
                await self.db.execute(
                    text(
                        "SELECT link FROM outbox_messages WHERE recipient = :r AND kind = 'invitation' "
                        "ORDER BY id DESC LIMIT 1"
                    ),
                    {"r": self.email(invitee)},
                )
            ).scalar_one()
            return unseal(self.env.settings, link).rsplit("token=", 1)[1]

        return self.env.run(go())

    @rule(invitation=invitations, by_invitee=st.booleans(), other=st.integers(0, N_ACTIVE - 1))
    def accept(self, invitation: tuple[uuid.UUID, uuid.UUID], by_invitee: bool, other: int) -> None:
        org_id, invitation_id = invitation
        m = self.model[org_id]
        inv = m.invitations[invitation_id]
        accepter = inv.invitee if by_invitee and inv.invitee < N_ACTIVE else other
        self.step()
        caller = SimpleNamespace(user_id=self.uid(accepter))

        async def go() -> Outcome:
            try:
                async with self.db.begin_nested():
                    await invitations_service.accept_by_token(
                        self.db,
                        principal=caller,
                        token=inv.token,
                        now=self.clock.now(),  # type: ignore[arg-type]
                    )
            except AppError as error:
                return (error.status, error.code)
            return None

        outcome = self.env.run(go())
        expected: Outcome = (
            (403, "invitation_email_mismatch")
            if accepter != inv.invitee
            else (409, "invitation_not_pending")
            if not inv.pending(self.clock.now())
            else (404, "organization_not_found")
            if m.archived
            else (403, "organization_suspended")
            if m.suspended
            else (409, "organization_inactive")
            if m.deactivated
            else (409, "already_member")
            if accepter in m.members
            else None
        )
        assert outcome == expected, ("accept", accepter, inv, m.status, outcome, expected)
        if expected is None:
            inv.answered = True
            m.members.add(accepter)
            if inv.role == "admin":
                m.admins.add(accepter)
            m.record(self.clock.now())

    @rule(invitation=invitations, actor=actors)
    def revoke_invitation(self, invitation: tuple[uuid.UUID, uuid.UUID], actor: int) -> None:
        org_id, invitation_id = invitation
        self.step()
        outcome = self.call(
            org_id, actor, lambda ctx: invitations_service.revoke(self.db, ctx, invitation_id=invitation_id)
        )
        inv = self.model[org_id].invitations[invitation_id]
        conflict = None if inv.pending(self.clock.now()) else (409, "invitation_not_pending")
        if self.expect(org_id, actor, "revoke_invitation", {"admin", "owner"}, outcome, conflict):
            inv.answered = True

    @precondition(lambda self: any(org.invitations for org in self.model.values()))
    @rule()
    def a_week_passes(self) -> None:
        """Pending invitations expire (and never add anyone afterwards)."""
        self.clock.advance(days=INVITATION_DAYS)

    @rule(org=orgs, back=st.integers(0, 40), between=st.booleans())
    def as_of_agrees_with_the_past(self, org: uuid.UUID, back: int, between: bool) -> None:
        instant = self.clock.now() - timedelta(seconds=back, milliseconds=500 if between else 0)
        expected = self.model[org].at(instant)

        async def read(ctx: Any) -> tuple[Any, Any, uuid.UUID | None]:
            members = await roster.list_members(self.db, ctx, as_of=instant, limit=100)
            admins = await roster.list_admins(self.db, ctx, as_of=instant, limit=100)
            try:
                owner: uuid.UUID | None = (await roster.get_owner(self.db, ctx, as_of=instant)).user_id
            except OwnerNotFound:
                owner = None
            return members, admins, owner

        members, admins, owner = self.operator_read(org, read)
        if expected is None:
            assert (members.items, admins.items, owner) == ([], [], None)
            return
        e_members, e_admins, e_owner = expected
        assert owner == self.uid(e_owner)
        assert {m.user_id: m.role for m in members.items} == {
            self.uid(u): ("owner" if u == e_owner else "admin" if u in e_admins else "member") for u in e_members
        }
        assert {a.user_id for a in admins.items} == {self.uid(u) for u in e_admins}

    # ----------------------------------------------------------------------------- invariants

    @invariant()
    def current_state_agrees_and_invariants_hold(self) -> None:
        for org_id, m in self.model.items():
            assert m.owner in m.members and m.owner in m.admins and m.admins <= m.members

            async def read(ctx: Any) -> tuple[Any, Any, Any, Any]:
                return (
                    await service.get_organization(self.db, ctx),
                    (await roster.list_members(self.db, ctx, limit=100)).items,
                    (await roster.list_admins(self.db, ctx, limit=100)).items,
                    await roster.get_owner(self.db, ctx),
                )

            state, members, admins, owner = self.operator_read(org_id, read)
            member_ids = {x.user_id for x in members}
            admin_ids = {x.user_id for x in admins}
            # the database's own invariants, whatever the model says
            assert [x.role for x in members].count("owner") == 1
            assert owner.user_id in member_ids and owner.user_id in admin_ids and admin_ids <= member_ids
            # and the model's
            assert state.status == m.status
            assert owner.user_id == self.uid(m.owner)
            assert member_ids == {self.uid(u) for u in m.members}
            assert admin_ids == {self.uid(u) for u in m.admins}


@pytest.mark.concurrency
def test_the_service_agrees_with_the_model(cluster) -> None:
    name = f"tenancy_s_{uuid.uuid4().hex[:12]}"
    with asyncio.Runner() as runner:
        url = runner.run(cluster.clone(name))
        engine = make_engine(url, pool_size=1)
        try:

            async def seed() -> list[uuid.UUID]:
                async with AsyncSession(engine, expire_on_commit=False) as db, db.begin():
                    users = [await create_user(db, now=START - timedelta(days=1)) for _ in range(N_ACTIVE)]
                    users.append(await create_user(db, now=START - timedelta(days=1), platform_admin=True))
                    users.append(await create_user(db, now=START - timedelta(days=1), status="deactivated"))
                    return users

            from conftest import make_settings

            OrgLifecycle.env = Env(runner=runner, engine=engine, users=runner.run(seed()), settings=make_settings(url))
            run_state_machine_as_test(
                OrgLifecycle,
                settings=settings(
                    max_examples=25, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
                ),
            )
        finally:
            runner.run(engine.dispose())
            runner.run(cluster.drop(name))
