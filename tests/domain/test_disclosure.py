"""Disclosure control, attacked: random tables are protected, then the
published equations are solved (linear programming over the unknown
cross-table) for the smallest and largest value each hidden count can have.
Every hidden count must stay open from 0 to at least k."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from portal.domain import disclosure
from portal.domain.disclosure import HIDDEN

KS = st.integers(min_value=2, max_value=10)
SMALL_COUNTS = st.integers(min_value=0, max_value=25)


def counts_of(size):
    return st.lists(SMALL_COUNTS, min_size=size, max_size=size)


def _bounds(equations, n_vars, target):
    """(min, max) of variable `target` over non-negative reals meeting the
    equations [(coefficients, value)]; None for no bound (max unbounded)."""
    if equations:
        a_eq = np.array([coefficients for coefficients, _value in equations], dtype=float)
        b_eq = np.array([value for _coefficients, value in equations], dtype=float)
    else:
        a_eq = b_eq = None
    objective = np.zeros(n_vars)
    objective[target] = 1
    low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    assert low.status == 0, "the published figures must be consistent"
    return low.fun, (None if high.status == 3 else -high.fun)


def _assert_open(low, high, k, what):
    assert low <= 1e-9, f"{what}: the equations rule out 0 (min {low})"
    assert high is None or high >= k - 1e-9, f"{what}: the equations cap it below k (max {high})"


def _check_published_shape(published: disclosure.Protected, k: int):
    shown = [count for count in published.cells.values() if count is not HIDDEN]
    assert all(count == 0 or count >= k for count in shown), published
    assert published.total is HIDDEN or published.total == 0 or published.total >= k
    if published.hidden and published.total is not HIDDEN:
        assert published.total - published.shown_sum() >= k  # the hidden cells hold at least k


@settings(max_examples=300, deadline=None)
@given(k=KS, counts=st.integers(min_value=1, max_value=9).flatmap(counts_of))
def test_one_partition_hides_every_small_count_and_what_would_give_it_away(k, counts):
    table = {f"c{i}": count for i, count in enumerate(counts)}
    published = disclosure.protect(table, k)
    _check_published_shape(published, k)
    keys = list(table)
    equations = []
    for i, key in enumerate(keys):
        if published.cells[key] is not HIDDEN:
            equations.append(([1 if j == i else 0 for j in range(len(keys))], published.cells[key]))
    if published.total is not HIDDEN:
        equations.append(([1] * len(keys), published.total))
    for i, key in enumerate(keys):
        if published.cells[key] is HIDDEN:
            _assert_open(*_bounds(equations, len(keys), i), k, key)


@settings(max_examples=150, deadline=None)
@given(k=KS, rows=st.integers(min_value=1, max_value=5), columns=st.integers(min_value=1, max_value=5),
       data=st.data())
def test_two_tables_sharing_a_total_do_not_give_each_other_away(k, rows, columns, data):
    """Obstacles of one quarter by category and by chain level: two margins
    of a cross-table that is never published. The unknowns are its cells."""
    cross = [data.draw(counts_of(columns)) for _ in range(rows)]
    by_row = {f"r{i}": sum(cross[i]) for i in range(rows)}
    by_column = {f"c{j}": sum(cross[i][j] for i in range(rows)) for j in range(columns)}
    row_table, column_table = disclosure.protect(by_row, k), disclosure.protect(by_column, k)
    n_vars = rows * columns

    equations = []
    for i in range(rows):
        if row_table.cells[f"r{i}"] is not HIDDEN:
            equations.append(([1 if v // columns == i else 0 for v in range(n_vars)], row_table.cells[f"r{i}"]))
    for j in range(columns):
        if column_table.cells[f"c{j}"] is not HIDDEN:
            equations.append(([1 if v % columns == j else 0 for v in range(n_vars)], column_table.cells[f"c{j}"]))
    for table in (row_table, column_table):
        if table.total is not HIDDEN:
            equations.append(([1] * n_vars, table.total))
    # A hidden margin is a sum of cross-table cells: bound it through an extra
    # variable equal to that sum.
    for i in range(rows):
        if row_table.cells[f"r{i}"] is HIDDEN:
            extended = [(coefficients + [0], value) for coefficients, value in equations]
            extended.append(([1 if v // columns == i else 0 for v in range(n_vars)] + [-1], 0))
            _assert_open(*_bounds(extended, n_vars + 1, n_vars), k, f"row {i}")
    for j in range(columns):
        if column_table.cells[f"c{j}"] is HIDDEN:
            extended = [(coefficients + [0], value) for coefficients, value in equations]
            extended.append(([1 if v % columns == j else 0 for v in range(n_vars)] + [-1], 0))
            _assert_open(*_bounds(extended, n_vars + 1, n_vars), k, f"column {j}")


@settings(max_examples=200, deadline=None)
@given(k=KS, counts=st.integers(min_value=2, max_value=7).flatmap(counts_of), data=st.data())
def test_a_revision_of_a_frozen_quarter_never_shows_a_hidden_count(k, counts, data):
    """Later corrections (a reclassified case, a case added late): a revision
    is published only if it hides the same cells, so subtracting the two
    releases gives at most the change in the hidden cells' sum."""
    keys = [f"c{i}" for i in range(len(counts))]
    old_counts = dict(zip(keys, counts))
    changes = data.draw(st.lists(st.integers(min_value=-3, max_value=3), min_size=len(keys), max_size=len(keys)))
    new_counts = {key: max(0, old_counts[key] + change) for key, change in zip(keys, changes)}
    frozen = disclosure.protect(old_counts, k)
    published = disclosure.revise(frozen, new_counts, k)
    _check_published_shape(published, k)
    assert published.hidden >= frozen.hidden  # nothing hidden before is shown now
    if published is frozen:
        return
    assert published.hidden == frozen.hidden
    if frozen.total is HIDDEN:  # hidden whole, then and now: nothing to subtract
        assert published.total is HIDDEN
        return
    if not frozen.hidden:
        return
    hidden = sorted(frozen.hidden)
    old_sum = frozen.total - frozen.shown_sum()
    new_sum = published.total - published.shown_sum()
    # The sharpest differencing: every hidden cell but one stayed the same, so
    # the whole change in the hidden sum is that one cell's. Unknowns: its old
    # value, then the others' (unchanged) values.
    for target in hidden:
        others = [key for key in hidden if key != target]
        n_vars = 1 + len(others)
        # The old sum, and the target's new value (old + new_sum - old_sum)
        # as a slack variable that cannot be negative.
        equations = [([1] * n_vars + [0], old_sum)]
        equations.append(([1] + [0] * len(others) + [-1], old_sum - new_sum))
        low, high = _bounds(equations, n_vars + 1, 0)
        assert high is not None and high - low >= k - 1 - 1e-9, (target, low, high)


def test_three_removed_obstacles_in_a_category_are_hidden_with_a_partner():
    published = disclosure.protect({"it_systems": 3, "reporting_burden": 9, "other": 12, "missing_support": 0}, 5)
    assert published.cells["it_systems"] is HIDDEN
    assert published.cells["reporting_burden"] is HIDDEN  # the partner: the total gives nothing away
    assert published.cells["missing_support"] is HIDDEN  # a zero among hidden cells is hidden too
    assert published.cells["other"] == 12 and published.total == 24


def test_a_group_smaller_than_k_is_hidden_whole():
    published = disclosure.protect({"a": 2, "b": 0, "c": 1}, 5)
    assert published.total is HIDDEN and set(published.cells.values()) == {HIDDEN}


def test_an_empty_group_shows_its_zeros():
    assert disclosure.protect({"a": 0, "b": 0}, 5) == disclosure.Protected({"a": 0, "b": 0}, 0)


@pytest.mark.parametrize("k", [0, 1])
def test_k_below_two_is_refused(k):
    with pytest.raises(ValueError):
        disclosure.protect({"a": 3}, k)


def test_shares_and_medians_need_k_cases():
    assert disclosure.share(3, 4, 5) is None and disclosure.share(None, 10, 5) is None
    assert disclosure.share(6, 10, 5) == 0.6
    assert disclosure.median([1, 2, 3, 4], 5) is None
    assert disclosure.median([5, 1, 3, 2, 4], 5) == 3.0
    assert disclosure.median([1, 2, 3, 4, 10, 20], 5) == 3.5


def test_the_lp_check_would_catch_a_lone_hidden_cell():
    """The attack the tests rely on works: with one hidden cell and the total
    shown, the equations pin it."""
    equations = [([0, 1], 7), ([1, 1], 10)]
    low, high = _bounds(equations, 2, 0)
    assert low == pytest.approx(3) and high == pytest.approx(3)


def test_a_zero_beside_hidden_cells_is_hidden_so_hidden_does_not_mean_some():
    """Were zeros shown, a reader who knows the rules would know each hidden
    cell holds at least one case."""
    published = disclosure.protect({"a": 3, "b": 4, "c": 0, "d": 20, "e": 30}, 5)
    assert published.hidden == {"a", "b", "c", "d"} and published.cells["e"] == 30


def test_a_revision_where_hidden_counts_fell_to_zero_keeps_the_frozen_release():
    """Found by Hypothesis: the hidden cells fell to 0, and a revision with
    total 0 would have said so."""
    frozen = disclosure.protect({"c0": 1, "c1": 1}, 2)
    assert disclosure.revise(frozen, {"c0": 0, "c1": 0}, 2) is frozen
