"""Disclosure control against a reader who knows the rule (review finding:
the suppression pattern itself told that hidden cells were small, and in
one quarter two hidden categories were 4 or 5).

Every table of a few cells with counts up to a cap is protected; tables
that publish the same thing are grouped, as a reader who knows the rule
would group them. Within each group every hidden cell must be 0 in some
table and k or more in another (or as much as the group's total allows)."""
from __future__ import annotations

from collections import defaultdict

import pytest

from portal.domain import disclosure
from portal.domain.disclosure import HIDDEN
from old_rules import old_suppression as _old_rule


def _tables(cells: int, most: int):
    """Every table of `cells` counts adding up to at most `most`."""
    def split(total, parts):
        if parts == 1:
            yield (total,)
            return
        for first in range(total + 1):
            for rest in split(total - first, parts - 1):
                yield (first, *rest)
    for total in range(most + 1):
        yield from split(total, cells)


def _failures(rule, k: int, cells: int, most: int):
    """Hidden cells some group of equally published tables pins. Groups with
    the total shown hold every table of that total, so they are judged whole;
    a group with the total hidden is judged on the tables up to `most`."""
    keys = [f"c{i}" for i in range(cells)]
    groups = defaultdict(list)
    for values in _tables(cells, most):
        published = rule(dict(zip(keys, values)), k)
        groups[(tuple(published.cells.values()), published.total)].append(values)
    failures = []
    for (published, total), members in groups.items():
        for i, value in enumerate(published):
            if value is not HIDDEN:
                continue
            seen = [values[i] for values in members]
            largest_total = max(sum(values) for values in members)
            target = k if largest_total > k else largest_total - 1
            if min(seen) != 0 or max(seen) < target:
                failures.append((published, total, keys[i], min(seen), max(seen)))
    return failures


# (k, cells, largest total): up to six times k, so that every shape of
# primary, zero and complementary cells occurs; misconduct's k=10 too.
CASES = [(2, 2, 12), (2, 3, 12), (2, 5, 12), (3, 3, 18), (3, 4, 18), (5, 2, 30), (5, 3, 30), (5, 4, 30),
         (5, 5, 22), (10, 3, 40)]


@pytest.mark.parametrize(("k", "cells", "most"), CASES)
def test_no_hidden_cell_is_pinned_by_knowing_the_rule(k, cells, most):
    failures = _failures(disclosure.protect, k, cells, most)
    assert failures == [], failures[:5]


@pytest.mark.parametrize(("k", "cells", "most"), CASES)
def test_the_grouping_catches_the_old_rule(k, cells, most):
    """The attack works: the rule before the review fails it at every size."""
    assert _failures(_old_rule, k, cells, most)


def test_two_cells_with_one_small_hide_their_total():
    published = disclosure.protect({"met": 20, "missed": 2}, 5)
    assert published.cells == {"met": HIDDEN, "missed": HIDDEN} and published.total is HIDDEN
