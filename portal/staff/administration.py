"""An administrator's changes to staff accounts: roles, and deactivation.

Deactivating destroys what let the person read cases: the report keys
wrapped for them, their waiting grants and their sessions. A key to a case
nobody else can open, and the escrow key does not cover, is kept (unusable
while the account is off): destroying it would lose the case for good, and
one administrator could so bury a case (review finding); reactivating the
account lets the person share it. Cases only they held a key to but escrow
covers stay readable through the escrow key (`grant-pending` for a
colleague added to the channel): `sole_holder_cases` says how many before
the change is confirmed. An administrator never becomes a reader by
any of this: roles give no keys, and keys come from a holder or escrow.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, exists, func, select, text
from sqlalchemy.orm import Session, aliased

from .. import audit
from .accounts import check_display_name
from ..domain.taxonomy import ROLE_ADMIN, ROLE_HANDLER, ROLE_VIEWER, ROLES
from ..models import KeyGrant, Report, ReportKey, ServerSession, User


class LastAdmin(ValueError):
    """The change would leave the organisation without an active admin."""


@dataclass(frozen=True)
class SoleHolder:
    cases: int  # open or closed cases, not purged, that only this person holds a key to
    with_escrow: int  # of those, how many the escrow key can still open


def sole_holder_cases(db: Session, user: User) -> SoleHolder:
    other_key, other_user = aliased(ReportKey), aliased(User)
    someone_else = exists().where(other_key.report_id == ReportKey.report_id, other_key.user_id != user.id,
                                  other_user.id == other_key.user_id, other_user.active, other_user.is_handler)
    rows = db.execute(
        select(func.count(), func.count(Report.escrow_wrapped_key))
        .select_from(ReportKey).join(Report, Report.id == ReportKey.report_id)
        .where(ReportKey.user_id == user.id, Report.purged_on.is_(None), ~someone_else)).one()
    return SoleHolder(rows[0], rows[1])


# Any number, the same for every node: the advisory lock's name.
KEY_CHANGES_LOCK = 0x7117_0001


def _one_at_a_time(db: Session) -> None:
    """Changes that destroy keys run one after another. Second review: two
    deactivations at once on PostgreSQL each counted the other person as
    the case's remaining holder, and both keys went. A transaction-level
    advisory lock, taken before anything is read, makes the second wait
    for the first's commit; its statements then see it (READ COMMITTED).
    SQLite lets one writer in at a time already."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": KEY_CHANGES_LOCK})


def _active_admins(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User).where(User.is_admin, User.active))


def set_roles(db: Session, actor: User, user: User, roles: set[str]) -> None:
    """Handler, admin, viewer, in any combination (at least one). Taking the
    handler role away destroys the person's case keys, as deactivating does."""
    if not roles or not roles <= set(ROLES):
        raise ValueError(roles)
    _one_at_a_time(db)
    if user.is_admin and ROLE_ADMIN not in roles and user.active and _active_admins(db) <= 1:
        raise LastAdmin()
    before = sorted(user.roles)
    was_handler = user.is_handler
    user.is_handler, user.is_admin, user.is_viewer = (ROLE_HANDLER in roles, ROLE_ADMIN in roles,
                                                       ROLE_VIEWER in roles)
    keys_destroyed = _destroy_keys(db, user) if was_handler and not user.is_handler else 0
    audit.record(db, "user.roles", actor_user_id=actor.id, target_type="user", target_id=user.id,
                 before=before, after=sorted(roles), keys_destroyed=keys_destroyed)


def _destroy_keys(db: Session, user: User) -> int:
    """The person's keys to cases someone else can still open (an active
    handler's key, or escrow), and their grants; the rest are kept."""
    other_key, other_user = aliased(ReportKey), aliased(User)
    replaceable = select(Report.id).where(Report.escrow_wrapped_key.is_not(None)).union(
        select(other_key.report_id).join(other_user, other_user.id == other_key.user_id)
        .where(other_key.user_id != user.id, other_user.active, other_user.is_handler))
    keys = db.execute(delete(ReportKey).where(ReportKey.user_id == user.id, ReportKey.report_id.in_(replaceable))
                      .execution_options(synchronize_session=False)).rowcount
    db.execute(delete(KeyGrant).where(KeyGrant.user_id == user.id).execution_options(synchronize_session=False))
    return keys


def deactivate(db: Session, actor: User, user: User) -> int:
    """Switch the account off and destroy its case keys, grants and sessions; returns the keys destroyed."""
    _one_at_a_time(db)
    if user.is_admin and user.active and _active_admins(db) <= 1:
        raise LastAdmin()
    user.active = False
    keys_destroyed = _destroy_keys(db, user)
    db.execute(delete(ServerSession).where(ServerSession.user_id == user.id)
               .execution_options(synchronize_session=False))
    db.flush()
    audit.record(db, "user.deactivate", actor_user_id=actor.id, target_type="user", target_id=user.id,
                 keys_destroyed=keys_destroyed)
    return keys_destroyed


def reactivate(db: Session, actor: User, user: User) -> None:
    """The account may sign in again, with the keys it kept (none to cases
    others could open: those went at deactivation). DisplayNameRefused if
    an active account has a name it would pass for."""
    check_display_name(db, user.display_name, user.id, active_only=True)
    user.active = True
    db.flush()
    audit.record(db, "user.reactivate", actor_user_id=actor.id, target_type="user", target_id=user.id)
