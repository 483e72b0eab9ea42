"""Stories of removed obstacles: drafted by the handler who closes the case
(only with the reporter's consent), published once a second person approves
them, and listed on the insights page. A story keeps only clear fields and
the handler's own sanitised words, so it may outlive its report."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..domain.quarters import quarter_of
from ..domain.sanitize import clean_story_html
from ..models import PublishedSummary, Report, User
from ..models.base import today
from ..models.stats import SUMMARY_APPROVED

PUBLISHED_PAGE = 50


def draft_story(db: Session, user: User, report: Report, *, title: str, body: str,
                hours_saved: int | None) -> PublishedSummary | None:
    """A draft for a second person to approve; None without consent or text."""
    if not (report.publish_consent and title.strip() and body.strip()):
        return None
    summary = PublishedSummary(
        report_id=report.id, category=report.category, chain_level=report.chain_level,
        principle=report.principle, quarter=quarter_of(report.closed_on or today()),
        title=title.strip(), body_html=clean_story_html(body),
        hours_saved_per_year=hours_saved, written_by=user.id)
    db.add(summary)
    db.flush()
    audit.record(db, "summary.draft", actor_user_id=user.id, target_type="report", target_id=report.id)
    return summary


def published(db: Session, language: str) -> list[PublishedSummary]:
    """The newest approved stories, those in `language` first (a story has
    one language; the page marks the others with theirs)."""
    return list(db.scalars(
        select(PublishedSummary)
        .where(PublishedSummary.status == SUMMARY_APPROVED)
        .order_by((PublishedSummary.language != language), PublishedSummary.published_on.desc(),
                  PublishedSummary.id)
        .limit(PUBLISHED_PAGE)
    ))
