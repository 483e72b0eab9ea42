"""Frozen releases of the statistics tables (StatsRelease, one row per
period and table).

An ended quarter (misconduct: an ended year) is counted, protected
(domain/disclosure.py) and frozen the first time a page needs it; what the
pages and open data show is read from the frozen rows only, so a page costs
a few small reads however many cases there are. `refresh` (the `portal
insights-refresh` job, run every few minutes by cron) counts frozen periods
again and publishes a revision only where disclosure.revise allows it.
Several app nodes may freeze the same period at once: the unique key on
(period, table) keeps the first, and the others read it.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import Settings

from ..domain import quarters
from ..domain.disclosure import HIDDEN, Bound, Protected, bound_of, median, protect, protect_bounded, revise
from ..domain.taxonomy import MISCONDUCT, OBSTACLE, OUTCOME_REMOVED
from ..models import Report, StatsRelease
from ..models.base import today as today_
from . import tables

FORMAT = 1
# Never revised. Units: old releases merged small units into "other units",
# and a revision could move counts between shown cells and give a merged
# unit's count away (review finding). Status: it was protected together with
# the outcome and acknowledgement releases of its time. Misconduct outcomes:
# cases only leave "still open", so a shown outcome that grew between
# revisions told how many the hidden "open" cell had held (review finding);
# they are published once, when the year's cases have had time to close.
FROZEN_FOR_GOOD = frozenset({"unit", "status", "misconduct_outcome"})
MAX_QUARTERS = 12  # trends look back three years
MAX_YEARS = 3


@dataclass(frozen=True)
class Release:
    period: str
    table: str
    k: int
    partitions: dict[str, Protected]
    extras: dict
    published_at: dt.datetime

    def partition(self, name: str = "all") -> Protected | None:
        return self.partitions.get(name)


def periods(db: Session, today: dt.date) -> tuple[list[str], list[str]]:
    """The ended quarters and years that have (or could have) figures, oldest first."""
    first = db.scalar(select(func.min(Report.received_on)))
    if first is None:
        return [], []
    ended = [q for q in quarters.last_ended(today, MAX_QUARTERS) if quarters.end_of(q) > first]
    years = [str(year) for year in range(max(first.year, today.year - MAX_YEARS), today.year)]
    return ended, years


def _k_for(settings: Settings, table: str, partition: str) -> int:
    if table.startswith("misconduct") or partition == MISCONDUCT:
        return settings.k_anonymity_misconduct
    return settings.k_anonymity


def _protect_counted(settings: Settings, table: str, counted: tables.Counted,
                     frozen: dict[str, Protected] | None = None, *, parent_hidden: bool = False,
                     bounds: dict[str, Bound] | None = None) -> tuple[dict[str, Protected], dict]:
    """parent_hidden: the partition splits a cell another table hides, so
    it is hidden whole (its total would be that cell). bounds: what other
    releases tell of each cell's largest value (the status table)."""
    partitions = {}
    for name, counts in counted.partitions.items():
        k = _k_for(settings, table, name)
        if bounds is not None:
            partitions[name] = protect_bounded(counts, k, bounds)
        elif parent_hidden:
            partitions[name] = Protected(dict.fromkeys(counts, HIDDEN), HIDDEN)
        elif frozen is not None and name in frozen:
            partitions[name] = revise(frozen[name], counts, k)
        else:
            partitions[name] = protect(counts, k)
    return partitions, _extras(settings.k_anonymity, table, counted, partitions.get("all"))


def _extras(k: int, table: str, counted: tables.Counted, shown: Protected | None) -> dict:
    """Figures derived from a partition, kept only when its total is shown."""
    if shown is None or shown.total is HIDDEN:
        return {}
    if table == "category":
        return {"median_ack_days": median(counted.extras["ack_days"], k)}
    if table == "outcome":
        removed_shown = shown.cells.get(OUTCOME_REMOVED) is not HIDDEN
        return {"median_close_days": median(counted.extras["close_days"], k),
                "hours_saved": counted.extras["hours_saved"] if removed_shown else None}
    return {}


def _encode(k: int, partitions: dict[str, Protected], extras: dict, revisions: int) -> str:
    return json.dumps({"format": FORMAT, "k": k, "revisions": revisions, "extras": extras,
                       "partitions": {name: {"cells": p.cells, "total": p.total} for name, p in partitions.items()}})


def _decode(row: StatsRelease) -> Release:
    data = json.loads(row.cells_json)
    partitions = {name: Protected(dict(p["cells"]), p["total"]) for name, p in data["partitions"].items()}
    return Release(row.quarter, row.table_name, data["k"], partitions, data["extras"], row.published_at)


def _count(db: Session, settings: Settings, period: str, table: str, shown_quarters) -> tables.Counted:
    if table in tables.YEAR_TABLES:
        return tables.count_year(db, int(period), table)
    return tables.count_quarter(db, period, table, frozenset(shown_quarters))


def _shown_quarters(found: dict) -> set[str]:
    return {period for (period, table), release in found.items()
            if table == "category" and release.partition().total not in (HIDDEN, 0)}


def load(db: Session) -> dict[tuple[str, str], Release]:
    return {(row.quarter, row.table_name): _decode(row) for row in db.scalars(select(StatsRelease))}


def ensure(db: Session, settings: Settings, today: dt.date | None = None) -> dict[tuple[str, str], Release]:
    """Every release the pages need, freezing the missing ones first."""
    today = today or today_()
    ended, years = periods(db, today)
    found = load(db)
    # The status table is a snapshot at a quarter's end: it is frozen when
    # that quarter is the last one ended (older ones, if frozen then, stay).
    wanted = [(q, t) for q in ended for t in tables.QUARTER_TABLES if t != "status" or q == ended[-1]]
    wanted += [(y, t) for y in years for t in tables.YEAR_TABLES
               if t != "misconduct_outcome" or tables.outcomes_counted_before(int(y)) <= today]
    missing = [key for key in wanted if key not in found]
    if not missing:
        return found
    # The status table covers only quarters whose totals are shown and rests
    # on the outcome and acknowledgement tables; removed_category splits the
    # outcome table's removed cell: freeze those first, status last.
    first = ("category", "outcome", "acknowledgement")
    order = first + tuple(t for t in tables.QUARTER_TABLES if t not in first + ("status",)) + ("status",)
    for table in order + tables.YEAR_TABLES:
        periods_missing = [period for period, t in missing if t == table]
        if table in tables.YEAR_TABLES:
            counted = {y: tables.count_year(db, int(y), table) for y in periods_missing}
        else:
            counted = tables.count_quarters(db, periods_missing, table,
                                            frozenset(_shown_quarters(found)))
        for period in periods_missing:
            found[(period, table)] = _freeze(db, settings, period, table, counted[period], found)
    return found


def _freeze(db: Session, settings: Settings, period: str, table: str, counted: tables.Counted,
            found) -> Release:
    bounds = _status_bounds(settings, found, period) if table == "status" else None
    partitions, extras = _protect_counted(settings, table, counted, bounds=bounds,
                                          parent_hidden=_parent_hidden(found, period, table))
    k = _k_for(settings, table, "all")
    row = StatsRelease(quarter=period, table_name=table, cells_json=_encode(k, partitions, extras, 0))
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:  # another node froze it first: read theirs
        row = db.scalar(select(StatsRelease).where(StatsRelease.quarter == period, StatsRelease.table_name == table))
    return _decode(row)


def current(db: Session, settings: Settings, today: dt.date | None = None):
    """(releases, ended quarters, ended years) for the pages, freezing what is missing."""
    today = today or today_()
    ended, years = periods(db, today)
    return ensure(db, settings, today), ended, years


def _parent_hidden(found, period: str, table: str) -> bool:
    if table != "removed_category":
        return False
    outcome = found.get((period, "outcome"))
    return outcome is None or outcome.partition().cells.get(OUTCOME_REMOVED) is HIDDEN


def _status_bounds(settings: Settings, found, quarter: str) -> dict[str, Bound]:
    """What the outcome and acknowledgement releases tell of the status
    snapshot at `quarter`'s end (tables._status): obstacles removed this
    quarter were closed as removed this quarter; removed earlier, closed as
    removed in an earlier quarter of the window; closed otherwise, closed
    with another outcome in the window; and a case still new has missed its
    acknowledgement deadline, unless it came in during the last week (at
    most this quarter's receipts)."""
    k = settings.k_anonymity
    shown = _shown_quarters(found)
    span = quarters.last_ended(quarters.end_of(quarter), tables.STATUS_WINDOW)
    window = [q for q in span if q in shown]
    if not window:
        return {}
    span = span[span.index(window[0]):]
    outcome = {q: (f"outcome/{q}", found[(q, "outcome")].partition() if (q, "outcome") in found else None)
               for q in span}
    def missed(q):
        release = found.get((q, "acknowledgement"))
        return [(f"acknowledgement/{q}", release.partition(OBSTACLE) if release else None, "missed")]

    received_now = found[(quarter, "category")].partition().total if quarter in window else 0
    return {
        "removed_recently": bound_of([(*outcome[quarter], OUTCOME_REMOVED)], k),
        "removed_earlier": bound_of([(*outcome[q], OUTCOME_REMOVED) for q in span if q != quarter], k),
        "closed_other": bound_of([(*outcome[q], o) for q in span for o in _cells(outcome[q][1])
                                  if o != OUTCOME_REMOVED], k),
        "new": bound_of([link for q in span for link in missed(q)], k, received_now),
    }


def _cells(partition: Protected | None) -> list[str]:
    return list(partition.cells) if partition else []


def refresh(db: Session, settings: Settings) -> int:
    """Count every frozen period again; publish revisions disclosure allows.
    Returns how many releases changed."""
    found = load(db)
    shown = _shown_quarters(found)
    changed = 0
    for row in db.scalars(select(StatsRelease).with_for_update()):
        if row.table_name in FROZEN_FOR_GOOD:
            continue
        frozen = _decode(row)
        counted = _count(db, settings, row.quarter, row.table_name, shown)
        if set(counted.partitions) != set(frozen.partitions):
            continue  # made under another layout (deadlines were per channel): stays as published
        # Under the k it was published with: an admin who raised k since
        # must not make an old release show less, or more.
        at_its_k = settings.with_overrides(k_anonymity=frozen.k, k_anonymity_misconduct=frozen.k)
        partitions, extras = _protect_counted(at_its_k, row.table_name, counted, frozen.partitions,
                                              parent_hidden=_parent_hidden(found, row.quarter, row.table_name))
        if partitions == frozen.partitions:
            continue
        revisions = json.loads(row.cells_json)["revisions"] + 1
        row.cells_json = _encode(frozen.k, partitions, extras, revisions)
        row.published_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        changed += 1
    db.flush()
    return changed
