"""Case references people can read aloud, type into a register (diarium)
and tell apart: eight characters from an alphabet without 0/O, 1/I/L and
U, in two groups (K7QM-4TXP). Random, never sequential, so a reference
tells nothing of how many cases there are or in what order they came."""
from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
GROUP = 4
STORED_LENGTH = LENGTH + LENGTH // GROUP - 1  # with the dashes


def new_reference() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i:i + GROUP] for i in range(0, LENGTH, GROUP))


def normalise(text: str) -> str | None:
    """A typed reference in its stored form ('k7qm 4txp' -> 'K7QM-4TXP'),
    or None if it cannot be one."""
    raw = re.sub(r"[\s\-_.]", "", text or "").upper()
    if len(raw) != LENGTH or any(char not in ALPHABET for char in raw):
        return None
    return "-".join(raw[i:i + GROUP] for i in range(0, LENGTH, GROUP))
