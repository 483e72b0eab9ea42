"""Published removed-obstacle stories and the statistics releases."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import ID_LENGTH, Base, new_id, utcnow

SUMMARY_DRAFT = "draft"
SUMMARY_APPROVED = "approved"
SUMMARY_WITHDRAWN = "withdrawn"
SUMMARY_REJECTED = "rejected"
STORY_STATES = (SUMMARY_DRAFT, SUMMARY_APPROVED, SUMMARY_REJECTED, SUMMARY_WITHDRAWN)


class PublishedSummary(Base):
    """A handler-written, second-person-approved story of a removed obstacle.

    It keeps only clear fields and the sanitised text, so it may outlive the
    report it came from (report_id is set NULL by retention).
    """

    __tablename__ = "published_summaries"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    report_id: Mapped[str | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"), index=True)
    language: Mapped[str] = mapped_column(String(8), default="sv")
    category: Mapped[str] = mapped_column(String(40))
    chain_level: Mapped[str | None] = mapped_column(String(40))
    principle: Mapped[str | None] = mapped_column(String(40))
    quarter: Mapped[str] = mapped_column(String(7))  # e.g. "2026-Q3"
    title: Mapped[str] = mapped_column(String(200))
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=SUMMARY_DRAFT)
    written_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_on: Mapped[dt.date | None] = mapped_column(Date)


class StatsRelease(Base):
    """One published table for one quarter, frozen so later releases can be
    checked against it (complementary suppression across releases)."""

    __tablename__ = "stats_releases"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    quarter: Mapped[str] = mapped_column(String(7))
    table_name: Mapped[str] = mapped_column(String(40))
    cells_json: Mapped[str] = mapped_column(Text)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("quarter", "table_name", name="uq_stats_releases_quarter_table"),)
