"""How long a closed case is kept: each channel's retention period, counted
in calendar months from the day the case was closed. Personal data in a
whistleblowing case may be kept at most two years after the case was closed
(2021:890, 7 ch.); an obstacle channel may keep its cases up to ten years."""
from __future__ import annotations

import datetime as dt

from .cases import add_months
from .taxonomy import MISCONDUCT

MIN_MONTHS = 1
MAX_MONTHS = {MISCONDUCT: 24}
MAX_OTHER_MONTHS = 120
DEFAULT_MONTHS = 24


def longest(track: str) -> int:
    """The longest retention a channel of this track may have."""
    return MAX_MONTHS.get(track, MAX_OTHER_MONTHS)


def allowed(track: str, months: int) -> bool:
    return MIN_MONTHS <= months <= longest(track)


def expires_on(closed_on: dt.date, track: str, months: int) -> dt.date:
    """The first day the case may no longer be kept. A stored period above
    the track's limit (a database writer, an old row) counts as the limit."""
    return add_months(closed_on, min(max(months, MIN_MONTHS), longest(track)))
