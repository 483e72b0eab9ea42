"""Stories of removed obstacles: drafted by the handler who closes the case
(only with the reporter's consent), published once a second person approves
them, and listed on the insights page. A story keeps only clear fields and
the handler's own sanitised words, so it may outlive its report.

Who may do what: the author edits their draft until it is decided; another
handler of the case's channel, or an admin, approves (with any edits),
rejects, or later withdraws it. Nobody approves their own story.
"""
from __future__ import annotations

from collections.abc import Collection

from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from .. import audit
from ..domain.quarters import quarter_of
from ..domain import names
from ..domain.sanitize import clean_story_html
from ..models import PublishedSummary, Report, ReportKey, User
from ..models.base import today
from ..models.stats import SUMMARY_APPROVED, SUMMARY_DRAFT, SUMMARY_REJECTED, SUMMARY_WITHDRAWN

PUBLISHED_PAGE = 50


class StoryRefused(Exception):
    """Not this person's to decide (their own story, or not their channel), or not in that state."""


@dataclass(frozen=True)
class StoryText:
    title: str
    body: str
    language: str


def draft_story(db: Session, user: User, report: Report, text: StoryText) -> PublishedSummary | None:
    """A draft for a second person to approve; None without consent or text."""
    if not (report.publish_consent and text.title.strip() and text.body.strip()):
        return None
    summary = PublishedSummary(
        report_id=report.id, category=report.category, chain_level=report.chain_level,
        principle=report.principle, quarter=quarter_of(report.closed_on or today()), written_by=user.id)
    _set_text(summary, text)
    db.add(summary)
    db.flush()
    audit.record(db, "story.draft", actor_user_id=user.id, target_type="story", target_id=summary.id)
    return summary


def _set_text(summary: PublishedSummary, text: StoryText) -> None:
    summary.title, summary.body_html = names.clean(text.title)[:200], clean_story_html(text.body)
    summary.language = text.language


def of_report(db: Session, report: Report) -> PublishedSummary | None:
    """The newest story drafted for `report`."""
    return db.scalars(select(PublishedSummary).where(PublishedSummary.report_id == report.id)
                      .order_by(PublishedSummary.id.desc())).first()


def edit_draft(db: Session, user: User, story: PublishedSummary, text: StoryText) -> None:
    if story.written_by != user.id or story.status != SUMMARY_DRAFT:
        raise StoryRefused()
    _set_text(story, text)
    audit.record(db, "story.edit", actor_user_id=user.id, target_type="story", target_id=story.id)


def may_decide(db: Session, user: User, story: PublishedSummary) -> bool:
    """An admin, or a handler who holds the case's key (so never one the
    reporter excluded, who never gets it); never its author."""
    if story.written_by == user.id:
        return False
    if user.is_admin:
        return True
    return bool(user.is_handler and story.report_id and db.get(ReportKey, (story.report_id, user.id)))


def _reviewable(user: User):
    query = select(PublishedSummary).where(PublishedSummary.written_by.is_distinct_from(user.id))
    if not user.is_admin:
        # EXISTS, not a join: the stories (a few) are read and each key looked
        # up, rather than every key of the handler's (the whole inbox) read
        # to find the stories among them, on every staff page (the menu).
        query = query.where(exists().where(ReportKey.report_id == PublishedSummary.report_id,
                                           ReportKey.user_id == user.id))
    return query


def to_review(db: Session, user: User) -> list[PublishedSummary]:
    return list(db.scalars(_reviewable(user).where(PublishedSummary.status == SUMMARY_DRAFT)
                           .order_by(PublishedSummary.quarter, PublishedSummary.id)))


def review_count(db: Session, user: User) -> int:
    """Drafts waiting for `user`'s decision (for the staff menu)."""
    waiting = _reviewable(user).where(PublishedSummary.status == SUMMARY_DRAFT).subquery()
    return db.scalar(select(func.count()).select_from(waiting)) or 0


def decided_by_others(db: Session, user: User) -> list[PublishedSummary]:
    """Published stories `user` may withdraw."""
    return list(db.scalars(_reviewable(user).where(PublishedSummary.status == SUMMARY_APPROVED)
                           .order_by(PublishedSummary.published_on.desc(), PublishedSummary.id)))


def approve(db: Session, user: User, story: PublishedSummary, text: StoryText) -> bool:
    """Publish the story as it stands; only quarter, category, chain level
    and the text are ever shown (not its hours: the quarter's published
    total less the stories' hours gave a case without a story away). If the reviewer changed it, it is not
    published: it becomes the reviewer's draft, for another person (such as
    its first author) to approve, so two people always saw what goes out.
    Returns whether it was published."""
    if story.status != SUMMARY_DRAFT or not may_decide(db, user, story):
        raise StoryRefused()
    before = (story.title, story.body_html, story.language)
    _set_text(story, text)
    if (story.title, story.body_html, story.language) != before:
        story.written_by = user.id
        audit.record(db, "story.edit", actor_user_id=user.id, target_type="story", target_id=story.id)
        return False
    story.status, story.approved_by, story.published_on = SUMMARY_APPROVED, user.id, today()
    audit.record(db, "story.approve", actor_user_id=user.id, target_type="story", target_id=story.id)
    return True


def reject(db: Session, user: User, story: PublishedSummary) -> None:
    if story.status != SUMMARY_DRAFT or not may_decide(db, user, story):
        raise StoryRefused()
    story.status, story.approved_by = SUMMARY_REJECTED, user.id
    audit.record(db, "story.reject", actor_user_id=user.id, target_type="story", target_id=story.id)


def withdraw(db: Session, user: User, story: PublishedSummary) -> None:
    if story.status != SUMMARY_APPROVED or not (user.is_admin or may_decide(db, user, story)
                                                  or story.written_by == user.id):
        raise StoryRefused()
    story.status = SUMMARY_WITHDRAWN
    audit.record(db, "story.withdraw", actor_user_id=user.id, target_type="story", target_id=story.id)


def published(db: Session, language: str, shown_cells: Collection[tuple[str, str]]) -> list[PublishedSummary]:
    """The newest approved stories, those in `language` first (a story has
    one language; the page marks the others with theirs). Only stories whose
    (quarter, kind) is a shown, non-zero cell of the removed-by-kind table:
    a story in a hidden cell would tell that the cell holds one or more."""
    # Only once the story's quarter has ended, like every published figure:
    # a story shown at once would say an obstacle was removed this quarter.
    found = db.scalars(
        select(PublishedSummary)
        .where(PublishedSummary.status == SUMMARY_APPROVED, PublishedSummary.quarter < quarter_of(today()))
        .order_by((PublishedSummary.language != language), PublishedSummary.published_on.desc(),
                  PublishedSummary.id))
    return [story for story in found if (story.quarter, story.category) in shown_cells][:PUBLISHED_PAGE]
