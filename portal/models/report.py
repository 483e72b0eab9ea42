"""The report aggregate: the case, its encrypted answers, dialogue, files and keys.

Columns named *_ct hold ciphertext produced by crypto/ (see docs/crypto.md);
everything else is one of the clear fields docs/architecture.md allows. Reporter-side
events are dates (day precision), never timestamps.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..domain.case_reference import STORED_LENGTH, new_reference
from ..domain.taxonomy import STATUS_CLOSED, STATUS_NEW

from .base import ID_LENGTH, ORDERLESS, Base, new_id, start_of_today, utcnow


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    # What people call the case (domain/case_reference.py); random like the id.
    reference: Mapped[str] = mapped_column(String(STORED_LENGTH), unique=True, index=True, default=new_reference)
    # channel_id, track and status keep their old value when changed, for
    # the counts of case_counts.py (active_history).
    track: Mapped[str] = mapped_column(String(16), active_history=True)
    category: Mapped[str] = mapped_column(String(40))
    chain_level: Mapped[str | None] = mapped_column(String(40))
    principle: Mapped[str | None] = mapped_column(String(40))
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"))
    # NULL once purged: the tombstone leaves its channel (reports/retention.py).
    channel_id: Mapped[str | None] = mapped_column(ForeignKey("channels.id"), active_history=True)
    status: Mapped[str] = mapped_column(String(16), default=STATUS_NEW, active_history=True)
    outcome: Mapped[str | None] = mapped_column(String(24))
    time_lost: Mapped[str | None] = mapped_column(String(8))
    hours_saved_per_year: Mapped[int | None] = mapped_column(Integer)
    publish_consent: Mapped[bool] = mapped_column(Boolean, default=False)

    received_on: Mapped[dt.date] = mapped_column(Date)
    acknowledged_on: Mapped[dt.date | None] = mapped_column(Date)
    feedback_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    acknowledge_due: Mapped[dt.date] = mapped_column(Date)
    feedback_due: Mapped[dt.date | None] = mapped_column(Date)
    last_reporter_message_on: Mapped[dt.date | None] = mapped_column(Date)
    # Set when retention destroyed the case's keys and content
    # (reports/retention.py); only the clear fields above remain.
    purged_on: Mapped[dt.date | None] = mapped_column(Date)

    # Receipt access: the selector finds the row, the secret (never stored)
    # derives the key that opens reporter_wrapped_key.
    receipt_selector: Mapped[str] = mapped_column(String(16), unique=True)
    receipt_salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    reporter_wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    escrow_wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_version: Mapped[int] = mapped_column(Integer, default=1)
    # The dialogue and the timeline are hash chains authenticated under the
    # report's key (reports/chains.py); each head is (length, MAC). sealed:
    # 1 once the chains exist (at submission since they do; for an older
    # report at a handler's first view), 0 for an older report not yet sealed.
    sealed: Mapped[int] = mapped_column(Integer, default=1)
    dialogue_count: Mapped[int | None] = mapped_column(Integer)
    dialogue_head: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    timeline_count: Mapped[int | None] = mapped_column(Integer)
    timeline_head: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    # Channel, exclusions, answers and files as sent, sealed (reports/manifest.py).
    manifest_ct: Mapped[bytes | None] = mapped_column(LargeBinary)

    answers: Mapped[list[Answer]] = relationship(back_populates="report", cascade="all, delete-orphan")
    messages: Mapped[list[Message]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="Message.seq"
    )
    events: Mapped[list[StatusEvent]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="StatusEvent.seq"
    )
    keys: Mapped[list[ReportKey]] = relationship(back_populates="report", cascade="all, delete-orphan")
    exclusions: Mapped[list[Exclusion]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (
        # The inbox (reports/inbox.py) filters by channel and status, sorts by
        # date and checks visibility by channel_id and id (exclusions). The
        # sort indexes end in id and channel_id so that a page is read from
        # the index alone, in order, without touching or sorting the table.
        Index("ix_reports_channel_status_received", "channel_id", "status", "received_on", "id"),
        # The default order; with the deadline columns, the overdue filter's
        # first page is found in the index without reading newer cases' rows.
        Index("ix_reports_received", "received_on", "id", "channel_id", "status", "acknowledge_due", "feedback_on",
              "feedback_due"),
        Index("ix_reports_acknowledge_due", "acknowledge_due", "id", "channel_id"),
        Index("ix_reports_feedback_due", "feedback_due", "id", "channel_id"),
        # The overdue filter: one index per branch of overdue_condition,
        # each enough for its count (id and channel_id: visibility).
        Index("ix_reports_status_acknowledge_due", "status", "acknowledge_due", "id", "channel_id"),
        Index("ix_reports_status_feedback_due", "status", "feedback_on", "feedback_due", "id", "channel_id"),
        # The track filter's count, from the index alone (with or without a status).
        Index("ix_reports_channel_track_status", "channel_id", "track", "status", "id"),
        # The cases not closed, for the "waiting for access" count: the
        # closed majority is not read, and the key lookups follow id order.
        # (status is listed so that SQLite sees the index as covering.)
        Index("ix_reports_open", "channel_id", "id", "status",
              postgresql_where=text(f"status != '{STATUS_CLOSED}'"),
              sqlite_where=text(f"status != '{STATUS_CLOSED}'")),
        ORDERLESS,
    )


class Answer(Base):
    """One encrypted free-text answer of the report form."""

    __tablename__ = "report_answers"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(40))
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)

    report: Mapped[Report] = relationship(back_populates="answers")
    __table_args__ = (UniqueConstraint("report_id", "field", name="uq_report_answers_report_field"), ORDERLESS)


class Message(Base):
    """A dialogue entry, either way; ordered by seq, dated by day."""

    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(16))
    author_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(24), default="message")
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)
    sent_on: Mapped[dt.date] = mapped_column(Date)
    read_by_handler: Mapped[bool] = mapped_column(Boolean, default=False)
    read_by_reporter: Mapped[bool] = mapped_column(Boolean, default=False)
    chain_mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # its link in the dialogue chain

    report: Mapped[Report] = relationship(back_populates="messages")
    __table_args__ = (UniqueConstraint("report_id", "seq", name="uq_messages_report_seq"), ORDERLESS)


class Note(Base):
    """An internal handler note: encrypted, never shown to the reporter."""

    __tablename__ = "notes"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    author_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    body_ct: Mapped[bytes] = mapped_column(LargeBinary)


class StatusEvent(Base):
    """One step of the timeline the reporter sees (day precision)."""

    __tablename__ = "status_events"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(24))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    actor_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    chain_mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))  # its link in the timeline chain

    report: Mapped[Report] = relationship(back_populates="events")
    __table_args__ = (
        UniqueConstraint("report_id", "seq", name="uq_status_events_report_seq"),
        # The statistics' closings per quarter (insights/tables.py), from the index alone.
        Index("ix_status_events_status_day", "status", "occurred_on", "report_id", "seq"),
        ORDERLESS,
    )


class Attachment(Base):
    """An encrypted file; its name and type are inside meta_ct, its bytes in chunks."""

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    meta_ct: Mapped[bytes] = mapped_column(LargeBinary)
    stream_header: Mapped[bytes] = mapped_column(LargeBinary)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)

    chunks: Mapped[list[AttachmentChunk]] = relationship(
        cascade="all, delete-orphan", order_by="AttachmentChunk.idx"
    )
    __table_args__ = (ORDERLESS,)


class AttachmentChunk(Base):
    __tablename__ = "attachment_chunks"

    attachment_id: Mapped[str] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    __table_args__ = (ORDERLESS,)


class ReportKey(Base):
    """The report's data key wrapped (HPKE) for one handler."""

    __tablename__ = "report_keys"

    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key_version: Mapped[int] = mapped_column(Integer)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)

    report: Mapped[Report] = relationship(back_populates="keys")
    # A handler's keys (the inbox's "waiting for access" count), without
    # reading their colleagues' keys.
    __table_args__ = (Index("ix_report_keys_user", "user_id", "report_id"), ORDERLESS)


class Exclusion(Base):
    """A handler the reporter excluded for conflict of interest."""

    __tablename__ = "exclusions"

    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # A handler's exclusions, for the inbox count.
    __table_args__ = (Index("ix_exclusions_user", "user_id", "report_id"), ORDERLESS)


class KeyGrant(Base):
    """A handler who waits for a report's key: a current holder approves (reports/grants.py)."""

    __tablename__ = "key_grants"

    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # A submission can create a grant (for a handler who never signed in),
    # so only the day is kept, as for every reporter-side time.
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime, default=start_of_today)
    # Who added the handler to the channel (None: the command line), and the
    # last key holder who refused; the grant waits for another's approval.
    requested_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    refused_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    refused_on: Mapped[dt.date | None] = mapped_column(Date)
    # Whether the case is open, kept with its status (models/case_counts.py):
    # the inbox counts a handler's grants on open cases from this index alone.
    case_open: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    __table_args__ = (Index("ix_key_grants_user", "user_id"),
                      Index("ix_key_grants_user_open", "user_id", "case_open", "report_id"), ORDERLESS)
