"""Calendar quarters, the unit of time statistics and stories are published
in ("2026-Q3"). Only ended quarters are published (disclosure.py)."""
from __future__ import annotations

import datetime as dt


def quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def start_of(quarter: str) -> dt.date:
    year, number = quarter.split("-Q")
    return dt.date(int(year), 3 * (int(number) - 1) + 1, 1)


def after(quarter: str) -> str:
    """The quarter that follows."""
    year, number = (int(part) for part in quarter.split("-Q"))
    return f"{year + 1}-Q1" if number == 4 else f"{year}-Q{number + 1}"


def end_of(quarter: str) -> dt.date:
    """The quarter's first day after its end (exclusive bound)."""
    return start_of(after(quarter))


def before(quarter: str) -> str:
    return quarter_of(start_of(quarter) - dt.timedelta(days=1))


def last_ended(today: dt.date, count: int) -> list[str]:
    """The `count` quarters that ended before `today`'s quarter, oldest first."""
    quarters = [before(quarter_of(today))]
    while len(quarters) < count:
        quarters.append(before(quarters[-1]))
    return quarters[::-1]
