"""The handler's inbox: the cases they may see (access.visible_condition),
filtered, sorted and paged with indexed queries (see docs/benchmarks.md,
"Inbox", for the figures at 100 000 and 1 000 000 cases), and the counts of
what needs action and what waits for a key.

Nothing on a page costs in proportion to the number of cases: the total
comes from the maintained counts (models/case_counts.py) minus the
handler's exclusions, the cases waiting for a key from the handler's
pending grants, and Next and Previous carry the sort key of the page's last
or first row (keyset pagination), so the next page is an index range read
from there. A page asked for by number alone (typed, or Last) is read with
OFFSET, from the nearer end. The overdue filter, which depends on the day,
counts its cases one by one up to CASES_COUNTED_UP_TO and then says "at
least": its pages are then read forward only, by keyset or OFFSET.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, replace

from sqlalchemy import and_, exists, func, literal, or_, select, true, tuple_
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
from ..models import CaseCount, Channel, KeyGrant, Membership, Message, Report, ReportKey, User
from ..models.case_counts import EVERY_CASE
from .access import visible_condition

PAGE_SIZE = 50
# No inbox has this many pages (50 million cases): a larger number asked
# for is read as this one, never turned into an OFFSET the database refuses.
MAX_PAGE = 1_000_000
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
WAITING_COUNTED_UP_TO = 100
# The overdue cases (the day moves cases in, so no maintained count can say)
# and a typed reference are counted from the cases themselves, up to this
# many (20 pages); reading more would cost in proportion to them.
CASES_COUNTED_UP_TO = 1000
# The sorts whose key is never NULL, paged by keyset: (column, descending).
# feedback_due is NULL for cases not acknowledged: its pages use OFFSET.
KEYSET_SORTS = {"received": (Report.received_on, True), "acknowledge_due": (Report.acknowledge_due, False)}
CURSOR_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.([A-Za-z0-9_-]{22})$")


@dataclass(frozen=True)
class Cursor:
    """A row's place in a keyset sort: its sort date and id."""

    on: dt.date
    report_id: str

    def encode(self) -> str:
        return f"{self.on.isoformat()}.{self.report_id}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """None for anything that is not a cursor: the page is then read by its number."""
        found = CURSOR_RE.match(text or "")
        if not found:
            return None
        try:
            return cls(dt.date.fromisoformat(found.group(1)), found.group(2))
        except ValueError:
            return None


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
    after: Cursor | None = None  # Next: the rows after this one in the sort
    before: Cursor | None = None  # Previous: the rows before it

    @classmethod
    def parse(cls, args) -> InboxFilter:
        """From query arguments; anything unknown falls back to the default."""
        def pick(name, allowed):
            value = args.get(name) or None
            return value if value in allowed else None
        try:
            page = min(max(1, int(args.get("page", 1))), MAX_PAGE)
        except (TypeError, ValueError):
            page = 1
        typed = (args.get("ref") or "").strip()[:40]
        return cls(status=pick("status", STATUSES), track=pick("track", TRACKS),
                   channel_id=args.get("channel") or None, overdue=args.get("overdue") == "1",
                   sort=pick("sort", SORTS) or "received", page=page,
                   reference=case_reference.normalise(typed), reference_typed=typed,
                   after=Cursor.parse(args.get("after")), before=Cursor.parse(args.get("before")))


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
    next_after: str | None = None  # the cursors of the Next and Previous links (keyset sorts)
    previous_before: str | None = None
    total_at_least: bool = False  # the count stopped at its cap: the total and the pages are "at least"

    @property
    def has_next(self) -> bool:
        if self.total_at_least:
            return len(self.rows) == PAGE_SIZE
        return self.page < self.pages

    @property
    def waiting_at_least(self) -> bool:
        """The waiting count stopped at its cap: the page says "at least"."""
        return self.waiting_for_access >= WAITING_COUNTED_UP_TO


def _my_channels(user: User):
    return select(Membership.channel_id).where(Membership.user_id == user.id)


def _overdue_branches(today: dt.date, *, in_received_order: bool = False) -> list:
    """Not acknowledged in time, or no feedback in time: disjoint by status.
    in_received_order: the status wrapped so that no index on it is used.
    With many overdue cases, SQLite would otherwise read every one of them
    through the two overdue indexes and sort them for a page of 50 (228 ms
    at 23 000 of them), where the received-order index, which carries the
    deadlines, finds the first 50 after a few thousand entries."""
    status = func.coalesce(Report.status, "") if in_received_order else Report.status
    return [and_(status == STATUS_NEW, Report.acknowledge_due < today),
            and_(status.in_(OPEN_FOR_FEEDBACK), Report.feedback_on.is_(None), Report.feedback_due < today)]


def overdue_condition(today: dt.date, *, in_received_order: bool = False):
    return or_(*_overdue_branches(today, in_received_order=in_received_order))


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


def _filter_conditions(f: InboxFilter, today: dt.date, *, many_overdue: bool = False) -> list:
    conditions = []
    if f.status:
        conditions.append(Report.status == f.status)
    if f.track:
        conditions.append(Report.track == f.track)
    if f.channel_id:
        conditions.append(Report.channel_id == f.channel_id)
    if f.overdue:
        conditions.append(overdue_condition(today, in_received_order=many_overdue and f.sort == "received"))
    if f.reference_typed:
        # A typed reference that cannot be one finds nothing, rather than everything.
        conditions.append(Report.reference == (f.reference or ""))
    return conditions


def _filtered(user: User, f: InboxFilter, today: dt.date, *, many_overdue: bool = False):
    return and_(visible_condition(user), *_filter_conditions(f, today, many_overdue=many_overdue))


def _count_visible(db: Session, user: User, conditions: list, up_to: int) -> int:
    """How many cases visible to `user` meet `conditions`, up to `up_to`,
    from the cases themselves, each read through the index of its condition:
    for the filters the maintained counts cannot answer (the overdue cases,
    a typed reference)."""
    found = select(Report.id).where(visible_condition(user), *conditions).limit(up_to).subquery()
    return int(db.scalar(select(func.count()).select_from(found)) or 0)


def _total(db: Session, user: User, f: InboxFilter, today: dt.date) -> tuple[int, bool]:
    """The cases the page is one of, and whether that is all of them (not a
    count stopped at its cap). By status, track and channel from the
    maintained counts; a reference (one case at most) and the overdue
    filter (which depends on the day, up to its cap) from the cases."""
    if not (user.is_handler and user.active):
        return 0, True
    if f.overdue or f.reference_typed:
        # Each overdue branch counted on its own reads its index alone (an OR reads the rows).
        rest = _filter_conditions(replace(f, overdue=False), today)
        parts = _overdue_branches(today) if f.overdue else [true()]
        counted = min(CASES_COUNTED_UP_TO, sum(_count_visible(db, user, [*rest, part], CASES_COUNTED_UP_TO)
                                               for part in parts))
        return counted, counted < CASES_COUNTED_UP_TO
    kept = [CaseCount.channel_id.in_(_my_channels(user))]
    for column, value in ((CaseCount.status, f.status), (CaseCount.track, f.track),
                          (CaseCount.channel_id, f.channel_id)):
        if value:
            kept.append(column == value)

    def summed(excluded: str):
        return (select(func.coalesce(func.sum(CaseCount.cases), 0))
                .where(*kept, CaseCount.excluded_user_id == excluded).scalar_subquery())

    # The cases of the user's channels, less those of them that exclude the user.
    return int(db.scalar(select(summed(EVERY_CASE) - summed(user.id))) or 0), True


def _keyset(f: InboxFilter, where):
    """The ids of the page after f.after or before f.before, in display
    order, read as an index range from the cursor; None when the sort or the
    cursor does not allow it."""
    cursor = f.after or f.before
    if f.sort not in KEYSET_SORTS or cursor is None:
        return None
    column, descending = KEYSET_SORTS[f.sort]
    row, at = tuple_(column, Report.id), tuple_(literal(cursor.on, column.type), literal(cursor.report_id))
    forward = f.after is not None
    later = (row < at) if descending else (row > at)  # later in the display order
    earlier = (row > at) if descending else (row < at)
    return (select(Report.id).where(where, later if forward else earlier)
            .order_by(*(SORTS if forward else REVERSED_SORTS)[f.sort]).limit(PAGE_SIZE))


def _offset(f: InboxFilter, where, total: int | None, page: int):
    """The ids of page `page` by OFFSET, past the middle counted from the end
    when the total is known."""
    offset, limit, order = (page - 1) * PAGE_SIZE, PAGE_SIZE, SORTS[f.sort]
    if total is not None and offset and offset > total - offset - PAGE_SIZE:
        offset, order = total - offset - PAGE_SIZE, REVERSED_SORTS[f.sort]
        if offset < 0:
            offset, limit = 0, PAGE_SIZE + offset
    return select(Report.id).where(where).order_by(*order).limit(limit).offset(offset)


def _rows(db: Session, user: User, ids, sort: str, today: dt.date) -> list[InboxRow]:
    """The page's rows and their per-row EXISTS, for the page's ids only."""
    ids = ids.subquery()
    query = (
        select(Report, _has_key_expr(user), _unread_expr(), overdue_condition(today), due_soon_condition(today))
        .join(ids, ids.c.id == Report.id)
        .order_by(*SORTS[sort])
    )
    return [InboxRow(report, bool(has_key), bool(unread), bool(overdue), bool(soon))
            for report, has_key, unread, overdue, soon in db.execute(query)]


def _cursor_of(row: InboxRow, sort: str) -> str:
    column, _descending = KEYSET_SORTS[sort]
    return Cursor(getattr(row.report, column.key), row.report.id).encode()


def inbox_page(db: Session, user: User, f: InboxFilter, today: dt.date) -> InboxPage:
    total, exact = _total(db, user, f, today)
    where = _filtered(user, f, today, many_overdue=not exact)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    # Past a capped count the pages are not known: Next goes on while rows come.
    page = min(f.page, pages) if exact else f.page
    keyset = _keyset(f, where)
    rows = _rows(db, user, keyset, f.sort, today) if keyset is not None else []
    if not rows:  # no cursor, or nothing left beside it (cases closed or purged meanwhile): by number
        rows = _rows(db, user, _offset(f, where, total if exact else None, page), f.sort, today)
    channels = list(db.scalars(select(Channel).where(Channel.id.in_(_my_channels(user))).order_by(Channel.name)))
    paged = f.sort in KEYSET_SORTS and rows
    return InboxPage(rows, total, page, max(pages, page), channels, waiting_for_access(db, user),
                     next_after=_cursor_of(rows[-1], f.sort) if paged else None,
                     previous_before=_cursor_of(rows[0], f.sort) if paged else None,
                     total_at_least=not exact)


def waiting_for_access(db: Session, user: User) -> int:
    """Open cases the user may see but holds no key for, whose key a
    colleague has been asked for: the user's pending grants (a case without
    a key always has one, from the submission or from joining the channel,
    until it is approved; grants.py), not every open case checked for a key.
    Counted up to WAITING_COUNTED_UP_TO (a newcomer to a large channel waits
    for every case in it): the page then says "at least"."""
    if not (user.is_handler and user.active):
        return 0
    # case_open (kept with the status) lets the index give the open cases'
    # grants alone: the grants on closed cases, often most, are not read.
    waiting = (select(KeyGrant.report_id).join(Report, Report.id == KeyGrant.report_id)
               .where(KeyGrant.user_id == user.id, KeyGrant.case_open.is_(True), Report.status != STATUS_CLOSED,
                      visible_condition(user), ~_has_key_expr(user))
               .limit(WAITING_COUNTED_UP_TO).subquery())
    return db.scalar(select(func.count()).select_from(waiting)) or 0


def needs_action_count(db: Session, user: User, today: dt.date) -> int:
    return db.scalar(select(func.count()).select_from(Report).where(
        visible_condition(user), Report.status != STATUS_CLOSED, needs_action_condition(today))) or 0
