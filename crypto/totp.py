"""Time-based one-time codes (RFC 6238) for staff login, and their storage.

Codes are 6 digits over 30-second steps with HMAC-SHA1, which is what every
authenticator app supports. A code is accepted for the current step and one
step either side (clock drift), and each step only once: the caller stores the
step returned by `matching_step` and passes it back as `last_used_step`.

The secret is stored wrapped under a key derived from the handler's private
key, so it can only be read by someone who already unlocked that key with the
password or the recovery key: a database dump alone does not give it away.
"""
from __future__ import annotations

import hmac
import secrets
from urllib.parse import quote

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from . import _aead
from .envelope import unwrap_symmetric, wrap_symmetric
from .kdf import LABEL_TOTP_KEK, hkdf

SECRET_BYTES = 20  # 160 bits, the RFC 4226 recommendation
DIGITS = 6
STEP_SECONDS = 30
WINDOW_STEPS = 1
PURPOSE_TOTP = "totp-secret"

_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def _totp(secret: bytes) -> TOTP:
    # RFC 6238 as every authenticator app computes it: HMAC-SHA1, where
    # SHA-1's collisions do not matter.
    return TOTP(secret, DIGITS, SHA1(), STEP_SECONDS)  # nosec B303


def step_at(unix_time: float) -> int:
    return int(unix_time // STEP_SECONDS)


def code_for_step(secret: bytes, step: int) -> str:
    return _totp(secret).generate(step * STEP_SECONDS).decode()


def matching_step(secret: bytes, code: str, *, now: float, last_used_step: int | None) -> int | None:
    """The step the code belongs to, or None if it is wrong, too old or used."""
    typed = "".join(code.split())
    if len(typed) != DIGITS or not typed.isdigit():
        return None
    current = step_at(now)
    found = None
    # Compare against every candidate in constant time, so timing says nothing
    # about which step (if any) matched.
    for step in range(current - WINDOW_STEPS, current + WINDOW_STEPS + 1):
        if hmac.compare_digest(code_for_step(secret, step).encode(), typed.encode()):
            found = step
    if found is None or (last_used_step is not None and found <= last_used_step):
        return None
    return found


def base32_secret(secret: bytes) -> str:
    """The secret as authenticator apps want it typed: base32, groups of 4."""
    bits = int.from_bytes(secret, "big")
    count = len(secret) * 8 // 5
    text = "".join(_BASE32[(bits >> (5 * (count - 1 - i))) & 31] for i in range(count))
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def provisioning_uri(secret: bytes, *, account: str, issuer: str) -> str:
    """otpauth:// URI for a QR code."""
    label = quote(f"{issuer}:{account}", safe="")
    return (f"otpauth://totp/{label}?secret={base32_secret(secret).replace(' ', '')}"
            f"&issuer={quote(issuer, safe='')}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}")


def _kek(private_key: bytes) -> bytes:
    return hkdf(_aead.require_key("private_key", private_key), LABEL_TOTP_KEK)


def wrap_secret(secret: bytes, private_key: bytes, *, user_id: str) -> bytes:
    _aead.require_ids(user_id=user_id)
    return wrap_symmetric(secret, _kek(private_key), purpose=PURPOSE_TOTP, context=(user_id,))


def unwrap_secret(blob: bytes, private_key: bytes, *, user_id: str) -> bytes:
    """The TOTP secret; DecryptionError if the blob or key is wrong."""
    _aead.require_ids(user_id=user_id)
    return unwrap_symmetric(blob, _kek(private_key), purpose=PURPOSE_TOTP, context=(user_id,))


__all__ = ["new_secret", "matching_step", "code_for_step", "step_at", "base32_secret",
           "provisioning_uri", "wrap_secret", "unwrap_secret"]
