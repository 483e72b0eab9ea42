"""What a handler may see: the cases of their channels minus the ones that
excluded them, filtered, sorted and paged in one indexed query per page.

Visibility is decided here and nowhere else; the case view asks
`visible_report` so that a URL guessed or copied cannot open a case.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import and_, exists, false, func, or_, select
from sqlalchemy.orm import Session

from .domain.cases import DUE_SOON_DAYS
from .domain.taxonomy import (
    AUTHOR_REPORTER,
    STATUS_ACKNOWLEDGED,
    STATUS_CLOSED,
    STATUS_IN_PROGRESS,
    STATUS_NEW,
    STATUSES,
    TRACKS,
)
from .models import Channel, Exclusion, Membership, Message, Report, ReportKey, User

PAGE_SIZE = 50
SORTS = {
    "received": (Report.received_on.desc(), Report.id.desc()),
    "acknowledge_due": (Report.acknowledge_due.asc(), Report.id.asc()),
    "feedback_due": (Report.feedback_due.asc().nulls_last(), Report.id.asc()),
}
OPEN_FOR_FEEDBACK = (STATUS_ACKNOWLEDGED, STATUS_IN_PROGRESS)


@dataclass(frozen=True)
class InboxFilter:
    status: str | None = None
    track: str | None = None
    channel_id: str | None = None
    overdue: bool = False
    sort: str = "received"
    page: int = 1

    @classmethod
    def parse(cls, args) -> InboxFilter:
        """From query arguments; anything unknown falls back to the default."""
        def pick(name, allowed):
            value = args.get(name) or None
            return value if value in allowed else None
        try:
            page = max(1, int(args.get("page", 1)))
        except (TypeError, ValueError):
            page = 1
        return cls(status=pick("status", STATUSES), track=pick("track", TRACKS),
                   channel_id=args.get("channel") or None, overdue=args.get("overdue") == "1",
                   sort=pick("sort", SORTS) or "received", page=page)


@dataclass(frozen=True)
class InboxRow:
    report: Report
    has_key: bool
    unread: bool
    overdue: bool
    due_soon: bool


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    page: int
    pages: int
    channels: list[Channel]
    waiting_for_access: int


def _my_channels(user: User):
    return select(Membership.channel_id).where(Membership.user_id == user.id)


def visible_condition(user: User):
    """The cases `user` may see: their channels, not excluded, handler role."""
    if not (user.is_handler and user.active):
        return false()
    excluded = exists().where(Exclusion.report_id == Report.id, Exclusion.user_id == user.id)
    return and_(Report.channel_id.in_(_my_channels(user)), ~excluded)


def overdue_condition(today: dt.date):
    return or_(
        and_(Report.status == STATUS_NEW, Report.acknowledge_due < today),
        and_(Report.status.in_(OPEN_FOR_FEEDBACK), Report.feedback_on.is_(None), Report.feedback_due < today),
    )


def due_soon_condition(today: dt.date):
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    return or_(
        and_(Report.status == STATUS_NEW, Report.acknowledge_due.between(today, soon)),
        and_(Report.status.in_(OPEN_FOR_FEEDBACK), Report.feedback_on.is_(None),
             Report.feedback_due.between(today, soon)),
    )


def needs_action_condition(today: dt.date):
    """New, overdue, due soon, or with a reporter message nobody has read."""
    return or_(Report.status == STATUS_NEW, overdue_condition(today), due_soon_condition(today),
               _unread_expr())


def _unread_expr():
    return exists().where(Message.report_id == Report.id, Message.author == AUTHOR_REPORTER,
                          Message.read_by_handler.is_(False))


def _has_key_expr(user: User):
    return exists().where(ReportKey.report_id == Report.id, ReportKey.user_id == user.id)


def _filtered(user: User, f: InboxFilter, today: dt.date):
    conditions = [visible_condition(user)]
    if f.status:
        conditions.append(Report.status == f.status)
    if f.track:
        conditions.append(Report.track == f.track)
    if f.channel_id:
        conditions.append(Report.channel_id == f.channel_id)
    if f.overdue:
        conditions.append(overdue_condition(today))
    return and_(*conditions)


def inbox_page(db: Session, user: User, f: InboxFilter, today: dt.date) -> InboxPage:
    where = _filtered(user, f, today)
    total = db.scalar(select(func.count()).select_from(Report).where(where)) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(f.page, pages)
    query = (
        select(Report, _has_key_expr(user), _unread_expr(), overdue_condition(today), due_soon_condition(today))
        .where(where)
        .order_by(*SORTS[f.sort])
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    rows = [InboxRow(report, bool(has_key), bool(unread), bool(overdue), bool(soon))
            for report, has_key, unread, overdue, soon in db.execute(query)]
    channels = list(db.scalars(select(Channel).where(Channel.id.in_(_my_channels(user))).order_by(Channel.name)))
    return InboxPage(rows, total, page, pages, channels, waiting_for_access(db, user))


def waiting_for_access(db: Session, user: User) -> int:
    return db.scalar(select(func.count()).select_from(Report).where(
        visible_condition(user), ~_has_key_expr(user), Report.status != STATUS_CLOSED)) or 0


def needs_action_count(db: Session, user: User, today: dt.date) -> int:
    return db.scalar(select(func.count()).select_from(Report).where(
        visible_condition(user), Report.status != STATUS_CLOSED, needs_action_condition(today))) or 0


def visible_report(db: Session, user: User, report_id: str) -> Report | None:
    return db.scalar(select(Report).where(Report.id == report_id, visible_condition(user)))
