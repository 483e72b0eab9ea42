"""A handler's work on one open case: answering, internal notes, status
changes with their outcome (and the draft story of a removed obstacle,
stories.py), and downloads. Every step is put in the audit log here, so views cannot
forget it."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from config import Settings

from .. import audit
from ..domain.taxonomy import AUTHOR_HANDLER, HANDLER_KINDS, KIND_FEEDBACK, OBSTACLE, OUTCOME_REMOVED, STATUS_CLOSED
from ..models import Note, PublishedSummary, Report, User, new_id
from . import dialogue, sealing, stories, workflow
from .access import OpenCase


def reply(db: Session, settings: Settings, user: User, case: OpenCase, kind: str, body: str, uploads) -> None:
    if kind not in HANDLER_KINDS:
        raise ValueError(kind)
    report, dek = case.report, case.dek
    message = dialogue.post_message(db, report, dek, author=AUTHOR_HANDLER, kind=kind, body=body,
                                    author_user_id=user.id, uploads=uploads,
                                    allowed_types=settings.allowed_upload_types)
    if kind == KIND_FEEDBACK and report.feedback_on is None:
        report.feedback_on = message.sent_on
    audit.record(db, f"case.{kind}", actor_user_id=user.id, target_type="report", target_id=report.id,
                 files=len(uploads))


def add_note(db: Session, user: User, case: OpenCase, body: str) -> Note:
    note = Note(id=new_id(), report_id=case.report.id, author_user_id=user.id)
    note.body_ct = sealing.seal_note(case.dek, body, report_id=case.report.id, note_id=note.id)
    db.add(note)
    db.flush()
    audit.record(db, "case.note", actor_user_id=user.id, target_type="report", target_id=case.report.id)
    return note


def change_status(db: Session, user: User, case: OpenCase, target: str) -> None:
    """Acknowledge, start work, or reopen a closed case (closing goes through `close`)."""
    workflow.transition(db, case.report, case.dek, target, actor_user_id=user.id)


def close(db: Session, user: User, case: OpenCase, outcome: str, *, hours_saved: int | None = None,
          story: stories.StoryText | None = None, on: dt.date | None = None) -> PublishedSummary | None:
    """on: the day of the closing (today unless a demo or test says otherwise)."""
    report = case.report
    workflow.transition(db, report, case.dek, STATUS_CLOSED, outcome=outcome, actor_user_id=user.id, on=on)
    if report.track != OBSTACLE or outcome != OUTCOME_REMOVED:
        return None
    report.hours_saved_per_year = hours_saved
    return stories.draft_story(db, user, report, story) if story else None


def audit_download(db: Session, user: User, report: Report, attachment_id: str) -> None:
    audit.record(db, "case.download", actor_user_id=user.id, target_type="report", target_id=report.id,
                 attachment_id=attachment_id)
