"""The declared statistics tables, counted from the clear fields of reports
and their timelines, never from anything a reporter wrote. No other query
feeds a published figure (DESIGN: a fixed set of tables, no ad-hoc queries).

Each table is counted for one ended quarter (misconduct for one ended year)
as partitions: {partition name: {cell: count}}. disclosure.protect() then
decides what may be shown, and releases.py freezes the result.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Integer, and_, case, cast, extract, func, or_, select
from sqlalchemy.orm import Session

from ..domain import quarters
from ..domain.taxonomy import (
    AUTHOR_HANDLER,
    CHAIN_LEVELS,
    MISCONDUCT,
    OBSTACLE,
    OBSTACLE_CATEGORIES,
    OUTCOME_REMOVED,
    OUTCOMES_BY_TRACK,
    PRINCIPLES,
    STATUS_CLOSED,
    STATUS_NEW,
)
from ..models import Message, Report, StatusEvent, Unit

NOT_STATED = "not_stated"
NO_UNIT = "no_unit"
OTHER_UNITS = "other_units"
STALE_AFTER_DAYS = 56  # no update in 8 weeks
STATUS_WINDOW = 4  # the status table covers the obstacles of the last four quarters
GROUPS = (NOT_STATED, NO_UNIT, OTHER_UNITS, "met", "missed", "received", "open")  # cells beyond the taxonomy's codes
STILL_OPEN = "open"
STATES = ("new", "in_progress", "stale", "removed_recently", "removed_earlier", "closed_other")

# What each table counts; the page and the open data explain them with these names.
RECEIVED_TABLES = ("category", "chain_level", "principle", "unit")
# removed_category splits the outcome table's "removed" cell: shown only
# when that cell is (releases.py), so it never uncovers a hidden count.
QUARTER_TABLES = RECEIVED_TABLES + ("outcome", "removed_category", "status", "acknowledgement", "feedback")
YEAR_TABLES = ("misconduct_received", "misconduct_outcome")


@dataclass
class Counted:
    """The partitions of one table for one period, and figures derived from
    them that are shown only when the partition they belong to is."""

    partitions: dict[str, dict[str, int]]
    extras: dict[str, float | int | None] = field(default_factory=dict)


def _received(period_start: dt.date, period_end: dt.date, track: str):
    return and_(Report.track == track, Report.received_on >= period_start, Report.received_on < period_end)


def _quarter_key(column):
    """A date column's quarter as a number, 20263 for 2026-Q3, on SQLite and PostgreSQL alike."""
    year, month = cast(extract("year", column), Integer), cast(extract("month", column), Integer)
    return year * 10 + (month - 1) / 3 + 1


def _quarter_code(key: int) -> str:
    return f"{key // 10}-Q{key % 10}"


def _span(wanted: list[str]) -> tuple[dt.date, dt.date]:
    return min(quarters.start_of(q) for q in wanted), max(quarters.end_of(q) for q in wanted)


def _grouped_by_quarter(db: Session, column, wanted: list[str], keys) -> dict[str, dict[str, int]]:
    """{quarter: {value of column: obstacles received}} in one query for all `wanted` quarters."""
    first, last = _span(wanted)
    quarter = _quarter_key(Report.received_on)
    counts = {q: dict.fromkeys(keys, 0) for q in wanted}
    for key, value, count in db.execute(select(quarter, column, func.count())
                                        .where(_received(first, last, OBSTACLE)).group_by(quarter, column)):
        cells = counts.get(_quarter_code(int(key)))
        if cells is not None:
            cells[value] = cells.get(value, 0) + count
    return counts


def count_quarters(db: Session, wanted: list[str], table: str,
                   shown_quarters: frozenset[str]) -> dict[str, Counted]:
    """Count `table` for each quarter in `wanted`, with a few grouped queries
    for all of them. shown_quarters: the quarters whose obstacle totals are
    shown (the status table covers only those)."""
    if not wanted:
        return {}
    if table == "category":
        counts = _grouped_by_quarter(db, Report.category, wanted, OBSTACLE_CATEGORIES)
        return _with_ack_medians(db, wanted, counts)
    if table == "chain_level":
        counts = _grouped_by_quarter(db, func.coalesce(Report.chain_level, "unknown"), wanted, CHAIN_LEVELS)
        return {q: Counted({"all": c}) for q, c in counts.items()}
    if table == "principle":
        counts = _grouped_by_quarter(db, func.coalesce(Report.principle, NOT_STATED), wanted,
                                     PRINCIPLES + (NOT_STATED,))
        return {q: Counted({"all": c}) for q, c in counts.items()}
    if table == "unit":
        return _units_by_quarter(db, wanted)
    if table in ("outcome", "removed_category"):
        return _closings_by_quarter(db, wanted, table)
    if table == "status":
        return {q: _status(db, q, shown_quarters) for q in wanted}
    if table in ("acknowledgement", "feedback"):
        return _deadlines(db, table, wanted)
    raise ValueError(f"no such table: {table}")


def _units_by_quarter(db: Session, wanted: list[str]) -> dict[str, Counted]:
    """Every unit reporters could choose all through the quarter is a cell,
    protected like any partition; no other unit is. Merging the small ones
    named a different set each quarter (a merged unit was then 2..4), and a
    cell known to be 0 (a unit retired, or made and retired within the
    quarter) let a reader of the rule pin the hidden ones beside it (review
    findings). A report naming a unit that is no cell of its quarter counts
    as naming none, so the cells stay those anyone can list."""
    units = list(db.execute(select(Unit.id, Unit.created_on, Unit.retired_on).order_by(Unit.name)))
    everyone = tuple(unit_id for unit_id, _, _ in units)
    by_unit = _grouped_by_quarter(db, func.coalesce(Report.unit_id, NO_UNIT), wanted, everyone + (NO_UNIT,))
    result = {}
    for q, counts in by_unit.items():
        start, end = quarters.start_of(q), quarters.end_of(q)
        choosable = [unit_id for unit_id, made, retired in units
                     if (made is None or made <= start) and (retired is None or retired >= end)]
        cells = {unit_id: counts.get(unit_id, 0) for unit_id in choosable}
        cells[NO_UNIT] = sum(counts.values()) - sum(cells.values())
        result[q] = Counted({"all": cells})
    return result


def count_quarter(db: Session, quarter: str, table: str, shown_quarters: frozenset[str]) -> Counted:
    return count_quarters(db, [quarter], table, shown_quarters)[quarter]


def outcomes_counted_before(year: int) -> dt.date:
    """A year's misconduct outcomes are counted as they stood on 30 June the
    year after, and published the next day: a fixed date, so when they
    appear says nothing about the cases."""
    return dt.date(year + 1, 7, 1)


def count_year(db: Session, year: int, table: str) -> Counted:
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    if table == "misconduct_received":
        total = db.scalar(select(func.count()).select_from(Report).where(_received(start, end, MISCONDUCT))) or 0
        return Counted({"all": {"received": total}})
    if table == "misconduct_outcome":
        # The year's reports by how they stood when the outcomes are counted
        # (their last status before that date), or still open: the same
        # cases as misconduct_received, so the two share only their total.
        # (Closings counted by the year they happened could exceed the
        # year's receipts and tell a hidden earlier year's count.) Counting
        # at a fixed date, not when the page is first opened, keeps the
        # figures the same whenever they are frozen.
        cutoff = outcomes_counted_before(year)
        last_seq = (select(StatusEvent.report_id, func.max(StatusEvent.seq).label("seq"))
                    .join(Report, Report.id == StatusEvent.report_id)
                    .where(_received(start, end, MISCONDUCT), StatusEvent.occurred_on < cutoff)
                    .group_by(StatusEvent.report_id).subquery())
        counts = dict.fromkeys(OUTCOMES_BY_TRACK[MISCONDUCT] + (STILL_OPEN,), 0)
        for status, outcome, n in db.execute(
                select(StatusEvent.status, StatusEvent.outcome, func.count())
                .join(last_seq, and_(last_seq.c.report_id == StatusEvent.report_id,
                                     last_seq.c.seq == StatusEvent.seq))
                .group_by(StatusEvent.status, StatusEvent.outcome)):
            key = outcome if status == STATUS_CLOSED and outcome else STILL_OPEN
            counts[key] = counts.get(key, 0) + n
        return Counted({"all": counts})
    raise ValueError(f"no such table: {table}")


def _with_ack_medians(db: Session, wanted: list[str], counts: dict[str, dict[str, int]]) -> dict[str, Counted]:
    first, last = _span(wanted)
    days: dict[str, list[int]] = {q: [] for q in wanted}
    for got, acknowledged in db.execute(select(Report.received_on, Report.acknowledged_on).where(
            _received(first, last, OBSTACLE), Report.acknowledged_on.is_not(None))):
        found = days.get(quarters.quarter_of(got))
        if found is not None:
            found.append((acknowledged - got).days)
    return {q: Counted({"all": counts[q]}, {"ack_days": days[q]}) for q in wanted}


def _closings_by_quarter(db: Session, wanted: list[str], table: str, track: str = OBSTACLE) -> dict[str, Counted]:
    """Each report's last closing within a quarter (a case closed, reopened
    and closed again counts once, by how it was closed last), by outcome,
    or for removed ones by kind."""
    first, last = _span(wanted)
    quarter = _quarter_key(StatusEvent.occurred_on)
    latest = (select(StatusEvent.report_id, quarter.label("quarter"), func.max(StatusEvent.seq).label("seq"))
              .where(StatusEvent.status == STATUS_CLOSED, StatusEvent.occurred_on >= first,
                     StatusEvent.occurred_on < last)
              .group_by(StatusEvent.report_id, quarter).subquery())
    rows = db.execute(
        select(StatusEvent.outcome, Report.received_on, StatusEvent.occurred_on, Report.hours_saved_per_year,
               Report.category)
        .join(latest, and_(latest.c.report_id == StatusEvent.report_id, latest.c.seq == StatusEvent.seq))
        .join(Report, Report.id == StatusEvent.report_id)
        .where(Report.track == track))
    keys = OUTCOMES_BY_TRACK[track] if table != "removed_category" else OBSTACLE_CATEGORIES
    counts = {q: dict.fromkeys(keys, 0) for q in wanted}
    close_days: dict[str, list[int]] = {q: [] for q in wanted}
    hours = dict.fromkeys(wanted, 0)
    for outcome, received_on, closed_on, hours_saved, category in rows:
        q = quarters.quarter_of(closed_on)
        if q not in counts:
            continue
        if table == "removed_category":
            if outcome == OUTCOME_REMOVED:
                counts[q][category] = counts[q].get(category, 0) + 1
            continue
        counts[q][outcome] = counts[q].get(outcome, 0) + 1
        close_days[q].append((closed_on - received_on).days)
        if outcome == OUTCOME_REMOVED:
            hours[q] += hours_saved or 0
    if table == "removed_category":
        return {q: Counted({"all": counts[q]}) for q in wanted}
    return {q: Counted({"all": counts[q]}, {"close_days": close_days[q], "hours_saved": hours[q]}) for q in wanted}


def _status(db: Session, quarter: str, shown_quarters: frozenset[str]) -> Counted:
    """Where the obstacles of the last four shown quarters stood when
    `quarter` ended, in the manner of FixMyStreet: new, in progress, stale
    (no update in 8 weeks), removed this quarter, removed before, closed
    otherwise. Quarters whose totals are hidden are left out whole."""
    window = [q for q in quarters.last_ended(quarters.end_of(quarter), STATUS_WINDOW) if q in shown_quarters]
    counts = dict.fromkeys(STATES, 0)
    if not window:
        return Counted({"all": counts})
    end, start = quarters.end_of(quarter), quarters.start_of(quarter)
    # One range of received dates (read from its index), less the quarters
    # inside it whose totals are hidden.
    cohort = and_(_received(quarters.start_of(window[0]), end, OBSTACLE),
                  *(~and_(Report.received_on >= quarters.start_of(q), Report.received_on < quarters.end_of(q))
                    for q in quarters.last_ended(end, STATUS_WINDOW) if q not in window))
    last_seq = (select(StatusEvent.report_id, func.max(StatusEvent.seq).label("seq"))
                .join(Report, Report.id == StatusEvent.report_id)
                .where(cohort, StatusEvent.occurred_on < end)
                .group_by(StatusEvent.report_id).subquery())
    last_message = (select(Message.report_id, func.max(Message.sent_on).label("sent_on"))
                    .join(Report, Report.id == Message.report_id)
                    .where(cohort, Message.author == AUTHOR_HANDLER, Message.sent_on < end)
                    .group_by(Message.report_id).subquery())
    stale_before = end - dt.timedelta(days=STALE_AFTER_DAYS)
    # The state is worked out in SQL, so only six counts leave the database.
    state = case(
        (StatusEvent.status == STATUS_CLOSED, case(
            (StatusEvent.outcome.is_distinct_from(OUTCOME_REMOVED), "closed_other"),
            (StatusEvent.occurred_on >= start, "removed_recently"), else_="removed_earlier")),
        (StatusEvent.status == STATUS_NEW, "new"),
        (and_(StatusEvent.occurred_on < stale_before,
              or_(last_message.c.sent_on.is_(None), last_message.c.sent_on < stale_before)), "stale"),
        else_="in_progress")
    rows = db.execute(
        select(state, func.count())
        .join(last_seq, and_(last_seq.c.report_id == StatusEvent.report_id, last_seq.c.seq == StatusEvent.seq))
        .outerjoin(last_message, last_message.c.report_id == StatusEvent.report_id)
        .group_by(state))
    for name, count in rows:
        counts[name] += count
    return Counted({"all": counts})


def _deadlines(db: Session, table: str, wanted: list[str]) -> dict[str, Counted]:
    """Obstacles whose legal deadline fell in each quarter: met or missed
    (still not done at the deadline counts as missed), one partition named
    after the track (misconduct is published per year only). Not per
    channel: an admin chooses what a channel receives, so a channel's count
    is a cross-table of category and level that those tables hide, and a
    shown channel's total gave a hidden one's by subtraction (review)."""
    if table == "acknowledgement":
        due, done = Report.acknowledge_due, Report.acknowledged_on
    else:
        due, done = Report.feedback_due, Report.feedback_on
    first, last = _span(wanted)
    quarter, met = _quarter_key(due), and_(done.is_not(None), done <= due)
    result = {q: {OBSTACLE: {"met": 0, "missed": 0}} for q in wanted}
    for key, was_met, count in db.execute(
            select(quarter, met, func.count())
            .where(Report.track == OBSTACLE, due >= first, due < last).group_by(quarter, met)):
        partitions = result.get(_quarter_code(int(key)))
        if partitions is not None:
            partitions[OBSTACLE]["met" if was_met else "missed"] += count
    return {q: Counted(partitions) for q, partitions in result.items()}
