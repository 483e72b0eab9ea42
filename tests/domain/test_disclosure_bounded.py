"""The status snapshot protected together with the tables it rests on,
attacked: random outcome and acknowledgement tables are protected, a status
snapshot consistent with them is protected with protect_bounded, and then
every published equation and inequality is solved (linear programming) for
the least and greatest value of each hidden count. The status table must
leave every hidden status count open from 0 to k (or to what the other
tables already allow), and must not narrow any hidden count of the others."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from portal.domain import disclosure
from portal.domain.disclosure import HIDDEN
from old_rules import old_suppression

OUTCOMES = ("removed", "explained", "other")
STATES = ("new", "in_progress", "stale", "removed_recently", "removed_earlier", "closed_other")
CHANNELS = ("c0", "c1")


class Model:
    """Unknowns (one per published cell) and what a reader knows of them."""

    def __init__(self):
        self.names: list[str] = []
        self.equal: list[tuple[dict[str, float], float]] = []
        self.at_most: list[tuple[dict[str, float], float]] = []  # sum(coefficient * cell) <= value

    def var(self, name):
        self.names.append(name)
        return name

    def add_partition(self, prefix, published: disclosure.Protected, k):
        cells = {key: self.var(f"{prefix}/{key}") for key in published.cells}
        for key, count in published.cells.items():
            if count is not HIDDEN:
                self.equal.append(({cells[key]: 1}, count))
        if published.total is HIDDEN:
            self.at_most.append(({name: 1 for name in cells.values()}, k - 1))
        else:
            self.equal.append(({name: 1 for name in cells.values()}, published.total))
        return cells

    def _matrix(self, rows):
        index = {name: i for i, name in enumerate(self.names)}
        if not rows:
            return None, None
        a = np.zeros((len(rows), len(self.names)))
        for r, (coefficients, _value) in enumerate(rows):
            for name, c in coefficients.items():
                a[r, index[name]] += c
        return a, np.array([value for _c, value in rows], dtype=float)

    def range_of(self, expression: dict[str, float], *, without: set[str] = frozenset()):
        """(least, greatest) of a sum of cells; greatest None if unbounded.
        `without`: leave out the constraints that mention these cells."""
        equal = [row for row in self.equal if not set(row[0]) & without]
        at_most = [row for row in self.at_most if not set(row[0]) & without]
        a_eq, b_eq = self._matrix(equal)
        a_ub, b_ub = self._matrix(at_most)
        objective = np.zeros(len(self.names))
        for name, c in expression.items():
            objective[self.names.index(name)] = c
        options = dict(A_eq=a_eq, b_eq=b_eq, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        low, high = linprog(objective, **options), linprog(-objective, **options)
        assert low.status == 0, "the published figures must be consistent"
        return low.fun, (None if high.status == 3 else -high.fun)


def _draw_table(data, keys, k):
    counts = {key: data.draw(st.integers(min_value=0, max_value=3 * k)) for key in keys}
    return counts, disclosure.protect(counts, k)


@settings(max_examples=300, deadline=None)
@given(k=st.integers(min_value=2, max_value=10), n_quarters=st.integers(min_value=1, max_value=4),
       this_quarter_shown=st.booleans(), data=st.data())
def test_the_status_snapshot_gives_nothing_hidden_away(k, n_quarters, this_quarter_shown, data):
    model = Model()
    window = [f"t{i}" for i in range(n_quarters)]
    last = window[-1]
    outcome_counts, outcome_cells, ack_counts, ack_cells = {}, {}, {}, {}
    published_parts = {}
    for t in window:
        outcome_counts[t], published_parts[("outcome", t)] = _draw_table(data, OUTCOMES, k)
        outcome_cells[t] = model.add_partition(f"outcome/{t}", published_parts[("outcome", t)], k)
        for ch in CHANNELS:
            ack_counts[t, ch], published_parts[("ack", t, ch)] = _draw_table(data, ("met", "missed"), k)
            ack_cells[t, ch] = model.add_partition(f"ack/{t}/{ch}", published_parts[("ack", t, ch)], k)
    received_now = data.draw(st.integers(min_value=k, max_value=4 * k)) if this_quarter_shown else 0

    # A snapshot that fits the truth: each state at most what it rests on.
    largest = {
        "removed_recently": outcome_counts[last]["removed"],
        "removed_earlier": sum(outcome_counts[t]["removed"] for t in window[:-1]),
        "closed_other": sum(outcome_counts[t][o] for t in window for o in OUTCOMES[1:]),
        "new": sum(ack_counts[t, ch]["missed"] for t in window for ch in CHANNELS) + received_now,
        "in_progress": 3 * k, "stale": 3 * k,
    }
    status_counts = {state: data.draw(st.integers(min_value=0, max_value=largest[state])) for state in STATES}
    links = {
        "removed_recently": [(f"outcome/{last}", published_parts[("outcome", last)], "removed")],
        "removed_earlier": [(f"outcome/{t}", published_parts[("outcome", t)], "removed") for t in window[:-1]],
        "closed_other": [(f"outcome/{t}", published_parts[("outcome", t)], o) for t in window for o in OUTCOMES[1:]],
        "new": [(f"ack/{t}/{ch}", published_parts[("ack", t, ch)], "missed") for t in window for ch in CHANNELS],
    }
    bounds = {state: disclosure.bound_of(linked, k, received_now if state == "new" else 0)
              for state, linked in links.items()}
    published = disclosure.protect_bounded(status_counts, k, bounds)
    assert published.total == sum(status_counts.values()) or published.total is HIDDEN

    status_cells = model.add_partition("status", published, k)
    expressions = {
        "removed_recently": {outcome_cells[last]["removed"]: 1},
        "removed_earlier": {outcome_cells[t]["removed"]: 1 for t in window[:-1]},
        "closed_other": {outcome_cells[t][o]: 1 for t in window for o in OUTCOMES[1:]},
        "new": {ack_cells[t, ch]["missed"]: 1 for t in window for ch in CHANNELS},
    }
    for state, expression in expressions.items():
        constant = received_now if state == "new" else 0
        model.at_most.append(({status_cells[state]: 1, **{name: -1 for name in expression}}, constant))

    status_names = set(status_cells.values())
    for state in STATES:
        if published.cells[state] is not HIDDEN:
            shown = published.cells[state]
            assert shown == 0 or shown >= k or state in bounds and bounds[state].largest == 0, (state, shown)
            continue
        low, high = model.range_of({status_cells[state]: 1})
        assert low <= 1e-9, f"status {state}: cannot be 0 (least {low})"
        if published.total is HIDDEN:
            continue  # a group of fewer than k, hidden whole: every cell is below k anyway
        if state in expressions:
            # What the other tables alone allow the cells it rests on to hold.
            _low, allowed = model.range_of(expressions[state], without=status_names)
            allowed = None if allowed is None else allowed + (received_now if state == "new" else 0)
        else:
            allowed = None
        target = k if allowed is None else min(k, allowed)
        assert high is None or high >= target - 1e-9, f"status {state}: capped at {high} below {target}"

    # The snapshot must not narrow any hidden cell of the tables it rests on.
    for cells in list(outcome_cells.values()) + list(ack_cells.values()):
        for name in cells.values():
            before = model.range_of({name: 1}, without=status_names)
            after = model.range_of({name: 1})
            assert after[0] <= before[0] + 1e-9, f"{name}: least raised from {before[0]} to {after[0]}"
            assert before[1] is None or after[1] >= before[1] - 1e-9, \
                f"{name}: greatest lowered from {before[1]} to {after[1]}"


def test_a_status_cell_resting_on_a_hidden_removed_count_is_hidden():
    """Three removed obstacles, hidden in the outcome table: showing "removed
    this quarter: 3" beside it would give them away."""
    outcome = disclosure.protect({"removed": 3, "explained": 9, "other": 12}, 5)
    assert outcome.cells["removed"] is HIDDEN
    bounds = {"removed_recently": disclosure.bound_of([("outcome", outcome, "removed")], 5)}
    status = disclosure.protect_bounded({"new": 10, "in_progress": 20, "removed_recently": 3}, 5, bounds)
    assert status.cells["removed_recently"] is HIDDEN
    assert status.total - status.shown_sum() >= 5


def test_a_cell_bounded_by_a_shown_zero_is_a_known_zero_and_shown():
    outcome = disclosure.protect({"removed": 0, "explained": 9}, 5)
    bounds = {"removed_recently": disclosure.bound_of([("outcome", outcome, "removed")], 5)}
    status = disclosure.protect_bounded({"new": 2, "in_progress": 20, "removed_recently": 0}, 5, bounds)
    assert status.cells["removed_recently"] == 0
    assert status.cells["new"] is HIDDEN


def test_hidden_cells_that_cannot_hold_the_hidden_cases_get_an_unbounded_partner():
    """removed_recently (4, at most the 6 removed) and its partner "new" (6)
    hold 10 hidden cases; were only they hidden, new would be at least 4.
    A third cell is hidden, so that either can be 0."""
    outcome = disclosure.protect({"removed": 6, "explained": 9}, 5)
    bounds = {"removed_recently": disclosure.bound_of([("outcome", outcome, "removed")], 5)}
    status = disclosure.protect_bounded({"new": 6, "in_progress": 30, "removed_recently": 4}, 5, bounds)
    assert status.hidden == {"new", "in_progress", "removed_recently"} and status.total == 40


def test_the_reviewers_status_table_pins_nothing():
    """Review finding: at k=5 the old rule hid stale (4) and closed otherwise
    (7) only, and a reader who knew the rule solved them exactly."""
    counts = {"new": 7, "in_progress": 8, "stale": 4, "removed_recently": 9, "removed_earlier": 7,
              "closed_other": 7}
    published = disclosure.protect_bounded(counts, 5, {})
    assert published.hidden == set(STATES) and published.total == 42


def _reader_ranges(k, bounds, most):
    """Every status table within `bounds` (cell -> largest value) and totals
    up to `most`, grouped by what protect_bounded publishes: the least and
    greatest value of each cell within each group."""
    import itertools
    from collections import defaultdict

    keys = ("new", "in_progress", "stale", "removed_recently")
    published_bounds = {key: disclosure.Bound(largest) for key, largest in bounds.items()}
    groups = defaultdict(list)
    ranges = [range(min(bounds.get(key, most), most) + 1) for key in keys]
    for values in itertools.product(*ranges):
        if sum(values) > most:
            continue
        published = disclosure.protect_bounded(dict(zip(keys, values)), k, published_bounds)
        groups[(tuple(published.cells.values()), published.total)].append(values)
    return keys, groups


@pytest.mark.parametrize(("k", "bounds"), [(3, {}), (3, {"removed_recently": 4}), (5, {"new": 6}),
                                           (5, {"new": 2, "removed_recently": 0}), (2, {"stale": 1}),
                                           # Review finding: two cells left free, "hidden" said one is small.
                                           (5, {"new": 0, "removed_recently": 0}), (3, {"new": 0})])
def test_no_hidden_status_is_pinned_by_knowing_the_rule(k, bounds):
    """A reader who knows the rule and the bounds groups the tables that
    publish the same thing. Each hidden cell must range as widely as the
    bounds and the total allow: from 0 up to k (or its bound, or the total
    less the one small case the rule implies)."""
    most = 3 * k + 2
    keys, groups = _reader_ranges(k, bounds, most)
    for (published, total), members in groups.items():
        if total is HIDDEN:
            continue  # fewer than k in all: every cell is below k anyway
        for i, value in enumerate(published):
            if value is not HIDDEN:
                continue
            seen = [values[i] for values in members]
            target = min(k, bounds.get(keys[i], k), total - 1)
            assert min(seen) == 0 and max(seen) >= target, (published, total, keys[i], min(seen), max(seen))
            gaps = set(range(max(seen) + 1)) - set(seen)
            assert not gaps, (published, total, keys[i], sorted(gaps))  # no value ruled out inside the range


def test_the_reader_check_catches_the_old_status_rule(monkeypatch):
    """The attack works: a rule that hides only the small cell and the next
    smallest (as before the review) fails the check above."""
    def old(counts, k, bounds):
        return old_suppression(counts, k)

    monkeypatch.setattr(disclosure, "protect_bounded", old)
    with pytest.raises(AssertionError):
        test_no_hidden_status_is_pinned_by_knowing_the_rule(3, {})
