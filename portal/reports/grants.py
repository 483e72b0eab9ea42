"""Giving handlers the key of a case, only ever with a current key holder's
consent (or the offline escrow key's, through the CLI).

A handler added to a channel gets a pending grant for each of its cases; a
colleague who holds those keys sees who asks, who added them and how many
cases, and approves (the keys are re-wrapped) or refuses (they keep
waiting). Nothing happens by itself at a sign-in. A key is re-wrapped only
for a handler of the case's channel whom the reporter did not exclude and
whose current key the trust anchor vouches for (`may_receive`, the one place
that decides it); exclusions always win, whoever approves.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.orm import Session

from config import Settings
from crypto import anchor

from .. import audit
from ..domain.taxonomy import STATUS_CLOSED
from ..models import Channel, Exclusion, KeyGrant, Membership, Report, ReportKey, User
from ..models.base import begin_writing, today
from ..organisation.channels import channel_handlers
from ..trust.statements import is_anchored
from . import keys, manifest


class GrantRefused(Exception):
    """The target may not read this case (not in the channel, excluded, not trusted)."""


def may_receive(db: Session, settings: Settings, report: Report, dek: bytes, user: User) -> bool:
    """Decided by the channel and exclusions sealed with the report (the rows
    saying the same could be changed by a database writer) and the anchor."""
    if not (user.is_handler and user.active):
        return False
    try:
        channel_id, excluded = manifest.routing(report, dek)
    except manifest.ManifestBroken:
        return False
    member = db.get(Membership, (channel_id, user.id)) is not None
    return member and user.id not in excluded and is_anchored(db, settings, user, channel_id)


def add_member(db: Session, channel: Channel, user: User, *, actor_user_id: str | None = None) -> int:
    """Add a handler to a channel and queue a grant for every case of the
    channel they may read but hold no key for. Returns how many were queued.
    The grants wait for a key holder's approval."""
    if db.get(Membership, (channel.id, user.id)) is None:
        db.add(Membership(channel_id=channel.id, user_id=user.id))
        db.flush()
    report_ids = []
    if user.is_handler:
        has_key = exists().where(ReportKey.report_id == Report.id, ReportKey.user_id == user.id)
        excluded = exists().where(Exclusion.report_id == Report.id, Exclusion.user_id == user.id)
        queued = exists().where(KeyGrant.report_id == Report.id, KeyGrant.user_id == user.id)
        found = db.execute(select(Report.id, Report.status).where(Report.channel_id == channel.id, ~has_key,
                                                                   ~excluded, ~queued)).all()
        report_ids = [rid for rid, _status in found]
        db.add_all(KeyGrant(report_id=rid, user_id=user.id, requested_by=actor_user_id,
                            case_open=status != STATUS_CLOSED) for rid, status in found)
        db.flush()
    audit.record(db, "channel.member_added", actor_user_id=actor_user_id, target_type="channel",
                 target_id=channel.id, user_id=user.id, grants_requested=len(report_ids))
    return len(report_ids)


@dataclass(frozen=True)
class Request:
    """What a key holder is asked: give `target` the keys of `cases` cases."""

    target: User
    requested_by: User | None  # None: the CLI, or a report sent before the key was signed
    cases: int
    trusted: bool  # the anchor vouches for the target's key in those cases' channels
    fingerprint: str  # of the key that would receive them, to compare with the colleague's own


def _askable(holder: User):
    """Grants whose case `holder` holds the key of, and has not refused.
    EXISTS rather than a join: the grants (usually few) are read and the
    holder's key looked up for each, not all the holder's keys (every case
    of the inbox) read on every staff page (the menu's count)."""
    return (select(KeyGrant)
            .where(KeyGrant.user_id != holder.id,
                   or_(KeyGrant.refused_by.is_(None), KeyGrant.refused_by != holder.id),
                   exists().where(ReportKey.report_id == KeyGrant.report_id, ReportKey.user_id == holder.id)))


def requests_for(db: Session, settings: Settings, holder: User) -> list[Request]:
    """The colleagues waiting for keys `holder` could give, one entry per colleague."""
    askable = _askable(holder).subquery()
    counts = db.execute(select(askable.c.user_id, func.count()).group_by(askable.c.user_id)).all()
    found = []
    for user_id, count in counts:
        target = db.get(User, user_id)
        if target is None:
            continue
        asker_id = db.scalar(_askable(holder).where(KeyGrant.user_id == user_id)
                             .with_only_columns(KeyGrant.requested_by).limit(1))
        channels = set(db.scalars(select(Membership.channel_id).where(Membership.user_id == user_id)))
        trusted = bool(channels) and all(is_anchored(db, settings, target, c) for c in channels)
        found.append(Request(target, db.get(User, asker_id) if asker_id else None, count, trusted,
                             anchor.fingerprint(bytes(target.public_key))))
    return sorted(found, key=lambda r: (r.target.display_name, r.target.id))


def request_count(db: Session, holder: User) -> int:
    """How many colleagues wait for keys `holder` holds (for the staff menu)."""
    askable = _askable(holder).subquery()
    return db.scalar(select(func.count(func.distinct(askable.c.user_id)))) or 0


def approve(db: Session, settings: Settings, holder: User, private_key: bytes, target: User) -> int:
    """Re-wrap for `target` every waiting case key `holder` holds and `target`
    may receive. Returns how many; grants the target may not receive stay
    (untrusted key) or go (excluded, or no longer in the channel)."""
    done = 0
    # The grants are locked first, in one order, before any audit lane: a
    # colleague closing one of the cases (its flush updates the grant) then
    # waits for this approval instead of holding the grant while waiting
    # for the lane this one holds, and a second holder approving the same
    # colleague waits and then finds the grants gone (re-review findings).
    # (On SQLite, whose FOR UPDATE does nothing, by taking the write lock before reading.)
    begin_writing(db)
    asked = _askable(holder).where(KeyGrant.user_id == target.id).order_by(KeyGrant.report_id)
    for grant in list(db.scalars(asked.with_for_update(of=KeyGrant))):
        report = db.get(Report, grant.report_id)
        if report is None:  # a row written past the foreign keys: nothing to give
            continue
        try:
            dek = keys.unwrap_for_handler(db, report, holder, private_key)
        except keys.AccessDenied:
            continue  # the holder's own wrap does not open: nothing to give
        if not may_receive(db, settings, report, dek, target):
            if _never_receives(db, report, dek, target):
                db.delete(grant)
            continue
        keys.grant_key(db, report, dek, target)
        audit.record(db, "case.key_granted", actor_user_id=holder.id, target_type="report", target_id=report.id,
                     user_id=target.id, requested_by=grant.requested_by)
        db.delete(grant)
        done += 1
    db.flush()
    return done


def refuse(db: Session, holder: User, target: User) -> int:
    """Leave `target` waiting: `holder` is not asked again, other holders still are."""
    refused = list(db.scalars(_askable(holder).where(KeyGrant.user_id == target.id)))
    for grant in refused:
        grant.refused_by, grant.refused_on = holder.id, today()
    audit.record(db, "grant.refused", actor_user_id=holder.id, target_type="user", target_id=target.id,
                 cases=len(refused))
    db.flush()
    return len(refused)


def _never_receives(db: Session, report: Report, dek: bytes, user: User) -> bool:
    """Excluded by the reporter, or no longer a handler of the channel: the grant can go."""
    try:
        channel_id, excluded = manifest.routing(report, dek)
    except manifest.ManifestBroken:
        return False  # keep it: the case is flagged, a person decides
    member = db.get(Membership, (channel_id, user.id)) is not None
    return user.id in excluded or not member or not (user.is_handler and user.active)


def fulfil_with_escrow(db: Session, settings: Settings, escrow_private_key: bytes) -> tuple[int, int]:
    """Re-wrap, with the escrow key, the keys of every case a colleague waits
    for. Returns (granted, left): left are grants for handlers whose key the
    anchor does not vouch for yet, and of reports submitted before an escrow
    key was configured or wrapped for another one (those wait for a holder)."""
    granted = left = 0
    for grant, report in db.execute(select(KeyGrant, Report).join(Report, Report.id == KeyGrant.report_id)).all():
        target = db.get(User, grant.user_id)
        dek = keys.unwrap_with_escrow(report, escrow_private_key)
        if target is None or (dek is not None and _never_receives(db, report, dek, target)):
            db.delete(grant)
            continue
        if dek is None or not may_receive(db, settings, report, dek, target):
            left += 1
            continue
        keys.grant_key(db, report, dek, target)
        db.delete(grant)
        audit.record(db, "case.key_granted", target_type="report", target_id=report.id, user_id=target.id,
                     via="escrow", requested_by=grant.requested_by)
        granted += 1
    db.flush()
    return granted, left


def colleagues_without_key(db: Session, settings: Settings, report: Report, dek: bytes) -> list[User]:
    """Handlers of the case's channel who may read it but hold no key yet."""
    users = channel_handlers(db, report.channel_id)
    holders = set(db.scalars(select(ReportKey.user_id).where(ReportKey.report_id == report.id)))
    return [u for u in users if u.id not in holders and may_receive(db, settings, report, dek, u)]


def give_access(db: Session, settings: Settings, report: Report, holder: User, dek: bytes, target: User) -> None:
    if not may_receive(db, settings, report, dek, target):
        raise GrantRefused()
    keys.grant_key(db, report, dek, target)
    db.execute(delete(KeyGrant).where(KeyGrant.report_id == report.id, KeyGrant.user_id == target.id))
    audit.record(db, "case.handed", actor_user_id=holder.id, target_type="report", target_id=report.id,
                 user_id=target.id)
    db.flush()


def key_holders(db: Session, report: Report) -> list[User]:
    """Who holds the key of `report` (shown to the reporter: who can read it)."""
    return list(db.scalars(select(User).join(ReportKey, ReportKey.user_id == User.id)
                           .where(ReportKey.report_id == report.id).order_by(User.display_name, User.id)))
