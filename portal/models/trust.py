"""Signed recipient statements: the trust anchor's word that one key of one
account may receive one channel's report keys. Stored here, but worth
nothing without a signature that a pinned anchor key verifies (trust/)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import ID_LENGTH, Base, new_id, utcnow


class RecipientStatement(Base):
    __tablename__ = "recipient_statements"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_version: Mapped[int] = mapped_column(Integer)
    not_before: Mapped[dt.date] = mapped_column(Date)
    not_after: Mapped[dt.date | None] = mapped_column(Date)
    display_name: Mapped[str | None] = mapped_column(String(120))  # as signed (older statements: none)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    signed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "channel_id", "key_version",
                                       name="uq_recipient_statements_user_channel_version"),)
