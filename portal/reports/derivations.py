"""How many Argon2id derivations for new reports run at once in a process.

Each takes the configured memory (64 MiB by default) and one core's worth
of time; beyond a few at once they only queue, and memory grows with the
queue. A submission takes a slot or, when none frees up within the
configured wait, is told the portal is busy, its text kept (issue 16)."""
from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager

from config import Settings


class Busy(Exception):
    """Every slot stayed taken for the whole wait."""


class NotAdmitted(Exception):
    """The caller's admission check (a rate limit) refused, once a slot was free."""


_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _semaphore(at_once: int) -> threading.BoundedSemaphore:
    with _slots_lock:
        return _slots.setdefault(at_once, threading.BoundedSemaphore(max(at_once, 1)))


@contextmanager
def slot(settings: Settings, admit: Callable[[], bool] | None = None):
    """`admit` is asked only once a slot is held (NotAdmitted if it says no):
    a rate limit counted there is not spent on a request refused as busy."""
    semaphore = _semaphore(settings.argon2_at_once)
    if not semaphore.acquire(timeout=settings.argon2_wait_seconds):
        raise Busy()
    try:
        if admit is not None and not admit():
            raise NotAdmitted()
        yield
    finally:
        semaphore.release()
