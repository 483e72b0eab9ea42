"""A new report: every answer and file sealed under a fresh data key, the key
wrapped for the channel's trusted handlers (minus exclusions), the escrow key
and the receipt, and the form's one-time token claimed in the same transaction so that
one form makes at most one report (form_tokens.py)."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import Settings
from crypto import receipt

from ..attachments import store
from ..domain import case_reference, cases
from ..domain.taxonomy import STATUS_NEW
from ..models import Answer, Exclusion, KeyGrant, Report, StatusEvent, new_id
from ..models.base import begin_writing, today
from ..organisation.channels import route
from . import chains, derivations, form_tokens, keys, manifest, sealing
from .recipients import channel_recipients


@dataclass
class NewReport:
    track: str
    category: str
    answers: dict[str, str]  # answer code (taxonomy.ANSWER_FIELDS) -> text
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


@dataclass(frozen=True)
class SentReport:
    """What the receipt page shows, once: the receipt and what happened to each file.
    Held sealed (form_tokens.hold) and in the receipt session as JSON."""

    receipt: str = field(repr=False)
    files: tuple[dict, ...] = ()

    def to_bytes(self) -> bytes:
        return json.dumps({"receipt": self.receipt, "files": list(self.files)}).encode()

    @classmethod
    def from_bytes(cls, blob: bytes) -> SentReport:
        data = json.loads(blob)
        return cls(data["receipt"], tuple(data["files"]))


@dataclass(frozen=True)
class Prepared:
    """What a report costs before anything is written: its receipt, id and
    data key, and the key wrapped for the receipt (one Argon2id)."""

    receipt_text: str
    parts: object = field(repr=False)
    report_id: str
    dek: bytes = field(repr=False)
    reporter_key: object = field(repr=False)


def prepare(session: Session, settings: Settings, admit: Callable[[], bool] | None = None) -> Prepared:
    """derivations.Busy when no Argon2id slot frees up in time;
    derivations.NotAdmitted when `admit` (asked once a slot is held) says no."""
    receipt_text, parts = _unused_receipt(session)
    report_id = new_id()
    dek = keys.new_data_key()
    with derivations.slot(settings, admit):
        reporter_key = keys.wrap_for_reporter(settings, dek, parts.secret, report_id=report_id)
    return Prepared(receipt_text, parts, report_id, dek, reporter_key)


def submit(session: Session, settings: Settings, new: NewReport, received_on: dt.date | None = None,
           prepared: Prepared | None = None) -> Submitted:
    """Create a report with every answer encrypted and its key wrapped for the
    channel's handlers (minus exclusions), the escrow key and the receipt."""
    channel_id = route(session, new.track, new.category, new.chain_level)
    recipients = channel_recipients(session, settings, channel_id, for_share=True)
    recipient_ids = set(recipients.check(set(new.excluded_user_ids)))
    received_on = received_on or today()

    prepared = prepared or prepare(session, settings)
    receipt_text, parts, report_id, dek = prepared.receipt_text, prepared.parts, prepared.report_id, prepared.dek
    reporter_key = prepared.reporter_key
    report = Report(
        id=report_id,
        track=new.track,
        category=new.category,
        chain_level=new.chain_level,
        principle=new.principle,
        unit_id=new.unit_id,
        channel_id=channel_id,
        reference=_unused_reference(session),
        status=STATUS_NEW,
        time_lost=new.time_lost,
        publish_consent=new.publish_consent,
        received_on=received_on,
        acknowledge_due=cases.acknowledge_due(received_on),
        receipt_selector=parts.selector,
        receipt_salt=reporter_key.salt,
        reporter_wrapped_key=reporter_key.wrapped,
        escrow_wrapped_key=keys.wrap_for_escrow(settings, dek, report_id=report_id),
        key_version=1,
        sealed=1,
    )
    session.add(report)
    for code, text in new.answers.items():
        if text:
            answer = Answer(id=new_id(), report_id=report.id, field=code)
            answer.body_ct = sealing.seal_answer(dek, text, report_id=report.id, answer_id=answer.id, code=code)
            report.answers.append(answer)
    # The key goes only to readers the trust anchor vouches for; the other
    # handlers wait for a grant a key holder (or the escrow key) approves.
    ready = [u for u in recipients.readers if u.id in recipient_ids]
    waiting = [u for u in recipients.handlers if u.id in recipient_ids and u not in ready]
    for user in ready:
        keys.grant_key(session, report, dek, user, first=True)
    for user_id in new.excluded_user_ids:
        session.add(Exclusion(report_id=report_id, user_id=user_id))
    manifest.seal(report, dek, manifest.Manifest(channel_id, frozenset(new.excluded_user_ids),
                                                 frozenset(a.field for a in report.answers)))
    received = StatusEvent(id=new_id(), report_id=report_id, seq=1, status=STATUS_NEW, occurred_on=received_on)
    chains.seal(report, dek, [], [received])  # an empty dialogue, a timeline of one
    session.add(received)
    session.flush()  # the report row first: grants refer to it, and no relationship orders the two
    session.add_all(KeyGrant(report_id=report_id, user_id=user.id, case_open=True) for user in waiting)
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


def _unused_reference(session: Session) -> str:
    """A case reference no report has yet: 8 characters of 30 collide once
    in about a million cases, and a collision would refuse the report."""
    while True:
        reference = case_reference.new_reference()
        if session.scalar(select(Report.id).where(Report.reference == reference)) is None:
            return reference


def file_summary(stored: store.StoredAttachment) -> dict:
    """What the reporter is told about one file: its name and what cleaning removed."""
    return {"name": stored.filename, "cleaned": stored.cleaned,
            "removed": list(stored.removed), "warning": stored.warning}


@dataclass(frozen=True)
class ReceiptToShow:
    """The receipt session's payload: the sent report, and the handle that
    releases the copy held for a second POST of the same form."""

    sent: SentReport
    held: str | None

    def to_bytes(self) -> bytes:
        return json.dumps({"result": self.sent.to_bytes().decode(), "held": self.held}).encode()

    @classmethod
    def from_bytes(cls, blob: bytes) -> ReceiptToShow:
        data = json.loads(blob)
        return cls(SentReport.from_bytes(data["result"].encode()), data.get("held"))


def held_receipt(session: Session, token: str) -> ReceiptToShow | None:
    """The receipt held for a form already turned into a report, None once shown."""
    blob = form_tokens.held(session, token)
    return ReceiptToShow(SentReport.from_bytes(blob), form_tokens.hash_of(token)) if blob is not None else None


def submit_once(session: Session, settings: Settings, token: str, new: NewReport, uploads,
                admit: Callable[[], bool] | None = None) -> ReceiptToShow | None:
    """Turn a form into its one report: claim its token first (a second copy
    of the form waits there, then fails), submit, store the files and hold
    the receipt for a second copy. None when another copy of the same form
    made the report already (this request's changes are rolled back then).
    Busy and NotAdmitted as for prepare."""
    for attempt in (1, 2):
        prepared = prepare(session, settings, admit if attempt == 1 else None)
        # The Argon2id above ran before any write, and the read it needed ends
        # here: on SQLite the write lock is taken only now (it used to be held
        # across the Argon2id, so submissions ran one at a time), and no read
        # snapshot taken before another report's commit stands in its way.
        session.commit()
        begin_writing(session)  # on SQLite a savepoint opened first would be a transaction of its own
        try:
            with session.begin_nested():
                form_tokens.claim(session, token)
        except IntegrityError:
            session.rollback()
            return None
        try:
            submitted = submit(session, settings, new, prepared=prepared)
            break
        except IntegrityError:
            # A report committed meanwhile took the case reference or the
            # receipt selector drawn here, after they were checked (about once
            # in 10^12 pairs of reports sent at once): draw both again.
            session.rollback()
            if attempt == 2:
                raise
    return _store_and_hold(session, settings, token, uploads, submitted)


def _store_and_hold(session: Session, settings: Settings, token: str, uploads, submitted: Submitted) -> ReceiptToShow:
    report = session.get(Report, submitted.report_id)
    stored = [store.store_attachment(session, report, submitted.data_key, upload,
                                     allowed_types=settings.allowed_upload_types) for upload in uploads]
    if stored:  # the files belong to what was sent
        sent = manifest.read(report, submitted.data_key)
        manifest.seal(report, submitted.data_key,
                      manifest.Manifest(sent.channel_id, sent.excluded, sent.answers,
                                        frozenset(s.id for s in stored)))
    files = tuple(file_summary(s) for s in stored)
    sent = SentReport(submitted.receipt, files)
    return ReceiptToShow(sent, form_tokens.hold(session, token, sent.to_bytes()))
