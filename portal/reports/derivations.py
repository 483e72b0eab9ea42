"""How many Argon2id derivations for new reports run at once in a process.

Each takes the configured memory (64 MiB by default) and one core's worth
of time; beyond a few at once they only queue, and memory grows with the
queue. A submission takes a slot or, when none frees up within the
configured wait, is told the portal is busy, its text kept (issue 16)."""
from __future__ import annotations

import threading
from contextlib import contextmanager

from config import Settings


class Busy(Exception):
    """Every slot stayed taken for the whole wait."""


_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _semaphore(at_once: int) -> threading.BoundedSemaphore:
    with _slots_lock:
        return _slots.setdefault(at_once, threading.BoundedSemaphore(max(at_once, 1)))


@contextmanager
def slot(settings: Settings):
    semaphore = _semaphore(settings.argon2_at_once)
    if not semaphore.acquire(timeout=settings.argon2_wait_seconds):
        raise Busy()
    try:
        yield
    finally:
        semaphore.release()
