"""The two-way anonymous dialogue of a case: messages from either side, the
reporter's replies, meeting requests and confirmation of minutes, and the
dialogue read back with its files and read markers."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel import dates as babel_dates
from flask_babel import get_locale, gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from crypto import DecryptionError

from ..attachments import store
from ..domain.taxonomy import (
    AUTHOR_HANDLER,
    AUTHOR_REPORTER,
    KIND_MEETING_REQUEST,
    KIND_MESSAGE,
    KIND_MINUTES,
    KIND_MINUTES_CONFIRMED,
    dates_locale,
)
from ..models import Message, Report, new_id
from ..models.base import today
from . import chains, sealing
from .access import OpenCase

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
    verified: bool = True  # False: its text or its place in the dialogue was changed outside the portal


def post_message(session: Session, report: Report, dek: bytes, *, author: str, body: str,
                 kind: str = KIND_MESSAGE, author_user_id: str | None = None,
                 sent_on: dt.date | None = None, uploads=(), allowed_types=()) -> Message:
    """A new entry of the dialogue, with its files, linked into the chain."""
    chains.hold(session, report)
    previous = session.scalar(select(Message).where(Message.report_id == report.id)
                              .order_by(Message.seq.desc()).limit(1))
    message = Message(
        id=new_id(), report_id=report.id, seq=(previous.seq if previous else 0) + 1, author=author, kind=kind,
        author_user_id=author_user_id, sent_on=sent_on or today(),
        read_by_reporter=author == AUTHOR_REPORTER,
        read_by_handler=author != AUTHOR_REPORTER,
    )
    message.body_ct = sealing.seal_message(dek, body, report_id=report.id, message_id=message.id)
    session.add(message)
    session.flush()  # the files refer to it
    file_ids = [store.store_attachment(session, report, dek, upload, message_id=message.id,
                                       allowed_types=allowed_types).id for upload in uploads]
    chains.extend(report, dek, chains.DIALOGUE, message, previous, file_ids)
    if author == AUTHOR_REPORTER:
        report.last_reporter_message_on = message.sent_on
    session.flush()
    return message


def read_message(report: Report, dek: bytes, message: Message) -> str | None:
    """The text, or None if the ciphertext does not open here (altered, or moved from another case)."""
    try:
        return sealing.open_message(dek, message.body_ct, report_id=report.id, message_id=message.id)
    except DecryptionError:
        return None


def messages_of(db: Session, report: Report) -> list[Message]:
    return list(db.scalars(select(Message).where(Message.report_id == report.id).order_by(Message.seq)))


def entries(db: Session, report: Report, dek: bytes, files: dict, messages: list[Message], check: chains.Check,
            *, side: str) -> list[Entry]:
    """The messages in order, each marked if its place in the chain does not
    verify; marks what the other side wrote as read by `side`."""
    other = AUTHOR_HANDLER if side == REPORTER_SIDE else AUTHOR_REPORTER
    read_flag = "read_by_reporter" if side == REPORTER_SIDE else "read_by_handler"
    found = []
    for message in messages:
        unread = message.author == other and not getattr(message, read_flag)
        body = read_message(report, dek, message)
        found.append(Entry(message.id, message.author == AUTHOR_HANDLER, message.kind, message.sent_on,
                           body or "", files.get(message.id, []), unread, message.author_user_id,
                           verified=body is not None and message.id not in check.broken))
        if unread:
            setattr(message, read_flag, True)
    return found


# --- what the reporter sends ------------------------------------------------------

def reporter_reply(db: Session, settings: Settings, case: OpenCase, body: str, uploads) -> None:
    post_message(db, case.report, case.dek, author=AUTHOR_REPORTER, body=body, uploads=uploads,
                 allowed_types=settings.allowed_upload_types)


def request_meeting(db: Session, case: OpenCase, body: str) -> None:
    post_message(db, case.report, case.dek, author=AUTHOR_REPORTER, kind=KIND_MEETING_REQUEST,
                 body=body or _("I would like to meet in person."))


def confirm_minutes(db: Session, case: OpenCase, message_id: str) -> bool:
    """Art. 18(4) of the directive: the reporter may check and confirm the minutes."""
    minutes = db.get(Message, message_id)
    if minutes is None or minutes.report_id != case.report.id or minutes.kind != KIND_MINUTES:
        return False
    post_message(db, case.report, case.dek, author=AUTHOR_REPORTER, kind=KIND_MINUTES_CONFIRMED,
                 body=_("I confirm the minutes of %(date)s.",
                        date=babel_dates.format_date(minutes.sent_on, "long",
                                                     locale=dates_locale(str(get_locale())))))
    return True
