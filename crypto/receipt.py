"""Reporter receipts: a split token (selector for lookup, secret for the key).

Layout of the 32 canonical characters (docs/crypto.md, "Receipt"):
  8 selector chars (40 bits) || 22 secret chars (110 bits) || 2 check chars
shown as 8 groups of 4 separated by "-".
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from . import encoding
from .envelope import unwrap_symmetric, wrap_symmetric
from .kdf import LABEL_RECEIPT_KEK, Argon2Params, argon2id, hkdf

SELECTOR_BITS = 40
SECRET_BITS = 110  # at least 100 bits of secret (docs/crypto.md, 3.2)
SELECTOR_CHARS = SELECTOR_BITS // encoding.BITS_PER_CHAR  # 8
SECRET_CHARS = SECRET_BITS // encoding.BITS_PER_CHAR  # 22
DATA_CHARS = SELECTOR_CHARS + SECRET_CHARS  # 30
RECEIPT_CHARS = DATA_CHARS + encoding.CHECK_CHARS  # 32
SECRET_BYTES = (SECRET_BITS + 7) // 8  # 14: the 110-bit value, big-endian
GROUP_SIZE = 4

WRAP_PURPOSE = "receipt"


@dataclass(frozen=True)
class ReceiptParts:
    """A parsed receipt.

    selector: the 8 canonical characters; the database lookup key (not secret
      enough to protect anything on its own).
    secret: the 110-bit secret as 14 big-endian bytes (top 2 bits zero); the
      Argon2id input. Never stored, never logged (hidden from repr).
    """

    selector: str
    secret: bytes = field(repr=False)


def new_receipt() -> str:
    """A fresh receipt, formatted for display. Shown once, never stored."""
    data = encoding.encode_int(secrets.randbits(SELECTOR_BITS + SECRET_BITS), DATA_CHARS)
    return encoding.group(encoding.with_check(data), GROUP_SIZE)


def parse_receipt(text: str) -> ReceiptParts:
    """Parse what a reporter typed; raises ReceiptFormatError with a reason."""
    data = encoding.parse_code(text, DATA_CHARS)
    secret_value = encoding.decode_int(data[SELECTOR_CHARS:])
    return ReceiptParts(
        selector=data[:SELECTOR_CHARS],
        secret=secret_value.to_bytes(SECRET_BYTES, "big"),
    )


def format_receipt(canonical: str) -> str:
    """Display form (groups of 4) of a receipt; validates it on the way."""
    data = encoding.parse_code(canonical, DATA_CHARS)
    return encoding.group(encoding.with_check(data), GROUP_SIZE)


def reporter_key(secret: bytes, salt: bytes, pepper: bytes, params: Argon2Params) -> bytes:
    """32-byte key-encryption key for the reporter's copy of the report DEK.

    Argon2id although the secret has 110 bits: it also makes online guessing
    of receipts expensive per attempt, and costs nothing noticeable per login.
    """
    return hkdf(argon2id(secret, salt, pepper, params), LABEL_RECEIPT_KEK)


def wrap_dek_for_reporter(
    dek: bytes,
    secret: bytes,
    *,
    report_id: str,
    salt: bytes,
    pepper: bytes,
    params: Argon2Params,
) -> bytes:
    """reporter_key + wrap_symmetric(purpose "receipt", context (report_id,))."""
    kek = reporter_key(secret, salt, pepper, params)
    return wrap_symmetric(dek, kek, purpose=WRAP_PURPOSE, context=(report_id,))


def unwrap_dek_for_reporter(
    blob: bytes,
    secret: bytes,
    *,
    report_id: str,
    salt: bytes,
    pepper: bytes,
    params: Argon2Params,
) -> bytes:
    """Inverse of wrap_dek_for_reporter; DecryptionError on a wrong secret."""
    kek = reporter_key(secret, salt, pepper, params)
    return unwrap_symmetric(blob, kek, purpose=WRAP_PURPOSE, context=(report_id,))
