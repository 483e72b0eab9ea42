"""What the pages show is built from frozen releases only: sums of shown
cells, and deadline shares of obstacles over all channels (misconduct is
published per year, never per quarter)."""
import datetime as dt

from portal.domain.disclosure import HIDDEN, Protected
from portal.insights import summary
from portal.insights.releases import Release

AT = dt.datetime(2026, 10, 2)


def release(table, partitions, quarter="2026-Q3", extras=None):
    return Release(quarter, table, 5, partitions, extras or {}, AT)


def test_headline_sums_shown_cells_and_deadlines_of_shown_quarters():
    found = {
        ("2026-Q3", "category"): release("category", {"all": Protected({"a": 12, "b": HIDDEN, "c": HIDDEN}, 20)}),
        ("2026-Q2", "category"): release("category", {"all": Protected({"a": HIDDEN}, HIDDEN)}, "2026-Q2"),
        ("2026-Q3", "outcome"): release("outcome", {"all": Protected({"removed": 6, "explained": 7}, 13)},
                                        extras={"hours_saved": 120}),
        ("2026-Q3", "acknowledgement"): release("acknowledgement", {
            "obstacle": Protected({"met": 8, "missed": 2}, 10)}),
        ("2026-Q2", "acknowledgement"): release("acknowledgement", {
            "obstacle": Protected({"met": HIDDEN, "missed": HIDDEN}, 6)}, "2026-Q2"),
    }
    page = summary.build(found, ["2026-Q2", "2026-Q3"], [])
    assert page.headline.received == 20  # the hidden quarter adds nothing
    assert page.headline.removed == 6 and page.headline.hours_saved == 120
    assert page.headline.acknowledged_in_time == 0.8  # the quarter with hidden cells adds nothing
    leadership = summary.build(found, ["2026-Q2", "2026-Q3"], [], leadership=True)
    assert [(d.table, d.by_quarter) for d in leadership.deadlines][0] == (
        "acknowledgement", [("2026-Q2", HIDDEN, HIDDEN), ("2026-Q3", 8, 2)])


def test_outcome_shares_divide_shown_cells_by_shown_totals_only():
    found = {
        ("2026-Q3", "outcome"): release("outcome", {"all": Protected({"removed": 6, "explained": 14, "other": 0}, 20)}),
        ("2026-Q2", "outcome"): release("outcome", {"all": Protected({"removed": HIDDEN, "explained": HIDDEN,
                                                                      "other": 12}, 15)}, "2026-Q2"),
    }
    page = summary.build(found, ["2026-Q2", "2026-Q3"], [], leadership=True)
    shares = dict(page.outcome_shares.rows)
    assert shares["removed"] == [None, 0.3] and shares["explained"] == [None, 0.7]
    assert shares["other"] == [0.8, 0.0]
    assert page.outcome_shares.totals == [15, 20]
