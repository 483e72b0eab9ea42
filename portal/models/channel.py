"""Channels of handlers, their members, routing rules and the unit list."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import ID_LENGTH, Base, new_id, utcnow


class Channel(Base):
    __tablename__ = "channels"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    track: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(500), default="")
    name_en: Mapped[str] = mapped_column(String(120), default="")  # "" shows the Swedish name
    description_en: Mapped[str] = mapped_column(String(500), default="")
    # Counted from closure (reports/retention.py); misconduct at most 24 (2021:890).
    retention_months: Mapped[int] = mapped_column(Integer, default=24)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    memberships: Mapped[list[Membership]] = relationship(cascade="all, delete-orphan")


class Membership(Base):
    __tablename__ = "memberships"

    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class RoutingRule(Base):
    """Track + category (+ chain level) -> channel; the most specific rule wins."""

    __tablename__ = "routing_rules"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    track: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(40))
    chain_level: Mapped[str | None] = mapped_column(String(40))
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    priority: Mapped[int] = mapped_column(Integer, default=100)


class Unit(Base):
    """An organisational unit reporters may name (coarse, optional)."""

    __tablename__ = "units"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # When reporters could choose it (None: from the start; still): the
    # statistics give a quarter a cell only for units choosable in it.
    created_on: Mapped[dt.date | None] = mapped_column(Date)
    retired_on: Mapped[dt.date | None] = mapped_column(Date)
