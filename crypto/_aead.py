"""AES-256-GCM blobs with a version byte and a random nonce, and the argument
checks shared by the public modules (internal).

Blob = FORMAT_VERSION (1 byte) || nonce (12 bytes) || ciphertext || tag (16 bytes).
"""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import FORMAT_VERSION
from .errors import DecryptionError

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
VERSION_BYTES = 1
OVERHEAD = VERSION_BYTES + NONCE_BYTES + TAG_BYTES


def require_key(name: str, key: object, length: int = KEY_BYTES) -> bytes:
    """Keys of the wrong type or size are caller bugs: TypeError/ValueError,
    raised before anything else, never disguised as DecryptionError."""
    if not isinstance(key, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be bytes, not {type(key).__name__}")
    key = bytes(key)
    if len(key) != length:
        raise ValueError(f"{name} must be {length} bytes")
    return key


def require_ids(**ids: object) -> None:
    # Ids must be str: an int on write and a str on read would make data
    # silently undecryptable, since encode_context encodes them differently.
    for name, value in ids.items():
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, not {type(value).__name__}")


def require_uint(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError(f"{name} must be a non-negative int")


def require_blob(blob: object) -> bytes:
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise TypeError(f"ciphertext must be bytes, not {type(blob).__name__}")
    return bytes(blob)


def seal(key: bytes, plaintext: bytes, ad: bytes) -> bytes:
    # Random 96-bit nonces: every key here is derived per field, per wrap
    # purpose or per session and encrypts few messages, far below the 2**32
    # messages per key where random GCM nonces become a concern.
    nonce = secrets.token_bytes(NONCE_BYTES)
    return bytes([FORMAT_VERSION]) + nonce + AESGCM(key).encrypt(nonce, bytes(plaintext), ad)


def open_(key: bytes, blob: bytes, ad: bytes) -> bytes:
    blob = require_blob(blob)
    if len(blob) < OVERHEAD or blob[0] != FORMAT_VERSION:
        raise DecryptionError()
    nonce = blob[VERSION_BYTES : VERSION_BYTES + NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, blob[VERSION_BYTES + NONCE_BYTES :], ad)
    except Exception:
        # InvalidTag, or anything else the backend might raise on bad input.
        raise DecryptionError() from None
