"""The handler's inbox: the cases they may see (access.visible_condition),
filtered, sorted and paged with indexed queries (see docs/benchmarks.md,
"Inbox", for the figures at 100 000 cases), and the counts of what needs
action and what waits for a key.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from ..domain import case_reference
from ..domain.cases import DUE_SOON_DAYS
from ..domain.taxonomy import (
    AUTHOR_REPORTER,
    STATUS_ACKNOWLEDGED,
    STATUS_CLOSED,
    STATUS_IN_PROGRESS,
    STATUS_NEW,
    STATUSES,
    TRACKS,
)
from ..models import Channel, Exclusion, Membership, Message, Report, ReportKey, User
from .access import visible_condition

PAGE_SIZE = 50
SORTS = {
    "received": (Report.received_on.desc(), Report.id.desc()),
    "acknowledge_due": (Report.acknowledge_due.asc(), Report.id.asc()),
    "feedback_due": (Report.feedback_due.asc().nulls_last(), Report.id.asc()),
}
# Each sort turned around exactly (id breaks ties, so the order is total):
# the pages past the middle are read from the end with a small OFFSET.
REVERSED_SORTS = {
    "received": (Report.received_on.asc(), Report.id.asc()),
    "acknowledge_due": (Report.acknowledge_due.desc(), Report.id.desc()),
    "feedback_due": (Report.feedback_due.desc().nulls_first(), Report.id.desc()),
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
    reference: str | None = None  # typed by a handler: found however it is spaced or cased
    reference_typed: str = ""

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
        typed = (args.get("ref") or "").strip()[:40]
        return cls(status=pick("status", STATUSES), track=pick("track", TRACKS),
                   channel_id=args.get("channel") or None, overdue=args.get("overdue") == "1",
                   sort=pick("sort", SORTS) or "received", page=page,
                   reference=case_reference.normalise(typed), reference_typed=typed)


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


def _filter_conditions(f: InboxFilter, today: dt.date) -> list:
    conditions = []
    if f.status:
        conditions.append(Report.status == f.status)
    if f.track:
        conditions.append(Report.track == f.track)
    if f.channel_id:
        conditions.append(Report.channel_id == f.channel_id)
    if f.overdue:
        conditions.append(overdue_condition(today))
    if f.reference_typed:
        # A typed reference that cannot be one finds nothing, rather than everything.
        conditions.append(Report.reference == (f.reference or ""))
    return conditions


def _filtered(user: User, f: InboxFilter, today: dt.date):
    return and_(visible_condition(user), *_filter_conditions(f, today))


def _count_visible(db: Session, user: User, *conditions) -> int:
    """How many cases visible to `user` meet `conditions`, counted as the
    cases of the user's channels that meet them minus those among them that
    excluded the user: the same number as a count with visible_condition (an
    exclusion is one row per case and handler), but the channels' cases are
    counted from an index range without a lookup each, and only the user's
    exclusions (a few) are looked up one by one."""
    if not (user.is_handler and user.active):
        return 0
    counted = and_(Report.channel_id.in_(_my_channels(user)), *conditions)
    in_channels = select(func.count()).select_from(Report).where(counted).scalar_subquery()
    this_one = (select(func.count()).select_from(Report)
                .where(Report.id == Exclusion.report_id, counted).scalar_subquery())
    excluded = (select(func.coalesce(func.sum(this_one), 0)).select_from(Exclusion)
                .where(Exclusion.user_id == user.id).scalar_subquery())
    return int(db.scalar(select(in_channels - excluded)) or 0)  # PostgreSQL's sum() is numeric


def inbox_page(db: Session, user: User, f: InboxFilter, today: dt.date) -> InboxPage:
    where = _filtered(user, f, today)
    total = _count_visible(db, user, *_filter_conditions(f, today))
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(f.page, pages)
    # The page's ids first, from the index of the sort order (past the middle
    # counted from the end), then the 50 rows and their per-row EXISTS.
    offset, limit, order = (page - 1) * PAGE_SIZE, PAGE_SIZE, SORTS[f.sort]
    if offset and offset > total - offset - PAGE_SIZE:
        offset, order = total - offset - PAGE_SIZE, REVERSED_SORTS[f.sort]
        if offset < 0:
            offset, limit = 0, PAGE_SIZE + offset
    ids = select(Report.id).where(where).order_by(*order).limit(limit).offset(offset).subquery()
    query = (
        select(Report, _has_key_expr(user), _unread_expr(), overdue_condition(today), due_soon_condition(today))
        .join(ids, ids.c.id == Report.id)
        .order_by(*SORTS[f.sort])
    )
    rows = [InboxRow(report, bool(has_key), bool(unread), bool(overdue), bool(soon))
            for report, has_key, unread, overdue, soon in db.execute(query)]
    channels = list(db.scalars(select(Channel).where(Channel.id.in_(_my_channels(user))).order_by(Channel.name)))
    return InboxPage(rows, total, page, pages, channels, waiting_for_access(db, user))


def waiting_for_access(db: Session, user: User) -> int:
    # The status inline, not a bound parameter: PostgreSQL can then use the
    # partial index of open cases (ix_reports_open) in a generic plan too,
    # which it switches to once psycopg prepares the repeated statement.
    not_closed = Report.status != literal(STATUS_CLOSED, literal_execute=True)
    return _count_visible(db, user, not_closed, ~_has_key_expr(user))


def needs_action_count(db: Session, user: User, today: dt.date) -> int:
    return db.scalar(select(func.count()).select_from(Report).where(
        visible_condition(user), Report.status != STATUS_CLOSED, needs_action_condition(today))) or 0

