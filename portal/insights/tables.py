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

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ..domain import quarters
from ..domain.disclosure import merge_small
from ..domain.taxonomy import (
    AUTHOR_HANDLER,
    CHAIN_LEVELS,
    MISCONDUCT,
    OBSTACLE,
    OBSTACLE_CATEGORIES,
    OUTCOME_REMOVED,
    OUTCOMES,
    PRINCIPLES,
    STATUS_CLOSED,
    STATUS_NEW,
)
from ..models import Channel, Message, Report, StatusEvent

NOT_STATED = "not_stated"
NO_UNIT = "no_unit"
OTHER_UNITS = "other_units"
STALE_AFTER_DAYS = 56  # no update in 8 weeks
STATUS_WINDOW = 4  # the status table covers the obstacles of the last four quarters
GROUPS = (NOT_STATED, NO_UNIT, OTHER_UNITS, "met", "missed", "received")  # cells beyond the taxonomy's codes
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


def _grouped(db: Session, column, condition, keys) -> dict[str, int]:
    counts = dict.fromkeys(keys, 0)
    for key, count in db.execute(select(column, func.count()).where(condition).group_by(column)):
        counts[key] = counts.get(key, 0) + count
    return counts


def count_quarter(db: Session, quarter: str, table: str, k: int, shown_quarters: frozenset[str]) -> Counted:
    """Count `table` for `quarter`. shown_quarters: the quarters whose
    obstacle totals are shown (the status table covers only those)."""
    start, end = quarters.start_of(quarter), quarters.end_of(quarter)
    received = _received(start, end, OBSTACLE)
    if table == "category":
        return _with_ack_median(db, received, _grouped(db, Report.category, received, OBSTACLE_CATEGORIES))
    if table == "chain_level":
        counts = _grouped(db, func.coalesce(Report.chain_level, "unknown"), received, CHAIN_LEVELS)
        return Counted({"all": counts})
    if table == "principle":
        counts = _grouped(db, func.coalesce(Report.principle, NOT_STATED), received, PRINCIPLES + (NOT_STATED,))
        return Counted({"all": counts})
    if table == "unit":
        by_unit = _grouped(db, func.coalesce(Report.unit_id, NO_UNIT), received, (NO_UNIT,))
        groups = merge_small({key: n for key, n in by_unit.items() if key != NO_UNIT}, k, OTHER_UNITS)
        counts = {NO_UNIT: by_unit[NO_UNIT], OTHER_UNITS: 0}
        for unit_id, group in groups.items():
            counts[group] = counts.get(group, 0) + by_unit[unit_id]
        return Counted({"all": counts})
    if table == "outcome":
        return _outcomes(db, OBSTACLE, start, end)
    if table == "removed_category":
        return _removed_by_category(db, start, end)
    if table == "status":
        return _status(db, quarter, shown_quarters)
    if table in ("acknowledgement", "feedback"):
        return _deadlines(db, table, start, end)
    raise ValueError(f"no such table: {table}")


def count_year(db: Session, year: int, table: str) -> Counted:
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    if table == "misconduct_received":
        total = db.scalar(select(func.count()).select_from(Report).where(_received(start, end, MISCONDUCT))) or 0
        return Counted({"all": {"received": total}})
    if table == "misconduct_outcome":
        return _outcomes(db, MISCONDUCT, start, end)
    raise ValueError(f"no such table: {table}")


def _with_ack_median(db: Session, received, counts: dict[str, int]) -> Counted:
    days = [(acknowledged - got).days for got, acknowledged in db.execute(
        select(Report.received_on, Report.acknowledged_on).where(received, Report.acknowledged_on.is_not(None)))]
    return Counted({"all": counts}, {"ack_days": days})


def _closings(db: Session, track: str, start: dt.date, end: dt.date):
    """(outcome, received_on, closed_on, hours, category) of each report's last
    closing within [start, end): a case closed, reopened and closed again
    counts once, by how it was closed last."""
    last = (select(StatusEvent.report_id, func.max(StatusEvent.seq).label("seq"))
            .where(StatusEvent.status == STATUS_CLOSED, StatusEvent.occurred_on >= start,
                   StatusEvent.occurred_on < end)
            .group_by(StatusEvent.report_id).subquery())
    return db.execute(
        select(StatusEvent.outcome, Report.received_on, StatusEvent.occurred_on, Report.hours_saved_per_year,
               Report.category)
        .join(last, and_(last.c.report_id == StatusEvent.report_id, last.c.seq == StatusEvent.seq))
        .join(Report, Report.id == StatusEvent.report_id)
        .where(Report.track == track))


def _outcomes(db: Session, track: str, start: dt.date, end: dt.date) -> Counted:
    counts = dict.fromkeys(OUTCOMES, 0)
    close_days, hours = [], 0
    for outcome, received_on, closed_on, hours_saved, _category in _closings(db, track, start, end):
        counts[outcome] = counts.get(outcome, 0) + 1
        close_days.append((closed_on - received_on).days)
        if outcome == OUTCOME_REMOVED:
            hours += hours_saved or 0
    return Counted({"all": counts}, {"close_days": close_days, "hours_saved": hours})


def _removed_by_category(db: Session, start: dt.date, end: dt.date) -> Counted:
    counts = dict.fromkeys(OBSTACLE_CATEGORIES, 0)
    for outcome, _received, _closed, _hours, category in _closings(db, OBSTACLE, start, end):
        if outcome == OUTCOME_REMOVED:
            counts[category] = counts.get(category, 0) + 1
    return Counted({"all": counts})


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
    cohort = [_received(quarters.start_of(q), quarters.end_of(q), OBSTACLE) for q in window]
    in_cohort = select(Report.id).where(or_(*cohort))
    last_seq = (select(StatusEvent.report_id, func.max(StatusEvent.seq).label("seq"))
                .where(StatusEvent.occurred_on < end, StatusEvent.report_id.in_(in_cohort))
                .group_by(StatusEvent.report_id).subquery())
    last_message = (select(Message.report_id, func.max(Message.sent_on).label("sent_on"))
                    .where(Message.author == AUTHOR_HANDLER, Message.sent_on < end,
                           Message.report_id.in_(in_cohort))
                    .group_by(Message.report_id).subquery())
    rows = db.execute(
        select(StatusEvent.status, StatusEvent.outcome, StatusEvent.occurred_on, last_message.c.sent_on)
        .join(last_seq, and_(last_seq.c.report_id == StatusEvent.report_id, last_seq.c.seq == StatusEvent.seq))
        .outerjoin(last_message, last_message.c.report_id == StatusEvent.report_id))
    stale_before = end - dt.timedelta(days=STALE_AFTER_DAYS)
    for status, outcome, occurred_on, messaged_on in rows:
        if status == STATUS_CLOSED:
            if outcome != OUTCOME_REMOVED:
                state = "closed_other"
            else:
                state = "removed_recently" if occurred_on >= start else "removed_earlier"
        elif status == STATUS_NEW:
            state = "new"
        else:
            updated = max(occurred_on, messaged_on) if messaged_on else occurred_on
            state = "stale" if updated < stale_before else "in_progress"
        counts[state] += 1
    return Counted({"all": counts})


def _deadlines(db: Session, table: str, start: dt.date, end: dt.date) -> Counted:
    """Per channel, the cases whose legal deadline fell in [start, end): met
    or missed (still not done at the deadline counts as missed)."""
    if table == "acknowledgement":
        due, done = Report.acknowledge_due, Report.acknowledged_on
    else:
        due, done = Report.feedback_due, Report.feedback_on
    partitions: dict[str, dict[str, int]] = {}
    for channel_id, met in db.execute(
            select(Report.channel_id, and_(done.is_not(None), done <= due))
            .where(due >= start, due < end)):
        cells = partitions.setdefault(channel_id, {"met": 0, "missed": 0})
        cells["met" if met else "missed"] += 1
    for channel_id in db.scalars(select(Channel.id)):
        partitions.setdefault(channel_id, {"met": 0, "missed": 0})
    return Counted(partitions)
