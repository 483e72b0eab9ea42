"""Disclosure control for the published statistics: which counts may be shown.

Every published table is a *partition*: the cases of one group (for example
the obstacles received in one quarter) split by one dimension (category,
chain level, ...), each cell a count, with the group's total. Several
partitions of the same group share that total and nothing else, so hiding
cells partition by partition is enough: knowing how a group splits by one
dimension says nothing about how it splits by another (any two splits with
the same total fit some cross-table). Totals of groups are themselves only
shown when at least k, and any figure over several groups is a sum of shown
figures only. That holds for tables that share nothing but a total.

The status snapshot shares more: each of its cells is bounded above by cells
of other tables (removed this quarter <= the outcome table's removed cell,
new <= missed acknowledgements plus this quarter's receipts, ...). A shown
status cell above its shown bound would say that the hidden cells it rests
on hold at least the difference. `protect_bounded` therefore shows the
snapshot whole or hides all of it but its total and known zeros: which
cells to hide would itself be read as a clue.

Rules for one partition, with k the threshold (PORTAL_K_ANONYMITY, higher
for misconduct):

* A total below k hides the whole partition, zeros included, so that a
  reader cannot tell which cells the few cases are in.
* Otherwise every count from 1 to k-1 is hidden ("primary" suppression).
* If any cell is hidden, the zeros are hidden too (a hidden cell might then
  be zero), and the smallest other cell ("complementary"; the two smallest
  when only one cell is hidden so far).
* The rule is public, so the pattern is checked as a reader who knows it
  would read it (`_open_to_a_reader_of_the_rule`): every hidden cell must
  still be possibly 0 and possibly k or more. If not, the whole partition
  is hidden but for its total; a partition of two cells then hides its
  total too.

A quarter's tables are frozen when first published (StatsRelease). A later
computation of the same quarter replaces the frozen one only under the same
pattern (`revise`): the two releases then differ only in shown cells and in
the sum of the hidden ones, never in a hidden cell alone.

Units are cells like any other, every unit in every quarter, so that which
units are named says nothing.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

HIDDEN = None  # a hidden count is published as None ("..", or a mark in CSV)


@dataclass(frozen=True)
class Protected:
    """One partition as it may be published: counts with hidden ones as None."""

    cells: dict[str, int | None]
    total: int | None

    @property
    def hidden(self) -> frozenset[str]:
        return frozenset(key for key, count in self.cells.items() if count is HIDDEN)

    def shown_sum(self) -> int:
        return sum(count for count in self.cells.values() if count is not HIDDEN)


def protect(counts: Mapping[str, int], k: int) -> Protected:
    """The publishable form of one partition (see the module's rules)."""
    if k < 2:
        raise ValueError("k must be at least 2")
    if any(count < 0 for count in counts.values()):
        raise ValueError("counts cannot be negative")
    total = sum(counts.values())
    if 0 < total < k:
        return Protected({key: HIDDEN for key in counts}, HIDDEN)
    hidden = _suppressed(counts, k)
    if hidden and not _open_to_a_reader_of_the_rule(counts, k, hidden):
        hidden = set(counts)
    shown_total: int | None = total
    if hidden and len(counts) == 2:
        # Of two cells, one is hidden for being small: with the total shown,
        # neither could be 0. Without it, the pair could be any small group.
        shown_total = HIDDEN
    return Protected({key: HIDDEN if key in hidden else count for key, count in counts.items()}, shown_total)


def _suppressed(counts: Mapping[str, int], k: int) -> set[str]:
    """Counts 1..k-1 ("primary"), then the zeros, then the smallest other
    count, or the two smallest when only one cell is hidden so far (so that
    a hidden cell can be 0 while another holds the few)."""
    hidden = {key for key, count in counts.items() if 0 < count < k}
    if hidden:
        hidden |= {key for key, count in counts.items() if count == 0}
        # Smallest first; ties by key so the same counts always hide the same cells.
        rest = sorted((key for key in counts if key not in hidden), key=lambda key: (counts[key], key))
        hidden |= set(rest[:_complementary_wanted(len(hidden))])
    return hidden


def _complementary_wanted(small_or_zero: int) -> int:
    return 2 if small_or_zero == 1 else 1


def _open_to_a_reader_of_the_rule(counts: Mapping[str, int], k: int, hidden: set[str]) -> bool:
    """Whether a reader who knows `_suppressed` still finds every hidden
    cell possibly 0 and possibly k or more (review finding: a pattern of
    hidden cells can itself tell that they are small).

    What such a reader knows: the hidden cells hold `mass`; at least one
    holds 1..k-1; the others hold 0, 1..k-1, or, for the complementary ones,
    k or more, and those sort before every shown cell; how many are
    complementary follows from how many are not (`_complementary_wanted`),
    or is fewer when nothing is shown."""
    shown = {key: count for key, count in counts.items() if key not in hidden}
    mass, size = sum(counts[key] for key in hidden), len(hidden)

    def bound(key: str) -> float:
        # A complementary cell's (count, key) sorts before every shown cell's.
        return min((value if key < other else value - 1 for other, value in shown.items()), default=float("inf"))

    def fits(large: list[float], others_small: int) -> bool:
        """Some split of the mass: the `large` cells (their bounds) k or
        more each, one or more of `others_small` cells 1..k-1, rest 0."""
        if others_small < 1 or any(b < k for b in large):
            return False
        return len(large) * k + 1 <= mass <= sum(large) + others_small * (k - 1)

    def counts_of_large():
        for large in range(0, min(2, size) + 1):
            wanted = _complementary_wanted(size - large)
            if large == wanted or (not shown and large <= wanted):
                yield large

    for cell in hidden:
        others = sorted((bound(key) for key in hidden if key != cell), reverse=True)
        can_be_zero = any(fits(others[:j], size - 1 - j) for j in counts_of_large())
        can_be_large = any(j >= 1 and fits([bound(cell)] + others[:j - 1], size - j) for j in counts_of_large())
        if not (can_be_zero and can_be_large):
            return False
    return True


@dataclass(frozen=True)
class Bound:
    """What other published tables tell a reader about a cell's largest
    value: `shown` (a sum of shown cells and shown totals) plus the cases in
    the hidden cells of each partition named in `hidden`."""

    shown: int
    hidden: Mapping[str, int] = field(default_factory=dict)

    @property
    def largest(self) -> int:
        return self.shown + sum(self.hidden.values())


def bound_of(links: Iterable[tuple[str, Protected | None, str]], k: int, constant: int = 0) -> Bound:
    """The bound a reader can work out from `links` (partition name, its
    published form, cell) plus a shown `constant`. A partition that was never
    published (None) adds nothing: the tighter bound is the safer one."""
    shown, hidden = constant, {}
    for name, partition, cell in links:
        if partition is None:
            continue
        if partition.cells.get(cell, HIDDEN) is not HIDDEN:
            shown += partition.cells[cell]
        elif partition.total is HIDDEN:
            hidden[name] = k - 1  # all a reader knows: fewer than k in all
        else:
            hidden[name] = partition.total - partition.shown_sum()
    return Bound(shown, hidden)


def protect_bounded(counts: Mapping[str, int], k: int, bounds: Mapping[str, Bound]) -> Protected:
    """Like `protect`, for a partition whose cells other tables bound from
    above (the status snapshot; cells not in `bounds` are unbounded).

    All or nothing: shown whole when no cell holds 1..k-1 and none rests on
    a hidden cell of another table, else every cell hidden but the total
    (which is public anyway: the sum of the shown quarters it covers) and
    the known zeros (bound by a shown 0). The pattern then tells a reader
    one fact, that some cell is small or rests on a hidden one, and nothing
    about which: a reader-aware choice of cells to hide pinned hidden ones
    (review finding: new 7, in progress 8, stale 4, removed 9 and 7, closed
    otherwise 7 at k=5 hid two cells, and the rule made them 4 and 7)."""
    if k < 2:
        raise ValueError("k must be at least 2")
    total = sum(counts.values())
    if total == 0:
        return Protected(dict(counts), 0)  # nobody in the group: nothing to hide
    if total < k:
        return Protected({key: HIDDEN for key in counts}, HIDDEN)
    known_zero = {key for key, bound in bounds.items() if key in counts and bound.largest == 0}
    # With two cells or fewer left free, "hidden" would say that one of
    # them is small, which rules out a range in the middle (review finding:
    # stale was then 1..4 or 8..11): they are hidden whatever they hold.
    if len(counts) - len(known_zero) > 2 and not _needs_hiding(counts, k, bounds):
        return Protected(dict(counts), total)
    return Protected({key: 0 if key in known_zero else HIDDEN for key in counts}, total)


def _needs_hiding(counts: Mapping[str, int], k: int, bounds: Mapping[str, Bound]) -> bool:
    return any(0 < count < k for count in counts.values()) or \
        any(key in counts and bound.hidden for key, bound in bounds.items())


def revise(frozen: Protected, counts: Mapping[str, int], k: int) -> Protected:
    """What to publish when a frozen partition's counts have changed: the new
    counts under the frozen release's pattern if it still protects them
    (every count below k, zeros too, among its hidden cells, which still hold
    more than k), else the frozen release unchanged. So old and new never
    differ in one hidden cell alone, and nothing hidden before is shown now."""
    if set(counts) != set(frozen.cells):
        return frozen
    fresh = protect(counts, k)
    if frozen.total is HIDDEN or not frozen.hidden:
        return fresh if fresh.hidden == frozen.hidden and (fresh.total is HIDDEN) == (frozen.total is HIDDEN) \
            else frozen
    small_or_zero = {key for key, count in counts.items() if count < k}
    if small_or_zero <= frozen.hidden and sum(counts[key] for key in frozen.hidden) > k:
        return Protected({key: HIDDEN if key in frozen.hidden else count for key, count in counts.items()},
                         sum(counts.values()))
    return frozen


def share(part: int | None, whole: int | None, k: int) -> float | None:
    """part/whole when both are shown and whole is at least k; else None."""
    if part is HIDDEN or whole is HIDDEN or whole < k:
        return None
    return part / whole


def median(values: list[int], k: int) -> float | None:
    """The median of at least k values; None for fewer (too few to show)."""
    if len(values) < k:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
