"""Retention: a closed case whose channel's period has run out is deleted by
crypto-shredding. Every wrapped copy of its key goes (handlers', escrow's, the
reporter's), and with them every ciphertext: answers, manifest, dialogue,
notes, files and their chunks, and the grants and exclusions that name
staff. The report row stays as a tombstone of clear statistical fields
(track, category, unit, dates, outcome...) and its status events, so the
statistics still count the case; it leaves its channel (channel_id NULL),
so that everything read by channel passes it by; an approved story keeps
its text but loses its link to the case, and unpublished drafts go.

Each case is claimed and shredded in one transaction of its own: the claim
is an UPDATE that only succeeds while purged_on is NULL, so several nodes
running the job at once shred each case exactly once.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from .. import audit
from ..domain import retention
from ..domain.taxonomy import STATUS_CLOSED, STATUSES
from ..models import (
    Answer,
    AuditEvent,
    Attachment,
    AttachmentChunk,
    Channel,
    Exclusion,
    KeyGrant,
    Message,
    Note,
    PublishedSummary,
    Report,
    ReportKey,
    StatusEvent,
)
from ..models import case_counts
from ..models.stats import SUMMARY_APPROVED


STATUS_ACTIONS = tuple(f"case.{status}" for status in STATUSES)


@dataclass(frozen=True)
class Expired:
    report_id: str
    closed_on: dt.date
    expired_on: dt.date
    proven: bool  # the audit log vouches for the closing and its day (closing_proven)


def closing_proven(db: Session, report_id: str, closed_on: dt.date) -> bool:
    """Whether the case's last status step in the audit log is its closing,
    on `closed_on`, with a MAC the log's key (never in the database) vouches
    for. Review finding: a database writer set an open case's status to
    closed and its date back, and the purge shredded it as routine. Such a
    case is left alone (and the purge says so)."""
    events = list(db.scalars(select(AuditEvent).where(
        AuditEvent.target_type == "report", AuditEvent.target_id == report_id)
        .order_by(AuditEvent.at, AuditEvent.lane, AuditEvent.seq)))
    # Every event of the case authentic (a moved or relabelled one is not),
    # and one status step logged for each on its timeline but the first
    # (the submission, which is the reporter's and not logged): a deleted
    # reopening shows as one too few (second review).
    if not all(audit.authentic(db, event) for event in events):
        return False
    steps = [event for event in events if event.action in STATUS_ACTIONS]
    timeline = db.scalar(select(func.count()).select_from(StatusEvent).where(StatusEvent.report_id == report_id))
    if not steps or len(steps) != timeline - 1:
        return False
    last = steps[-1]
    if last.action != f"case.{STATUS_CLOSED}":
        return False
    try:
        on = json.loads(last.detail).get("on")
    except (ValueError, AttributeError):
        return False
    # Closings logged before the day was recorded: the day of the event.
    return on == closed_on.isoformat() if on else last.at.date() == closed_on


def expired(db: Session, today: dt.date) -> list[Expired]:
    """Closed, not yet purged cases whose retention has run out by `today`;
    `proven` says whether the audit log vouches for the closing."""
    rows = db.execute(
        select(Report.id, Report.closed_on, Channel.track, Channel.retention_months)
        .join(Channel, Channel.id == Report.channel_id)
        .where(Report.status == STATUS_CLOSED, Report.closed_on.is_not(None), Report.purged_on.is_(None))
        .order_by(Report.closed_on, Report.id))
    found = []
    for report_id, closed_on, track, months in rows:
        ends = retention.expires_on(closed_on, track, months)
        if ends <= today:
            found.append(Expired(report_id, closed_on, ends, closing_proven(db, report_id, closed_on)))
    return found


def _claim(db: Session, report_id: str, today: dt.date) -> bool:
    """Take the case for this run, and destroy the keys and ciphertext held
    in its own row; False if another run has it (or it is no longer closed)."""
    claimed = db.execute(
        update(Report)
        .where(Report.id == report_id, Report.purged_on.is_(None), Report.status == STATUS_CLOSED)
        # Out of its channel too: every query by channel then leaves it out.
        .values(purged_on=today, channel_id=None, reporter_wrapped_key=b"", receipt_salt=b"",
                escrow_wrapped_key=None, manifest_ct=None, dialogue_head=None, dialogue_count=None, timeline_head=None,
                timeline_count=None, publish_consent=False)
        .execution_options(synchronize_session=False))
    return claimed.rowcount == 1


def shred(db: Session, report_id: str, today: dt.date) -> bool:
    """Purge one case in the caller's transaction; False if it was not ours to purge."""
    place = db.execute(select(Report.channel_id, Report.track).where(Report.id == report_id)).first()
    excluding = list(db.scalars(select(Exclusion.user_id).where(Exclusion.report_id == report_id)))
    if not _claim(db, report_id, today):
        return False
    if place is not None:  # the claim and the deletes below work in bulk: the counts are told here
        case_counts.purge(db.connection(), place.channel_id, place.track, excluding)
    attachments = select(Attachment.id).where(Attachment.report_id == report_id)
    for statement in (
        delete(AttachmentChunk).where(AttachmentChunk.attachment_id.in_(attachments)),
        delete(Attachment).where(Attachment.report_id == report_id),
        delete(Message).where(Message.report_id == report_id),
        delete(Answer).where(Answer.report_id == report_id),
        delete(Note).where(Note.report_id == report_id),
        delete(ReportKey).where(ReportKey.report_id == report_id),
        delete(KeyGrant).where(KeyGrant.report_id == report_id),
        delete(Exclusion).where(Exclusion.report_id == report_id),
        delete(PublishedSummary).where(PublishedSummary.report_id == report_id,
                                       PublishedSummary.status != SUMMARY_APPROVED),
        update(PublishedSummary).where(PublishedSummary.report_id == report_id).values(report_id=None),
        # The timeline stays for the statistics; its MACs and who acted go.
        update(StatusEvent).where(StatusEvent.report_id == report_id).values(chain_mac=None, actor_user_id=None),
    ):
        db.execute(statement.execution_options(synchronize_session=False))
    audit.record(db, "case.purge", target_type="report", target_id=report_id)
    return True
