"""The one place where report content is encrypted and decrypted.

Views and CLI commands hand plaintext in and get plaintext out; the database
only ever sees the ciphertext this module produces (formats: docs/crypto.md).
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import Settings
from crypto import DecryptionError, ReceiptFormatError, envelope, keys, receipt

from .domain import cases, routing
from .domain.taxonomy import AUTHOR_REPORTER, STATUS_NEW
from .models import (
    Answer,
    Exclusion,
    KeyGrant,
    Membership,
    Message,
    Note,
    Report,
    ReportKey,
    RoutingRule,
    StatusEvent,
    User,
    new_id,
)
from .models.base import today

SALT_BYTES = 16


class AccessDenied(Exception):
    """The receipt or key does not open a report. One message for every cause."""


@dataclass
class NewReport:
    track: str
    category: str
    answers: dict[str, str]
    chain_level: str | None = None
    principle: str | None = None
    unit_id: str | None = None
    time_lost: str | None = None
    publish_consent: bool = False
    excluded_user_ids: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Submitted:
    report_id: str
    receipt: str = field(repr=False)  # shown to the reporter once, never stored
    # Kept only for the rest of the request, to encrypt the attachments.
    data_key: bytes = field(repr=False, default=b"")


def route(session: Session, track: str, category: str, chain_level: str | None) -> str:
    rules = [
        routing.Rule(r.track, r.category, r.chain_level, r.channel_id, r.priority)
        for r in session.scalars(select(RoutingRule))
    ]
    return routing.choose_channel(rules, track, category, chain_level)


def channel_handlers(session: Session, channel_id: str, *, for_share: bool = False) -> list[User]:
    """Active handlers of a channel who can receive keys, in a stable order.
    for_share: read their rows locked (PostgreSQL) and fresh, so that no first
    sign-in replaces a key pair between this read and the commit (staff_auth._lock)."""
    query = (select(User)
             .join(Membership, Membership.user_id == User.id)
             .where(Membership.channel_id == channel_id, User.is_handler, User.active)
             .order_by(User.display_name, User.id))
    if for_share:
        query = query.with_for_update(read=True, of=User).execution_options(populate_existing=True)
    return list(session.scalars(query))


def submit(session: Session, settings: Settings, new: NewReport, received_on: dt.date | None = None) -> Submitted:
    """Create a report with every answer encrypted and its key wrapped for the
    channel's handlers (minus exclusions), the escrow key and the receipt."""
    channel_id = route(session, new.track, new.category, new.chain_level)
    handlers = channel_handlers(session, channel_id, for_share=True)
    recipient_ids = routing.recipients_after_exclusion([h.id for h in handlers], set(new.excluded_user_ids))
    received_on = received_on or today()

    receipt_text, parts = _unused_receipt(session)
    report_id = new_id()
    dek = envelope.new_data_key()
    salt = secrets.token_bytes(SALT_BYTES)
    report = Report(
        id=report_id,
        track=new.track,
        category=new.category,
        chain_level=new.chain_level,
        principle=new.principle,
        unit_id=new.unit_id,
        channel_id=channel_id,
        status=STATUS_NEW,
        time_lost=new.time_lost,
        publish_consent=new.publish_consent,
        received_on=received_on,
        acknowledge_due=cases.acknowledge_due(received_on),
        receipt_selector=parts.selector,
        receipt_salt=salt,
        reporter_wrapped_key=receipt.wrap_dek_for_reporter(
            dek, parts.secret, report_id=report_id, salt=salt,
            pepper=settings.pepper, params=settings.argon2,
        ),
        key_version=1,
    )
    if settings.escrow_public_key:
        report.escrow_wrapped_key = envelope.wrap_for_escrow(
            dek, bytes.fromhex(settings.escrow_public_key), report_id=report_id
        )
    session.add(report)
    for name, text in new.answers.items():
        if text:
            _add_answer(report, dek, name, text)
    chosen = set(recipient_ids)
    recipients = [h for h in handlers if h.id in chosen]
    # Handlers who never signed in wait for a grant (User.holds_own_keys);
    # only if none of the recipients has signed in do all get the key, or
    # nobody could read the report.
    ready = [u for u in recipients if u.holds_own_keys] or recipients
    for user in ready:
        grant_key(session, report, dek, user)
    for user_id in new.excluded_user_ids:
        session.add(Exclusion(report_id=report_id, user_id=user_id))
    session.add(StatusEvent(report_id=report_id, seq=1, status=STATUS_NEW, occurred_on=received_on))
    session.flush()  # the report row first: grants refer to it, and no relationship orders the two
    session.add_all(KeyGrant(report_id=report_id, user_id=user.id) for user in recipients if user not in ready)
    session.flush()
    return Submitted(report_id=report_id, receipt=receipt_text, data_key=dek)


def _unused_receipt(session: Session):
    """A fresh receipt whose selector no report uses yet (40-bit selectors
    collide rarely, but a collision must not lock anyone out)."""
    while True:
        text = receipt.new_receipt()
        parts = receipt.parse_receipt(text)
        if session.scalar(select(Report.id).where(Report.receipt_selector == parts.selector)) is None:
            return text, parts


def _add_answer(report: Report, dek: bytes, name: str, text: str) -> Answer:
    answer = Answer(id=new_id(), report_id=report.id, field=name)
    answer.body_ct = envelope.encrypt_field(
        dek, text.encode(), report_id=report.id, row_id=answer.id, field=f"answer:{name}"
    )
    report.answers.append(answer)
    return answer


def grant_key(session: Session, report: Report, dek: bytes, user: User) -> None:
    session.merge(ReportKey(
        report_id=report.id,
        user_id=user.id,
        key_version=user.key_version,
        wrapped=envelope.wrap_for_recipient(
            dek, user.public_key, report_id=report.id, recipient_id=user.id, key_version=user.key_version
        ),
    ))


def move_keys_to_new_key_pair(session: Session, user: User, old_private_key: bytes,
                              new_private_key: bytes) -> int:
    """Give `user` a new key pair: every report key they hold is re-wrapped for
    the new public key under the next key version. Returns how many."""
    version = user.key_version + 1
    public_key = keys.public_key_for(new_private_key)
    held = list(session.scalars(select(ReportKey).where(ReportKey.user_id == user.id)))
    for key in held:
        dek = envelope.unwrap_for_recipient(key.wrapped, old_private_key, report_id=key.report_id,
                                            recipient_id=user.id, key_version=key.key_version)
        key.wrapped = envelope.wrap_for_recipient(dek, public_key, report_id=key.report_id,
                                                  recipient_id=user.id, key_version=version)
        key.key_version = version
    user.public_key, user.key_version = public_key, version
    session.flush()
    return len(held)


# Same cost as a real attempt, so an unknown selector takes as long as a
# wrong secret and the two cannot be told apart.
_DUMMY_WRAP = b"\x01" + bytes(60)


def open_with_receipt(session: Session, settings: Settings, receipt_text: str) -> tuple[Report, bytes]:
    """(report, data key) for a receipt; AccessDenied for anything that does not open."""
    try:
        parts = receipt.parse_receipt(receipt_text)
    except ReceiptFormatError:
        raise AccessDenied() from None
    report = session.scalar(select(Report).where(Report.receipt_selector == parts.selector))
    blob = report.reporter_wrapped_key if report else _DUMMY_WRAP
    salt = report.receipt_salt if report else secrets.token_bytes(SALT_BYTES)
    report_id = report.id if report else "unknown"
    try:
        dek = receipt.unwrap_dek_for_reporter(
            blob, parts.secret, report_id=report_id, salt=salt, pepper=settings.pepper, params=settings.argon2
        )
    except DecryptionError:
        raise AccessDenied() from None
    if report is None:  # unreachable unless the dummy opened: never trust it
        raise AccessDenied()
    return report, dek


def open_for_handler(session: Session, report: Report, user: User, private_key: bytes) -> bytes:
    key = session.get(ReportKey, (report.id, user.id))
    if key is None:
        raise AccessDenied()
    try:
        return envelope.unwrap_for_recipient(
            key.wrapped, private_key, report_id=report.id, recipient_id=user.id, key_version=key.key_version
        )
    except DecryptionError:
        raise AccessDenied() from None


def read_answers(report: Report, dek: bytes) -> dict[str, str]:
    return {
        a.field: envelope.decrypt_field(
            dek, a.body_ct, report_id=report.id, row_id=a.id, field=f"answer:{a.field}"
        ).decode()
        for a in report.answers
    }


def post_message(session: Session, report: Report, dek: bytes, *, author: str, body: str,
                 kind: str = "message", author_user_id: str | None = None,
                 sent_on: dt.date | None = None) -> Message:
    seq = (session.scalar(select(func.max(Message.seq)).where(Message.report_id == report.id)) or 0) + 1
    message = Message(
        id=new_id(), report_id=report.id, seq=seq, author=author, kind=kind,
        author_user_id=author_user_id, sent_on=sent_on or today(),
        read_by_reporter=author == AUTHOR_REPORTER,
        read_by_handler=author != AUTHOR_REPORTER,
    )
    message.body_ct = envelope.encrypt_field(
        dek, body.encode(), report_id=report.id, row_id=message.id, field="message"
    )
    session.add(message)
    if author == AUTHOR_REPORTER:
        report.last_reporter_message_on = message.sent_on
    session.flush()
    return message


def read_message(report: Report, dek: bytes, message: Message) -> str:
    return envelope.decrypt_field(
        dek, message.body_ct, report_id=report.id, row_id=message.id, field="message"
    ).decode()


def add_note(session: Session, report: Report, dek: bytes, *, author_user_id: str, body: str) -> Note:
    note = Note(id=new_id(), report_id=report.id, author_user_id=author_user_id)
    note.body_ct = envelope.encrypt_field(dek, body.encode(), report_id=report.id, row_id=note.id, field="note")
    session.add(note)
    session.flush()
    return note


def read_note(report: Report, dek: bytes, note: Note) -> str:
    return envelope.decrypt_field(dek, note.body_ct, report_id=report.id, row_id=note.id, field="note").decode()
