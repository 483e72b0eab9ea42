"""What the insights pages and the open data show, assembled from frozen
releases only (releases.py). Every figure here is either a published cell or
a sum of published cells, so nothing here can uncover a hidden count; shares
and medians come from partitions whose cases number at least k."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..domain.disclosure import HIDDEN, Protected, share
from ..domain.taxonomy import OBSTACLE, OUTCOME_REMOVED
from .releases import Release
from .tables import STATES

PUBLIC_QUARTERS = 4
DIMENSIONS = ("category", "chain_level", "principle", "removed_category")


@dataclass(frozen=True)
class Breakdown:
    """One dimension over quarters: rows of (code, counts per quarter)."""

    table: str
    quarters: list[str]
    rows: list[tuple[str, list[int | None]]]
    totals: list[int | None]


@dataclass(frozen=True)
class Headline:
    first_quarter: str | None
    last_quarter: str | None
    received: int
    removed: int
    hours_saved: int
    acknowledged_in_time: float | None
    feedback_in_time: float | None
    median_ack_days: float | None
    median_close_days: float | None


@dataclass(frozen=True)
class Deadlines:
    """Obstacles' deadlines per quarter: (met, missed), each None when hidden."""

    table: str
    by_quarter: list[tuple[str, int | None, int | None]]


@dataclass
class Insights:
    quarters: list[str]
    headline: Headline
    status: Protected | None
    status_quarter: str | None
    breakdowns: dict[str, Breakdown]
    removed_by_quarter: list[tuple[str, int | None, int | None]]  # (quarter, received, removed)
    outcomes: Breakdown | None = None
    outcome_shares: Breakdown | None = None  # each outcome's share of the quarter's closings
    units: Breakdown | None = None
    deadlines: list[Deadlines] = field(default_factory=list)
    misconduct: list[tuple[str, Protected | None, Protected | None]] = field(default_factory=list)


def _cell(release: Release | None, key: str, partition: str = "all") -> int | None:
    protected = release.partition(partition) if release else None
    return protected.cells.get(key, HIDDEN) if protected else HIDDEN


def _total(release: Release | None, partition: str = "all") -> int | None:
    protected = release.partition(partition) if release else None
    return protected.total if protected else HIDDEN


def _breakdown(found, table: str, quarters: list[str]) -> Breakdown:
    keys: list[str] = []
    for quarter in quarters:
        release = found.get((quarter, table))
        for key in (release.partition().cells if release else {}):
            if key not in keys:
                keys.append(key)
    rows = [(key, [_cell(found.get((q, table)), key) for q in quarters]) for key in keys]
    return Breakdown(table, quarters, rows, [_total(found.get((q, table))) for q in quarters])


def _shown_sum(values) -> int:
    return sum(v for v in values if v is not HIDDEN)


def _deadline_share(found, table: str, quarters: list[str]) -> float | None:
    """The share of obstacles' deadlines met, over the quarters shown whole
    (misconduct is published only per year, never per quarter)."""
    met = missed = 0
    for quarter in quarters:
        release = found.get((quarter, table))
        partition = release.partition(OBSTACLE) if release else None
        if partition and partition.total not in (HIDDEN, 0) and not partition.hidden:
            met, missed = met + partition.cells["met"], missed + partition.cells["missed"]
    return met / (met + missed) if met + missed else None


def build(found: dict[tuple[str, str], Release], quarters: list[str], years: list[str], *,
          leadership: bool = False) -> Insights:
    """The page for `quarters` (oldest first); leadership adds units, outcome
    shares and the deadlines of obstacles."""
    last = quarters[-1] if quarters else None
    received = [_total(found.get((q, "category"))) for q in quarters]
    removed = [_cell(found.get((q, "outcome")), OUTCOME_REMOVED) for q in quarters]
    hours = [(found[(q, "outcome")].extras.get("hours_saved") if (q, "outcome") in found else None) for q in quarters]
    latest_category, latest_outcome = found.get((last, "category")), found.get((last, "outcome"))
    headline = Headline(
        first_quarter=quarters[0] if quarters else None, last_quarter=last,
        received=_shown_sum(received), removed=_shown_sum(removed), hours_saved=_shown_sum(h for h in hours if h),
        acknowledged_in_time=_deadline_share(found, "acknowledgement", quarters),
        feedback_in_time=_deadline_share(found, "feedback", quarters),
        median_ack_days=latest_category.extras.get("median_ack_days") if latest_category else None,
        median_close_days=latest_outcome.extras.get("median_close_days") if latest_outcome else None,
    )
    status = found.get((last, "status"))
    insights = Insights(
        quarters=quarters, headline=headline, status=status.partition() if status else None, status_quarter=last,
        breakdowns={table: _breakdown(found, table, quarters) for table in DIMENSIONS},
        removed_by_quarter=list(zip(quarters, received, removed)),
    )
    if leadership:
        insights.outcomes = _breakdown(found, "outcome", quarters)
        insights.outcome_shares = _shares(found, insights.outcomes)
        insights.units = _breakdown(found, "unit", quarters)
        insights.deadlines = _deadlines(found, quarters)
    insights.misconduct = [(year, found[(year, "misconduct_received")].partition()
                            if (year, "misconduct_received") in found else None,
                            found[(year, "misconduct_outcome")].partition()
                            if (year, "misconduct_outcome") in found else None)
                           for year in years]
    return insights


def _shares(found, counts: Breakdown) -> Breakdown:
    """Shown cells over their shown totals: nothing a reader could not divide."""
    ks = [found[(q, counts.table)].k if (q, counts.table) in found else None for q in counts.quarters]
    rows = [(code, [share(value, total, k) if k else None for value, total, k in zip(values, counts.totals, ks)])
            for code, values in counts.rows]
    return Breakdown(counts.table, counts.quarters, rows, counts.totals)


def _deadlines(found, quarters: list[str]) -> list[Deadlines]:
    result = []
    for table in ("acknowledgement", "feedback"):
        by_quarter = []
        for quarter in quarters:
            release = found.get((quarter, table))
            partition = release.partition(OBSTACLE) if release else None
            by_quarter.append((quarter, partition.cells["met"] if partition else HIDDEN,
                               partition.cells["missed"] if partition else HIDDEN))
        result.append(Deadlines(table, by_quarter))
    return result


def status_rows(status: Protected | None) -> list[tuple[str, int | None]]:
    if status is None:
        return []
    return [(state, status.cells.get(state, HIDDEN)) for state in STATES]


def story_cells(found) -> set[tuple[str, str]]:
    """(quarter, kind) of the removed-by-kind cells that are shown and not
    zero: the only places a published story may sit."""
    return {(period, kind) for (period, table), release in found.items() if table == "removed_category"
            for kind, n in release.partition().cells.items() if n not in (HIDDEN, 0)}
