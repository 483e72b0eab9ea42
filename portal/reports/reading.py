"""Reading a case back: the reporter's page and the handler's page, with the
answers, the dialogue and its files. Which side reads decides the read
markers and what is shown (notes and the audit trail are the handler's)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from crypto import DecryptionError

from ..attachments import store
from ..domain import cases
from ..domain.taxonomy import ANSWERS
from ..models import Attachment, AuditEvent, Note, Report, Unit, User
from .. import audit
from ..trust.statements import is_anchored
from . import chains, dialogue, grants, manifest, sealing
from .access import OpenCase


class NoSuchAttachment(LookupError):
    """Not a complete attachment of this case."""


def _opened_answers(report: Report, dek: bytes) -> tuple[list[tuple[str, str]], bool]:
    """(answer code, text) in the order the forms ask them, and whether the
    report was written with chains (its answers say so)."""
    opened, damaged = {}, False
    for answer in report.answers:
        try:
            opened[answer.field] = sealing.open_answer(dek, answer.body_ct, report_id=report.id,
                                                       answer_id=answer.id, code=answer.field)
        except (DecryptionError, KeyError):  # altered, moved, or under an unknown code
            damaged = True
    chained = damaged or any(was_chained for _text, was_chained in opened.values())
    return [(code, opened[code][0]) for code in ANSWERS if code in opened], chained


def answers(report: Report, dek: bytes) -> list[tuple[str, str]]:
    """(answer code, text) in the order the forms ask them."""
    return _opened_answers(report, dek)[0]


@dataclass(frozen=True)
class Verified:
    """The dialogue and the timeline, as they verify against their chains."""

    messages: list
    events: list
    dialogue: chains.Check
    timeline: chains.Check
    sent: manifest.Check = field(default_factory=manifest.Check)  # answers, files, channel, exclusions
    # The status, outcome and deadlines by the timeline; columns_agree: the
    # clear columns say the same (a database writer can change only those).
    state: cases.TimelineState | None = None
    columns_agree: bool = True

    @property
    def intact(self) -> bool:
        return self.dialogue.intact and self.timeline.intact and self.sent.intact and self.columns_agree

    @property
    def unsealed(self) -> bool:
        return self.dialogue.unsealed or self.timeline.unsealed


def _file_ids(files: dict) -> dict:
    return {message_id: [f["id"] for f in entries] for message_id, entries in files.items() if message_id}


def _verified(db: Session, report: Report, dek: bytes, chained: bool, files: dict) -> Verified:
    messages, events = dialogue.messages_of(db, report), list(report.events)
    ids = _file_ids(files)
    state = cases.state_from_timeline(events)
    agree = state is None or (
        (state.status, state.outcome, state.acknowledged_on) == (report.status, report.outcome, report.acknowledged_on)
        and state.received_on == report.received_on and state.feedback_due == report.feedback_due
        and state.acknowledge_due == report.acknowledge_due and state.closed_on == report.closed_on)
    return Verified(messages, events,
                    chains.check(report, dek, chains.DIALOGUE, messages, chained=chained, files=ids),
                    chains.check(report, dek, chains.TIMELINE, events, chained=chained),
                    manifest.check(db, report, dek, chained=chained), state, agree)


def _seal_older_report(db: Session, report: Report, dek: bytes, verified: Verified, files: dict) -> bool:
    """Compute the chains of a report written before they existed, once. If
    the audit log shows it was sealed before, its seals were stripped: it is
    not sealed again (that would bless what was changed) and stays flagged."""
    sealed_before = db.scalar(select(AuditEvent.seq).where(
        AuditEvent.action == "case.view", AuditEvent.target_id == report.id,
        AuditEvent.detail.like('%"sealed":true%')).limit(1))
    if sealed_before is not None:
        return False
    chains.seal(report, dek, verified.messages, verified.events, _file_ids(files))
    return True


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
    # (display name, confirmed) of those who hold the key; confirmed: the
    # name is the one the trust anchor signed for the report's channel.
    readers: list = field(default_factory=list)
    verified: Verified | None = None


def reporter_case(db: Session, settings: Settings, case: OpenCase) -> ReporterCase:
    report, dek = case.report, case.dek
    files = files_by_message(db, report, dek)
    texts, chained = _opened_answers(report, dek)
    verified = _verified(db, report, dek, chained, files)
    return ReporterCase(report=report, answers=texts, events=verified.events,
                        messages=dialogue.entries(db, report, dek, files, verified.messages, verified.dialogue,
                                                  side=dialogue.REPORTER_SIDE),
                        report_files=files.get(None, []),
                        readers=[(user.display_name, is_anchored(db, settings, user, report.channel_id))
                                 for user in grants.key_holders(db, report)], verified=verified)


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
    verified: Verified | None = None
    unit_name: str | None = None  # the unit the reporter chose, if any


def read_note(report: Report, dek: bytes, note: Note) -> str:
    return sealing.open_note(dek, note.body_ct, report_id=report.id, note_id=note.id)


def handler_case(db: Session, settings: Settings, user: User, case: OpenCase) -> HandlerCase:
    """Everything the handler's case page shows; reading it is audited."""
    report, dek = case.report, case.dek
    files = files_by_message(db, report, dek)
    texts, chained = _opened_answers(report, dek)
    verified = _verified(db, report, dek, chained, files)
    sealed_now = verified.unsealed and _seal_older_report(db, report, dek, verified, files)
    if sealed_now:
        verified = _verified(db, report, dek, chained, files)
    elif verified.unsealed and not report.sealed:  # seals stripped: say so
        verified = Verified(verified.messages, verified.events, chains.Check(cut=True), chains.Check(cut=True),
                            verified.sent)
    messages = dialogue.entries(db, report, dek, files, verified.messages, verified.dialogue,
                                side=dialogue.HANDLER_SIDE)
    notes = [{"author_user_id": n.author_user_id, "created_at": n.created_at, "body": read_note(report, dek, n)}
             for n in db.scalars(select(Note).where(Note.report_id == report.id).order_by(Note.created_at))]
    trail = list(db.scalars(select(AuditEvent).where(AuditEvent.target_type == "report",
                                                     AuditEvent.target_id == report.id)
                            .order_by(AuditEvent.at, AuditEvent.lane, AuditEvent.seq)))
    author_ids = {m.author_user_id for m in messages} | {n["author_user_id"] for n in notes} | \
        {e.actor_user_id for e in trail} | {e.actor_user_id for e in report.events}
    authors = {u.id: u.display_name for u in db.scalars(select(User).where(User.id.in_(author_ids - {None})))}
    extra = {"sealed": True} if sealed_now else {}
    audit.record(db, "case.view", actor_user_id=user.id, target_type="report", target_id=report.id, **extra)
    unit = db.get(Unit, report.unit_id) if report.unit_id else None
    return HandlerCase(report, texts, files.get(None, []), messages, notes, verified.events, trail,
                       grants.colleagues_without_key(db, settings, report, dek), authors, verified,
                       unit.name if unit else None)
