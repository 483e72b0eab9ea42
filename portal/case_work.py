"""A handler's work on one case: opening it (visibility and key), reading it,
answering, notes, status changes with outcome, and the draft public summary.
Every step is put in the audit log here, so views cannot forget it."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import attachment_store, audit, case_reading, casefile, grants, inbox, workflow
from .domain.taxonomy import AUTHOR_HANDLER, OBSTACLE, STATUS_CLOSED
from .models import AuditEvent, Note, PublishedSummary, Report, User
from .models.base import today
from .domain.sanitize import clean_story_html

HANDLER_KINDS = ("message", "feedback", "minutes")


class NotVisible(Exception):
    """The case does not exist for this handler (outside their channels or excluded)."""


class NoKey(Exception):
    """Visible, but no key has been granted to this handler yet."""


@dataclass(frozen=True)
class OpenCase:
    report: Report
    dek: bytes = field(repr=False)


def find(db: Session, user: User, report_id: str) -> Report:
    report = inbox.visible_report(db, user, report_id)
    if report is None:
        raise NotVisible()
    return report


def open_case(db: Session, user: User, private_key: bytes, report_id: str) -> OpenCase:
    report = find(db, user, report_id)
    try:
        dek = casefile.open_for_handler(db, report, user, private_key)
    except casefile.AccessDenied:
        raise NoKey() from None
    return OpenCase(report, dek)


@dataclass
class HandlerCase:
    report: Report
    answers: list
    report_files: list
    messages: list
    notes: list
    events: list
    audit_trail: list
    colleagues: list
    authors: dict


def read(db: Session, user: User, case: OpenCase) -> HandlerCase:
    report, dek = case.report, case.dek
    files = case_reading.files_by_message(db, report, dek)
    messages = case_reading.dialogue(db, report, dek, files, side=case_reading.HANDLER_SIDE)
    notes = [{"author_user_id": n.author_user_id, "created_at": n.created_at,
              "body": casefile.read_note(report, dek, n)}
             for n in db.scalars(select(Note).where(Note.report_id == report.id).order_by(Note.created_at))]
    trail = list(db.scalars(select(AuditEvent).where(AuditEvent.target_type == "report",
                                                     AuditEvent.target_id == report.id).order_by(AuditEvent.seq)))
    author_ids = {m.author_user_id for m in messages} | {n["author_user_id"] for n in notes} | \
        {e.actor_user_id for e in trail} | {e.actor_user_id for e in report.events}
    authors = {u.id: u.display_name for u in db.scalars(select(User).where(User.id.in_(author_ids - {None})))}
    audit.record(db, "case.view", actor_user_id=user.id, target_type="report", target_id=report.id)
    return HandlerCase(report, case_reading.answers(report, dek), files.get(None, []), messages, notes,
                       list(report.events), trail, grants.colleagues_without_key(db, report), authors)


def reply(db: Session, settings, user: User, case: OpenCase, kind: str, body: str, uploads) -> None:
    if kind not in HANDLER_KINDS:
        raise ValueError(kind)
    report, dek = case.report, case.dek
    message = casefile.post_message(db, report, dek, author=AUTHOR_HANDLER, kind=kind, body=body,
                                    author_user_id=user.id)
    for upload in uploads:
        attachment_store.store_attachment(db, report, dek, upload, message_id=message.id,
                                          allowed_types=settings.allowed_upload_types)
    if kind == "feedback" and report.feedback_on is None:
        report.feedback_on = message.sent_on
    audit.record(db, f"case.{kind}", actor_user_id=user.id, target_type="report", target_id=report.id,
                 files=len(uploads))


def add_note(db: Session, user: User, case: OpenCase, body: str) -> None:
    casefile.add_note(db, case.report, case.dek, author_user_id=user.id, body=body)
    audit.record(db, "case.note", actor_user_id=user.id, target_type="report", target_id=case.report.id)


def change_status(db: Session, user: User, report: Report, target: str) -> None:
    """Acknowledge, start work, or reopen a closed case (closing goes through `close`)."""
    workflow.transition(db, report, target, actor_user_id=user.id)


def close(db: Session, user: User, report: Report, outcome: str, *, hours_saved: int | None = None,
          summary_title: str = "", summary_body: str = "") -> PublishedSummary | None:
    workflow.transition(db, report, STATUS_CLOSED, outcome=outcome, actor_user_id=user.id)
    if report.track != OBSTACLE or outcome != "removed":
        return None
    report.hours_saved_per_year = hours_saved
    if not (report.publish_consent and summary_title.strip() and summary_body.strip()):
        return None
    # The draft keeps only clear fields and the handler's own sanitised words;
    # a second person approves it before the insights page shows it.
    summary = PublishedSummary(
        report_id=report.id, category=report.category, chain_level=report.chain_level,
        principle=report.principle, quarter=quarter_of(report.closed_on or today()),
        title=summary_title.strip(), body_html=clean_story_html(summary_body),
        hours_saved_per_year=hours_saved, written_by=user.id)
    db.add(summary)
    db.flush()
    audit.record(db, "summary.draft", actor_user_id=user.id, target_type="report", target_id=report.id)
    return summary


def quarter_of(day) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def audit_download(db: Session, user: User, report: Report, attachment_id: str) -> None:
    audit.record(db, "case.download", actor_user_id=user.id, target_type="report", target_id=report.id,
                 attachment_id=attachment_id)
