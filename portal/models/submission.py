"""One-time tokens of the report forms, so that a form is turned into at most
one report however often, or however simultaneously, it is sent."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import ORDERLESS, Base, today


class UsedFormToken(Base):
    """A form token that produced a report. Only its SHA-256 is stored; the
    token itself lives in the reporter's page. Until the receipt is shown,
    `held_receipt` keeps it sealed under the token (crypto.session), so a
    second copy of the same POST (a double click) can show the receipt of
    the one report instead of making another or losing it."""

    __tablename__ = "used_form_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    held_receipt: Mapped[bytes | None] = mapped_column(LargeBinary)
    used_on: Mapped[dt.date] = mapped_column(Date, default=today)
    __table_args__ = (ORDERLESS,)
