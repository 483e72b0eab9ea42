"""Giving handlers the key of a case: pending grants for newcomers to a
channel, fulfilled by any current key holder at sign-in or in a batch with
the offline escrow key (CLI), and handing a case to a colleague. Keys are
re-wrapped only for channel handlers the reporter did not exclude (checked in
`_may_receive` and nowhere else), and only once they have signed in: before
that their key pair is the one made with the password their creator chose
(`User.holds_own_keys`), so their grants wait."""
from __future__ import annotations

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from .. import audit
from ..models import Channel, Exclusion, KeyGrant, Membership, Report, ReportKey, User
from ..organisation.channels import channel_handlers
from . import keys

BATCH_AT_SIGN_IN = 500


class GrantRefused(Exception):
    """The target may not read this case (not in the channel, excluded, not a handler)."""


def _may_receive(db: Session, report: Report, user: User) -> bool:
    if not (user.is_handler and user.active):
        return False
    member = db.get(Membership, (report.channel_id, user.id)) is not None
    excluded = db.get(Exclusion, (report.id, user.id)) is not None
    return member and not excluded


def add_member(db: Session, channel: Channel, user: User, *, actor_user_id: str | None = None) -> int:
    """Add a handler to a channel and queue a grant for every case of the channel
    they may read but hold no key for. Returns how many were queued."""
    if db.get(Membership, (channel.id, user.id)) is None:
        db.add(Membership(channel_id=channel.id, user_id=user.id))
        db.flush()
    audit.record(db, "channel.member_added", actor_user_id=actor_user_id, target_type="channel",
                 target_id=channel.id, user_id=user.id)
    if not user.is_handler:
        return 0
    has_key = exists().where(ReportKey.report_id == Report.id, ReportKey.user_id == user.id)
    excluded = exists().where(Exclusion.report_id == Report.id, Exclusion.user_id == user.id)
    queued = exists().where(KeyGrant.report_id == Report.id, KeyGrant.user_id == user.id)
    report_ids = list(db.scalars(select(Report.id).where(Report.channel_id == channel.id, ~has_key, ~excluded,
                                                         ~queued)))
    db.add_all(KeyGrant(report_id=rid, user_id=user.id) for rid in report_ids)
    db.flush()
    return len(report_ids)


def fulfil_pending(db: Session, holder: User, private_key: bytes, *, limit: int = BATCH_AT_SIGN_IN) -> int:
    """Re-wrap, for waiting colleagues, the keys of cases `holder` can open."""
    pending = db.execute(
        select(KeyGrant, Report)
        .join(Report, Report.id == KeyGrant.report_id)
        .join(ReportKey, (ReportKey.report_id == KeyGrant.report_id) & (ReportKey.user_id == holder.id))
        .join(User, User.id == KeyGrant.user_id)
        .where(User.holds_own_keys)  # the others wait for their first sign-in
        .limit(limit)
    ).all()
    done = 0
    for grant, report in pending:
        target = db.get(User, grant.user_id)
        if target is None or not _may_receive(db, report, target):
            db.delete(grant)
            continue
        dek = keys.unwrap_for_handler(db, report, holder, private_key)
        keys.grant_key(db, report, dek, target)
        db.delete(grant)
        audit.record(db, "case.key_granted", actor_user_id=holder.id, target_type="report",
                     target_id=report.id, user_id=target.id)
        done += 1
    db.flush()
    return done


def fulfil_with_escrow(db: Session, escrow_private_key: bytes) -> tuple[int, int]:
    """Re-wrap, with the escrow key, the keys of every case a colleague waits
    for. Returns (granted, left): left are grants for handlers who have not
    signed in yet, and of reports submitted before an escrow key was
    configured or wrapped for another one (those wait for a key holder)."""
    granted = left = 0
    for grant, report in db.execute(select(KeyGrant, Report).join(Report, Report.id == KeyGrant.report_id)).all():
        target = db.get(User, grant.user_id)
        if target is None or not _may_receive(db, report, target):
            db.delete(grant)
            continue
        dek = keys.unwrap_with_escrow(report, escrow_private_key) if target.holds_own_keys else None
        if dek is None:
            left += 1
            continue
        keys.grant_key(db, report, dek, target)
        db.delete(grant)
        audit.record(db, "case.key_granted", target_type="report", target_id=report.id, user_id=target.id,
                     via="escrow")
        granted += 1
    db.flush()
    return granted, left


def colleagues_without_key(db: Session, report: Report) -> list[User]:
    """Handlers of the case's channel who may read it but hold no key yet."""
    users = channel_handlers(db, report.channel_id)
    holders = set(db.scalars(select(ReportKey.user_id).where(ReportKey.report_id == report.id)))
    return [u for u in users if u.id not in holders and u.holds_own_keys and _may_receive(db, report, u)]


def give_access(db: Session, report: Report, holder: User, dek: bytes, target: User) -> None:
    if not (_may_receive(db, report, target) and target.holds_own_keys):
        raise GrantRefused()
    keys.grant_key(db, report, dek, target)
    db.execute(delete(KeyGrant).where(KeyGrant.report_id == report.id, KeyGrant.user_id == target.id))
    audit.record(db, "case.handed", actor_user_id=holder.id, target_type="report", target_id=report.id,
                 user_id=target.id)
    db.flush()
