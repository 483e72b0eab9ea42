"""Reading a case back for either side: answers, dialogue with its files,
and attachment downloads. Which side reads decides only the read markers."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Response, abort, stream_with_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import DecryptionError

from . import attachment_store, casefile, labels
from .domain.taxonomy import AUTHOR_HANDLER, AUTHOR_REPORTER
from .models import Attachment, Message, Report

REPORTER_SIDE = "reporter"
HANDLER_SIDE = "handler"


@dataclass(frozen=True)
class Entry:
    id: str
    from_handler: bool
    kind: str
    sent_on: object
    body: str
    files: list
    unread: bool
    author_user_id: str | None


def answers(report: Report, dek: bytes) -> list[tuple[str, str, str]]:
    """(code, label, text) in the order of the form."""
    texts = casefile.read_answers(report, dek)
    return [(name, labels.ANSWERS.get(name, name), texts[name]) for name in labels.ANSWERS if name in texts]


def files_by_message(db: Session, report: Report, dek: bytes) -> dict[str | None, list[dict]]:
    """Decrypted file metadata keyed by message id (None: filed with the report)."""
    files: dict[str | None, list[dict]] = {}
    for attachment in db.scalars(select(Attachment).where(Attachment.report_id == report.id, Attachment.complete)):
        files.setdefault(attachment.message_id, []).append(
            {"id": attachment.id, **attachment_store.attachment_meta(report, dek, attachment)})
    return files


def dialogue(db: Session, report: Report, dek: bytes, files: dict, *, side: str) -> list[Entry]:
    """The messages in order; marks what the other side wrote as read by `side`."""
    other = AUTHOR_HANDLER if side == REPORTER_SIDE else AUTHOR_REPORTER
    entries = []
    for message in db.scalars(select(Message).where(Message.report_id == report.id).order_by(Message.seq)):
        read_flag = "read_by_reporter" if side == REPORTER_SIDE else "read_by_handler"
        unread = message.author == other and not getattr(message, read_flag)
        entries.append(Entry(message.id, message.author == AUTHOR_HANDLER, message.kind, message.sent_on,
                             casefile.read_message(report, dek, message), files.get(message.id, []), unread,
                             message.author_user_id))
        if unread:
            setattr(message, read_flag, True)
    return entries


def attachment_of(db: Session, report: Report, attachment_id: str) -> Attachment:
    """The complete attachment `attachment_id` of `report`, or 404."""
    attachment = db.get(Attachment, attachment_id)
    if attachment is None or attachment.report_id != report.id or not attachment.complete:
        abort(404)
    return attachment


def download(db: Session, report: Report, dek: bytes, attachment: Attachment) -> Response:
    meta = attachment_store.attachment_meta(report, dek, attachment)
    # Verify the whole file before sending a byte: a tampered chunk must not
    # reach the browser as a silently truncated download.
    try:
        for _chunk in attachment_store.iter_attachment(db, report, dek, attachment):
            pass
    except DecryptionError:
        abort(500)
    body = stream_with_context(_closing(db, attachment_store.iter_attachment(db, report, dek, attachment)))
    return Response(body, mimetype="application/octet-stream", headers={
        "Content-Disposition": attachment_store.content_disposition(meta["filename"]),
        "X-Content-Type-Options": "nosniff",
    })


def _closing(db: Session, chunks):
    """The body is streamed after the request's app context was torn down
    (which closed the request session); reading the chunks reopens that
    session, so close it again when the body ends, or its connection stays
    checked out, idle in a transaction, after every download."""
    try:
        yield from chunks
    finally:
        db.close()
