"""Case rules: the workflow's states and transitions and the legal deadlines.

Directive 2019/1937 art. 9(1)(b) and (f) and the Swedish act 2021:890:
acknowledge within 7 days of receipt; give feedback within 3 months of the
acknowledgement.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from .taxonomy import (
    OUTCOMES,
    OUTCOMES_BY_TRACK,
    STATUS_ACKNOWLEDGED,
    STATUS_CLOSED,
    STATUS_IN_PROGRESS,
    STATUS_NEW,
)

ACKNOWLEDGE_WITHIN_DAYS = 7
FEEDBACK_WITHIN_MONTHS = 3
DUE_SOON_DAYS = 3

# Which status may follow which; reopening a closed case returns it to work.
TRANSITIONS = {
    STATUS_NEW: {STATUS_ACKNOWLEDGED},
    STATUS_ACKNOWLEDGED: {STATUS_IN_PROGRESS, STATUS_CLOSED},
    STATUS_IN_PROGRESS: {STATUS_CLOSED},
    STATUS_CLOSED: {STATUS_IN_PROGRESS},
}


class TransitionError(ValueError):
    """A status change the workflow does not allow."""


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months, clamped to the last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def acknowledge_due(received_on: dt.date) -> dt.date:
    return received_on + dt.timedelta(days=ACKNOWLEDGE_WITHIN_DAYS)


def feedback_due(acknowledged_on: dt.date) -> dt.date:
    return add_months(acknowledged_on, FEEDBACK_WITHIN_MONTHS)


def check_transition(current: str, target: str, outcome: str | None = None, track: str | None = None) -> None:
    if target not in TRANSITIONS.get(current, set()):
        raise TransitionError(f"cannot go from {current} to {target}")
    if target == STATUS_CLOSED and outcome not in (OUTCOMES_BY_TRACK[track] if track else OUTCOMES):
        raise TransitionError("closing needs an outcome of the case's track")
    if target != STATUS_CLOSED and outcome is not None:
        raise TransitionError("only closing records an outcome")


@dataclass(frozen=True)
class TimelineState:
    """Where a case stands by its timeline, which is authenticated (unlike
    the clear columns, which a database writer can change)."""

    status: str
    outcome: str | None
    received_on: dt.date
    acknowledged_on: dt.date | None
    acknowledge_due: dt.date
    feedback_due: dt.date | None
    closed_on: dt.date | None


def state_from_timeline(events) -> TimelineState | None:
    """The state the status events (in order) add up to; None without any."""
    events = list(events)
    if not events:
        return None
    acknowledged = next((e.occurred_on for e in events if e.status == STATUS_ACKNOWLEDGED), None)
    last = events[-1]
    closed = last.status == STATUS_CLOSED
    return TimelineState(last.status, last.outcome if closed else None, events[0].occurred_on,
                         acknowledged, acknowledge_due(events[0].occurred_on),
                         feedback_due(acknowledged) if acknowledged else None,
                         last.occurred_on if closed else None)
