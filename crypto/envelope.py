"""Report data keys (DEKs): field encryption and key wrapping.

Each report has one random DEK. Fields are encrypted under keys derived from
it; the DEK itself is only ever stored wrapped: for each handler and the
escrow key with HPKE, for the reporter under the receipt-derived key.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from . import FORMAT_VERSION, _aead
from .errors import DecryptionError
from .kdf import LABEL_FIELD, LABEL_WRAP, encode_context, hkdf

DEK_BYTES = 32

# HPKE info labels (first part of encode_context(...) in `info`).
HPKE_INFO_WRAP = "tillit/v1/wrap"
HPKE_INFO_ESCROW = "tillit/v1/escrow"
HPKE_ENC_BYTES = 32  # X25519 encapsulated key
_SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)


def new_data_key() -> bytes:
    """A fresh 32-byte report DEK."""
    return secrets.token_bytes(DEK_BYTES)


# --- fields ---------------------------------------------------------------


def _field_key_and_ad(dek: bytes, report_id: str, row_id: str, field: str) -> tuple[bytes, bytes]:
    _aead.require_ids(report_id=report_id, row_id=row_id, field=field)
    dek = _aead.require_key("dek", dek)
    # Key and AD both bind the location: moving a blob to another report, row
    # or field fails authentication.
    key = hkdf(dek, LABEL_FIELD, encode_context(report_id, row_id, field))
    ad = encode_context(FORMAT_VERSION, report_id, row_id, field)
    return key, ad


def encrypt_field(dek: bytes, plaintext: bytes, *, report_id: str, row_id: str, field: str) -> bytes:
    """AES-256-GCM blob: version || nonce(12) || ciphertext || tag(16)."""
    key, ad = _field_key_and_ad(dek, report_id, row_id, field)
    return _aead.seal(key, plaintext, ad)


def decrypt_field(dek: bytes, blob: bytes, *, report_id: str, row_id: str, field: str) -> bytes:
    key, ad = _field_key_and_ad(dek, report_id, row_id, field)
    return _aead.open_(key, blob, ad)


# --- recipients (HPKE) ----------------------------------------------------


def _hpke_wrap(dek: bytes, public_key: bytes, info: bytes) -> bytes:
    dek = _aead.require_key("dek", dek, DEK_BYTES)
    pk = X25519PublicKey.from_public_bytes(_aead.require_key("public_key", public_key))
    return bytes([FORMAT_VERSION]) + _SUITE.encrypt(dek, pk, info=info)


def _hpke_unwrap(blob: bytes, private_key: bytes, info: bytes) -> bytes:
    sk = X25519PrivateKey.from_private_bytes(_aead.require_key("private_key", private_key))
    blob = _aead.require_blob(blob)
    if len(blob) < 1 + HPKE_ENC_BYTES + _aead.TAG_BYTES or blob[0] != FORMAT_VERSION:
        raise DecryptionError()
    try:
        dek = _SUITE.decrypt(blob[1:], sk, info=info)
    except Exception:
        # InvalidTag normally; ValueError for degenerate encapsulated keys.
        raise DecryptionError() from None
    if len(dek) != DEK_BYTES:
        raise DecryptionError()
    return dek


def wrap_for_recipient(
    dek: bytes, public_key: bytes, *, report_id: str, recipient_id: str, key_version: int
) -> bytes:
    """HPKE base mode to a handler's raw X25519 public key.

    Blob = version || enc(32) || ciphertext(32) || tag(16). `info` binds the
    report, the recipient and the recipient's key version, so a wrapped DEK
    cannot be replayed for another report, handler or key.
    """
    _aead.require_ids(report_id=report_id, recipient_id=recipient_id)
    _aead.require_uint("key_version", key_version)
    info = encode_context(HPKE_INFO_WRAP, report_id, recipient_id, key_version)
    return _hpke_wrap(dek, public_key, info)


def unwrap_for_recipient(
    blob: bytes, private_key: bytes, *, report_id: str, recipient_id: str, key_version: int
) -> bytes:
    _aead.require_ids(report_id=report_id, recipient_id=recipient_id)
    _aead.require_uint("key_version", key_version)
    info = encode_context(HPKE_INFO_WRAP, report_id, recipient_id, key_version)
    return _hpke_unwrap(blob, private_key, info)


def wrap_for_escrow(
    dek: bytes, escrow_public_key: bytes, *, report_id: str, key_version: int = 0
) -> bytes:
    """Like wrap_for_recipient, with its own info label (not recipient id
    "escrow") so no handler account can ever collide with the escrow key."""
    _aead.require_ids(report_id=report_id)
    _aead.require_uint("key_version", key_version)
    info = encode_context(HPKE_INFO_ESCROW, report_id, key_version)
    return _hpke_wrap(dek, escrow_public_key, info)


def unwrap_for_escrow(
    blob: bytes, escrow_private_key: bytes, *, report_id: str, key_version: int = 0
) -> bytes:
    _aead.require_ids(report_id=report_id)
    _aead.require_uint("key_version", key_version)
    info = encode_context(HPKE_INFO_ESCROW, report_id, key_version)
    return _hpke_unwrap(blob, escrow_private_key, info)


# --- symmetric wrapping ---------------------------------------------------


def _wrap_key_and_ad(kek: bytes, purpose: str, context: Sequence[str]) -> tuple[bytes, bytes]:
    if not isinstance(purpose, str) or not purpose:
        raise ValueError("purpose must be a non-empty str")
    if isinstance(context, (str, bytes)) or not all(isinstance(c, str) for c in context):
        raise TypeError("context must be a sequence of str")
    kek = _aead.require_key("kek", kek)
    # A per-purpose subkey: even if one KEK were ever used for two purposes,
    # their ciphertexts could not be exchanged.
    key = hkdf(kek, LABEL_WRAP, encode_context(purpose))
    ad = encode_context(FORMAT_VERSION, purpose, *context)
    return key, ad


def wrap_symmetric(key_to_wrap: bytes, kek: bytes, *, purpose: str, context: Sequence[str]) -> bytes:
    """AES-256-GCM wrap of a secret under a 32-byte KEK, bound to purpose and context.

    Blob = version || nonce(12) || ciphertext || tag(16).
    """
    key, ad = _wrap_key_and_ad(kek, purpose, context)
    return _aead.seal(key, key_to_wrap, ad)


def unwrap_symmetric(blob: bytes, kek: bytes, *, purpose: str, context: Sequence[str]) -> bytes:
    key, ad = _wrap_key_and_ad(kek, purpose, context)
    return _aead.open_(key, blob, ad)
