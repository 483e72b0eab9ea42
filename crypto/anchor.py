"""The trust anchor: Ed25519 signatures by an offline organisation key whose
public half is pinned in the portal's configuration, never in the database.

A recipient statement says that one public key (of one account, at one key
version) may receive the report keys of one channel, for a period. The audit
log's head is signed the same way. Whoever can write to the database but does
not hold the anchor's private key can forge neither. Formats: docs/crypto.md, 10.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import FORMAT_VERSION, encoding
from .kdf import encode_context

KEY_BYTES = 32
KEY_ID_BYTES = 8
SIGNATURE_BYTES = 64
SIGNED_BYTES = 1 + KEY_ID_BYTES + SIGNATURE_BYTES  # version || key id || Ed25519 signature

# What a signature is over: ctx(label, ...). A label is never reused.
# (Statements signed under "tillit/v1/recipient" bound no name and are no
# longer honoured: a database writer could swap two handlers' names.)
LABEL_RECIPIENT = "tillit/v1/recipient-named"
# (Heads under "tillit/v1/audit-head" named neither the time nor empty
# lanes, so events could be slipped in behind them; no longer honoured.)
LABEL_AUDIT_HEAD = "tillit/v1/audit-head-dated"
_LABEL_KEY_ID = "tillit/v1/anchor-key-id"
_LABEL_FINGERPRINT = "tillit/v1/fingerprint"
FINGERPRINT_CHARS = 16  # 80 bits, in groups of 4
_RAW = serialization.Encoding.Raw


def generate_anchor_key() -> tuple[bytes, bytes]:
    """(private, public), raw 32 bytes each."""
    private = Ed25519PrivateKey.generate()
    return (private.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()),
            private.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw))


def public_key_for(private_key: bytes) -> bytes:
    """ValueError for anything that is not a raw Ed25519 private key."""
    if not isinstance(private_key, bytes) or len(private_key) != KEY_BYTES:
        raise ValueError("an anchor private key has 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes(
        _RAW, serialization.PublicFormat.Raw)


def key_id(public_key: bytes) -> bytes:
    """Names the anchor key that signed, so several can be pinned (rotation)."""
    return hashlib.sha256(encode_context(_LABEL_KEY_ID, public_key)).digest()[:KEY_ID_BYTES]


def fingerprint(public_key: bytes) -> str:
    """A short code two people can compare aloud: the handler sees it for
    their own key, the anchor holder before signing it."""
    digest = hashlib.sha256(encode_context(_LABEL_FINGERPRINT, public_key)).digest()
    value = int.from_bytes(digest[:10], "big")  # 80 bits = 16 characters
    return encoding.group(encoding.encode_int(value, FINGERPRINT_CHARS), 4)


def _sign(private_key: bytes, message: bytes) -> bytes:
    signer = Ed25519PrivateKey.from_private_bytes(private_key)
    return bytes([FORMAT_VERSION]) + key_id(public_key_for(private_key)) + signer.sign(message)


def _verify(pinned: Iterable[bytes], message: bytes, blob: bytes) -> bool:
    if not isinstance(blob, bytes) or len(blob) != SIGNED_BYTES or blob[0] != FORMAT_VERSION:
        return False
    wanted, signature = blob[1:1 + KEY_ID_BYTES], blob[1 + KEY_ID_BYTES:]
    for public_key in pinned:
        if key_id(public_key) == wanted:
            try:
                Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
            except (InvalidSignature, ValueError):
                return False
            return True
    return False


@dataclass(frozen=True)
class RecipientStatement:
    """The anchor's word that `public_key` (of `user_id`, at `key_version`,
    shown to reporters as `display_name`) may receive the report keys of
    `channel_id` from `not_before` to `not_after` (inclusive; None: until
    revoked by a new anchor key)."""

    user_id: str
    channel_id: str
    public_key: bytes
    key_version: int
    not_before: dt.date
    not_after: dt.date | None = None
    display_name: str = ""

    def message(self) -> bytes:
        return encode_context(LABEL_RECIPIENT, self.user_id, self.channel_id, self.public_key, self.key_version,
                              self.not_before.isoformat(), self.not_after.isoformat() if self.not_after else "",
                              self.display_name)

    def valid_on(self, day: dt.date) -> bool:
        return self.not_before <= day and (self.not_after is None or day <= self.not_after)


def sign_statement(private_key: bytes, statement: RecipientStatement) -> bytes:
    return _sign(private_key, statement.message())


def verify_statement(pinned: Iterable[bytes], statement: RecipientStatement, signature: bytes, *,
                     on: dt.date) -> bool:
    """True only if a pinned anchor key signed exactly this statement and it is valid `on`."""
    return statement.valid_on(on) and _verify(pinned, statement.message(), signature)


def audit_head_message(lane_heads: Iterable[tuple[int, int, bytes]], signed_at: str) -> bytes:
    """What a signed audit head covers: when it was signed (ISO time, UTC)
    and every lane's (lane, last seq, last hash), seq 0 for an empty lane."""
    parts: list = [LABEL_AUDIT_HEAD, signed_at]
    for lane, seq, digest in sorted(lane_heads):
        parts += [lane, seq, digest]
    return encode_context(*parts)


def sign_audit_head(private_key: bytes, lane_heads: Iterable[tuple[int, int, bytes]], signed_at: str) -> bytes:
    return _sign(private_key, audit_head_message(lane_heads, signed_at))


def verify_audit_head(pinned: Iterable[bytes], lane_heads: Iterable[tuple[int, int, bytes]], signed_at: str,
                      signature: bytes) -> bool:
    return _verify(pinned, audit_head_message(lane_heads, signed_at), signature)
