"""Reading a case back: the reporter's page and the handler's page, with the
answers, the dialogue and its files. Which side reads decides the read
markers and what is shown (notes and the audit trail are the handler's)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings

from ..attachments import store
from ..domain.taxonomy import ANSWERS
from ..models import Attachment, AuditEvent, Note, Report, User
from .. import audit
from . import dialogue, grants, sealing
from .access import OpenCase


class NoSuchAttachment(LookupError):
    """Not a complete attachment of this case."""


def answers(report: Report, dek: bytes) -> list[tuple[str, str]]:
    """(answer code, text) in the order the forms ask them."""
    texts = {a.field: sealing.open_answer(dek, a.body_ct, report_id=report.id, answer_id=a.id, code=a.field)
             for a in report.answers}
    return [(code, texts[code]) for code in ANSWERS if code in texts]


def files_by_message(db: Session, report: Report, dek: bytes) -> dict[str | None, list[dict]]:
    """Decrypted file metadata keyed by message id (None: filed with the report)."""
    files: dict[str | None, list[dict]] = {}
    for attachment in db.scalars(select(Attachment).where(Attachment.report_id == report.id, Attachment.complete)):
        files.setdefault(attachment.message_id, []).append(
            {"id": attachment.id, **store.attachment_meta(report, dek, attachment)})
    return files


def attachment_of(db: Session, report: Report, attachment_id: str) -> Attachment:
    """The complete attachment `attachment_id` of `report`; NoSuchAttachment otherwise."""
    attachment = db.get(Attachment, attachment_id)
    if attachment is None or attachment.report_id != report.id or not attachment.complete:
        raise NoSuchAttachment(attachment_id)
    return attachment


# --- the reporter's page ------------------------------------------------------------

@dataclass
class ReporterCase:
    report: Report
    answers: list
    events: list
    messages: list
    report_files: list = field(default_factory=list)
    readers: list = field(default_factory=list)  # display names of those who hold the key


def reporter_case(db: Session, case: OpenCase) -> ReporterCase:
    report, dek = case.report, case.dek
    files = files_by_message(db, report, dek)
    return ReporterCase(report=report, answers=answers(report, dek), events=list(report.events),
                        messages=dialogue.entries(db, report, dek, files, side=dialogue.REPORTER_SIDE),
                        report_files=files.get(None, []),
                        readers=[user.display_name for user in grants.key_holders(db, report)])


# --- the handler's page ---------------------------------------------------------------

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


def read_note(report: Report, dek: bytes, note: Note) -> str:
    return sealing.open_note(dek, note.body_ct, report_id=report.id, note_id=note.id)


def handler_case(db: Session, settings: Settings, user: User, case: OpenCase) -> HandlerCase:
    """Everything the handler's case page shows; reading it is audited."""
    report, dek = case.report, case.dek
    files = files_by_message(db, report, dek)
    messages = dialogue.entries(db, report, dek, files, side=dialogue.HANDLER_SIDE)
    notes = [{"author_user_id": n.author_user_id, "created_at": n.created_at, "body": read_note(report, dek, n)}
             for n in db.scalars(select(Note).where(Note.report_id == report.id).order_by(Note.created_at))]
    trail = list(db.scalars(select(AuditEvent).where(AuditEvent.target_type == "report",
                                                     AuditEvent.target_id == report.id).order_by(AuditEvent.seq)))
    author_ids = {m.author_user_id for m in messages} | {n["author_user_id"] for n in notes} | \
        {e.actor_user_id for e in trail} | {e.actor_user_id for e in report.events}
    authors = {u.id: u.display_name for u in db.scalars(select(User).where(User.id.in_(author_ids - {None})))}
    audit.record(db, "case.view", actor_user_id=user.id, target_type="report", target_id=report.id)
    return HandlerCase(report, answers(report, dek), files.get(None, []), messages, notes,
                       list(report.events), trail, grants.colleagues_without_key(db, settings, report), authors)
