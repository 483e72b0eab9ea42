"""Routing: which channel receives a report, and who may be excluded."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    track: str
    category: str | None
    chain_level: str | None
    channel_id: str
    priority: int = 100


class NoRouteError(LookupError):
    """No rule sends this kind of report anywhere: an admin must add one."""


class NoReaderError(NoRouteError):
    """The channel has no handler whose key the trust anchor vouches for, and
    no escrow key: a report would reach nobody, so none is taken."""


class ExclusionError(ValueError):
    """The reporter tried to exclude every handler of the channel."""


def choose_channel(rules, track: str, category: str, chain_level: str | None = None) -> str:
    """The most specific matching rule wins (category and chain level beat
    wildcards); among equally specific rules the lowest priority number."""
    candidates = [
        rule for rule in rules
        if rule.track == track
        and rule.category in (None, category)
        and rule.chain_level in (None, chain_level)
    ]
    if not candidates:
        raise NoRouteError(f"no routing rule for {track}/{category}")
    best = min(
        candidates,
        key=lambda r: (-(r.category is not None) - (r.chain_level is not None), r.priority),
    )
    return best.channel_id


def recipients_after_exclusion(members: list[str], excluded: set[str], readers: list[str] | None = None,
                               *, may_wait: bool = False) -> list[str]:
    """Members who will receive the report (now or once their key is trusted).

    Only members can be excluded; at least one of `readers` (the members who
    can read it at once; by default all) must remain, unless the report
    `may_wait` for a grant (an escrow key can give it to them later)."""
    unknown = excluded - set(members)
    if unknown:
        raise ExclusionError("can only exclude handlers of the receiving channel")
    remaining = [m for m in members if m not in excluded]
    readers = members if readers is None else readers
    if not remaining or not (may_wait or any(r not in excluded for r in readers)):
        raise ExclusionError("at least one handler must remain")
    return remaining


def preview(rules, track: str, categories, chain_levels=(None,)) -> dict[tuple[str, str | None], str | None]:
    """Where each (category, chain level) of a track goes under `rules`:
    the admin's table of the routing, None where no rule catches it."""
    table = {}
    for category in categories:
        for level in chain_levels:
            try:
                table[(category, level)] = choose_channel(rules, track, category, level)
            except NoRouteError:
                table[(category, level)] = None
    return table
