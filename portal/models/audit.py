"""The append-only audit log of handler and admin actions, in keyed hash
chains (domain/audit_chain.py), and the trust anchor's signed heads of it."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import ID_LENGTH, Base, new_id, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    lane: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, default=0)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    format: Mapped[int] = mapped_column(Integer, default=1)  # 0: unkeyed, written before the log was keyed
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)

    # The admin's log is read newest first and by date (organisation/audit_view.py).
    __table_args__ = (Index("ix_audit_events_at", "at"),)


class AuditHead(Base):
    """The ends of every lane at one moment, signed with the anchor key
    (`portal audit sign`): events up to it are protected even against
    whoever holds the pepper."""

    __tablename__ = "audit_heads"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    heads: Mapped[str] = mapped_column(Text)  # JSON [[lane, seq, hash hex], ...]
    signature: Mapped[bytes] = mapped_column(LargeBinary)
