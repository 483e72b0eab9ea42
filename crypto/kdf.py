"""Key derivation: Argon2id for low-entropy secrets, HKDF for everything else,
and the one context encoding used for every HKDF info and AEAD associated data.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_SALT_BYTES = 16
MIN_PEPPER_BYTES = 32

# HKDF info = HKDF_INFO_PREFIX || label || 0x00 || context.
HKDF_INFO_PREFIX = b"tillit/v1/"

# Registry of every HKDF label in use (docs/crypto.md has the table).
# A label is never reused for a second purpose; add new ones here.
LABEL_FIELD = "field"  # DEK -> per-field AES key
LABEL_FILE = "file"  # DEK -> per-attachment STREAM key
LABEL_WRAP = "wrap"  # KEK -> per-purpose AES key of wrap_symmetric
LABEL_RECEIPT_KEK = "receipt-kek"  # Argon2id(receipt secret) -> reporter KEK
LABEL_LOGIN_VERIFIER = "login-verifier"  # Argon2id(password) -> stored verifier
LABEL_LOGIN_KEK = "login-kek"  # Argon2id(password) -> private-key KEK
LABEL_RECOVERY_KEK = "recovery-kek"  # recovery key -> private-key KEK
LABEL_TOTP_KEK = "totp-kek"  # handler private key -> KEK of the TOTP secret
LABEL_CHAIN = "chain"  # DEK -> MAC key of one of a report's chains (dialogue, timeline)
LABEL_AUDIT = "audit-mac"  # pepper -> MAC key of the audit log's chains
LABELS = frozenset(
    {
        LABEL_FIELD,
        LABEL_FILE,
        LABEL_WRAP,
        LABEL_RECEIPT_KEK,
        LABEL_LOGIN_VERIFIER,
        LABEL_LOGIN_KEK,
        LABEL_RECOVERY_KEK,
        LABEL_TOTP_KEK,
        LABEL_CHAIN,
        LABEL_AUDIT,
    }
)


@dataclass(frozen=True)
class Argon2Params:
    """Argon2id cost. Memory in KiB (as Argon2's `m`), iterations `t`, lanes `p`."""

    memory_kib: int
    iterations: int
    lanes: int = 1

    PRODUCTION: ClassVar["Argon2Params"]
    TEST: ClassVar["Argon2Params"]

    def __post_init__(self) -> None:
        for name in ("memory_kib", "iterations", "lanes"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise ValueError(f"{name} must be a positive int")
        if self.memory_kib < 8 * self.lanes:  # Argon2's own minimum
            raise ValueError("memory_kib must be at least 8 * lanes")

    @property
    def is_weak(self) -> bool:
        """True below the production minimum (64 MiB, t=3): refuse in production."""
        return (
            self.memory_kib < Argon2Params.PRODUCTION.memory_kib
            or self.iterations < Argon2Params.PRODUCTION.iterations
        )


Argon2Params.PRODUCTION = Argon2Params(memory_kib=65536, iterations=3, lanes=1)
# Smallest cost Argon2 allows: for tests only, never for real data.
Argon2Params.TEST = Argon2Params(memory_kib=8, iterations=1, lanes=1)


def argon2id(
    secret: bytes, salt: bytes, pepper: bytes, params: Argon2Params, length: int = 32
) -> bytes:
    """Argon2id(secret, salt) keyed with the server pepper (Argon2's `K`).

    The pepper is not stored in the database, so a database dump alone does
    not even allow an offline guessing attack.
    """
    _require_bytes("secret", secret)
    _require_bytes("salt", salt)
    _require_bytes("pepper", pepper)
    if len(salt) < MIN_SALT_BYTES:
        raise ValueError(f"salt must be at least {MIN_SALT_BYTES} bytes")
    if len(pepper) < MIN_PEPPER_BYTES:
        raise ValueError(f"pepper must be at least {MIN_PEPPER_BYTES} bytes")
    if not isinstance(params, Argon2Params):
        raise TypeError("params must be an Argon2Params")
    kdf = Argon2id(
        salt=bytes(salt),
        length=length,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
        ad=None,
        secret=bytes(pepper),
    )
    return kdf.derive(bytes(secret))


def hkdf(key: bytes, label: str, context: bytes = b"", length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869) with an empty salt and a versioned, labelled info.

    The input keys are uniformly random (DEKs, Argon2id outputs, recovery
    keys), so no salt is needed; the label gives domain separation.
    """
    _require_bytes("key", key)
    _require_bytes("context", context)
    if label not in LABELS:
        raise ValueError(f"unregistered HKDF label {label!r}")
    if len(key) < 32:
        raise ValueError("HKDF input key must be at least 32 bytes")
    info = HKDF_INFO_PREFIX + label.encode("ascii") + b"\x00" + bytes(context)
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(
        bytes(key)
    )


def encode_context(*parts: str | bytes | int) -> bytes:
    """Injective encoding of a list of parts, for HKDF info and AEAD AD.

    Each part becomes u16 big-endian length || bytes, where a str is UTF-8,
    bytes are taken as is, and an int is an unsigned 64-bit big-endian number
    (so its length prefix is always 00 08). Concatenating length-prefixed parts
    can be parsed back in exactly one way, so two different lists never give
    the same bytes. Each call site fixes the type of every position.
    """
    out = bytearray()
    for part in parts:
        if isinstance(part, bool):  # bool is an int subclass: almost surely a bug
            raise TypeError("bool is not a context part")
        if isinstance(part, str):
            data = part.encode("utf-8")
        elif isinstance(part, (bytes, bytearray, memoryview)):
            data = bytes(part)
        elif isinstance(part, int):
            if not 0 <= part < 2**64:
                raise ValueError("int context parts must be in [0, 2**64)")
            data = part.to_bytes(8, "big")
        else:
            raise TypeError(f"unsupported context part type {type(part).__name__}")
        if len(data) > 0xFFFF:
            raise ValueError("context part longer than 65535 bytes")
        out += struct.pack(">H", len(data)) + data
    return bytes(out)


def _require_bytes(name: str, value: object) -> None:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be bytes, not {type(value).__name__}")
