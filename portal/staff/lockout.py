"""How long an account waits after failed sign-ins, and what counts.

A lock that any visitor can trigger is a way to keep a handler out (so that
reports are handled late), so only failures by someone who has passed one
factor count: a right password with a wrong code, or a wrong password typed
from an already signed-in session. A wrong password at the sign-in form
counts only for an account that has no second factor yet, where the password
is all there is. The answer never says which factor failed, so guessing the
password blind means guessing password and code together (see
`guesses_within`, and docs/threat-model.md).

After FREE_FAILURES counted failures each further one locks the account for
a delay that doubles, up to MAX_DELAY; a correct sign-in or a recovery (with
the 256-bit recovery key) clears it.
"""
from __future__ import annotations

import datetime as dt

FREE_FAILURES = 5
FIRST_DELAY = dt.timedelta(minutes=1)
MAX_DELAY = dt.timedelta(hours=24)


def delay_after(failures: int) -> dt.timedelta | None:
    """The lock that follows the `failures`-th counted failure in a row."""
    if failures < FREE_FAILURES:
        return None
    return min(FIRST_DELAY * 2 ** min(failures - FREE_FAILURES, 32), MAX_DELAY)


def guesses_within(period: dt.timedelta) -> int:
    """The most counted attempts one account allows in `period`, for an
    attacker who tries again the moment each lock ends."""
    elapsed, attempts = dt.timedelta(0), 0
    while True:
        attempts += 1
        delay = delay_after(attempts)
        if delay is not None:
            elapsed += delay
            if elapsed > period:
                return attempts
