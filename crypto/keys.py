"""Handler key pairs, login material, and recovery keys.

A handler's X25519 private key is stored only wrapped: under a KEK derived
from the password (with the same Argon2id call that yields the login
verifier) and under a KEK derived from a 256-bit recovery key shown once.
"""

from __future__ import annotations

import hmac
import secrets
import unicodedata
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from . import _aead, encoding
from .envelope import unwrap_symmetric, wrap_symmetric
from .errors import DecryptionError
from .kdf import (
    LABEL_LOGIN_KEK,
    LABEL_LOGIN_VERIFIER,
    LABEL_RECOVERY_KEK,
    Argon2Params,
    argon2id,
    hkdf,
)

SALT_BYTES = 16
KEY_BYTES = 32
PURPOSE_PASSWORD = "handler-key"
PURPOSE_RECOVERY = "handler-key-recovery"

RECOVERY_KEY_BITS = 256
RECOVERY_DATA_CHARS = 52  # 260 bits; the top 4 bits are zero
RECOVERY_GROUP_SIZE = 6  # 52 + 2 check chars = 9 groups of 6

_RAW = serialization.Encoding.Raw


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def generate_keypair() -> tuple[bytes, bytes]:
    """(private_raw, public_raw), 32 bytes each, X25519."""
    sk = X25519PrivateKey.generate()
    return (
        sk.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()),
        sk.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw),
    )


def public_key_for(private_key: bytes) -> bytes:
    """Raw public key of a raw X25519 private key (e.g. to check a recovery)."""
    sk = X25519PrivateKey.from_private_bytes(_aead.require_key("private_key", private_key))
    return sk.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)


# --- login ----------------------------------------------------------------


@dataclass(frozen=True)
class LoginMaterial:
    """verifier: stored, compared in constant time. kek: never stored."""

    verifier: bytes = field(repr=False)
    kek: bytes = field(repr=False)


def derive_login(password: str, salt: bytes, pepper: bytes, params: Argon2Params) -> LoginMaterial:
    """One Argon2id call, split by HKDF into verifier and KEK.

    One call, not two: an attacker checking guesses against the verifier pays
    the same cost as the server, and the server pays it once per login.
    NFC so the same password typed on different systems gives the same bytes.
    """
    if not isinstance(password, str):
        raise TypeError("password must be a str")
    k = argon2id(unicodedata.normalize("NFC", password).encode("utf-8"), salt, pepper, params)
    return LoginMaterial(
        verifier=hkdf(k, LABEL_LOGIN_VERIFIER),
        kek=hkdf(k, LABEL_LOGIN_KEK),
    )


def verify_login(stored_verifier: bytes, candidate: LoginMaterial) -> bool:
    return hmac.compare_digest(bytes(stored_verifier), candidate.verifier)


# --- recovery keys --------------------------------------------------------


def _format_recovery_key(raw: bytes) -> str:
    data = encoding.encode_int(int.from_bytes(raw, "big"), RECOVERY_DATA_CHARS)
    return encoding.group(encoding.with_check(data), RECOVERY_GROUP_SIZE)


def parse_recovery_key(text: str) -> bytes:
    """The 32 raw bytes of a typed recovery key. ReceiptFormatError on typos."""
    value = encoding.decode_int(encoding.parse_code(text, RECOVERY_DATA_CHARS))
    if value >> RECOVERY_KEY_BITS:
        # Only reachable with several typos that still pass the check.
        raise encoding.ReceiptFormatError("checksum")
    return value.to_bytes(KEY_BYTES, "big")


def _recovery_kek(raw: bytes) -> bytes:
    # Full-entropy input: HKDF suffices, no Argon2id needed.
    return hkdf(raw, LABEL_RECOVERY_KEK)


def new_recovery_wrap(private_key: bytes, *, user_id: str) -> tuple[str, bytes]:
    """A fresh recovery key (formatted, show once) and the private key wrapped
    under it. For account creation and for replacing a used recovery key."""
    _aead.require_ids(user_id=user_id)
    raw = secrets.token_bytes(KEY_BYTES)
    wrapped = wrap_symmetric(
        private_key, _recovery_kek(raw), purpose=PURPOSE_RECOVERY, context=(user_id,)
    )
    return _format_recovery_key(raw), wrapped


def unlock_with_recovery(recovery_key_text: str, *, user_id: str, wrapped_by_recovery: bytes) -> bytes:
    """The private key; ReceiptFormatError on a typo, DecryptionError if wrong."""
    _aead.require_ids(user_id=user_id)
    raw = parse_recovery_key(recovery_key_text)
    return unwrap_symmetric(
        wrapped_by_recovery, _recovery_kek(raw), purpose=PURPOSE_RECOVERY, context=(user_id,)
    )


# --- handler accounts -----------------------------------------------------


@dataclass(frozen=True)
class NewHandlerKeys:
    """Everything for a new handler. Store all of it except recovery_key,
    which is shown to the handler once."""

    salt: bytes
    verifier: bytes = field(repr=False)
    public_key: bytes
    private_key_wrapped_by_password: bytes = field(repr=False)
    private_key_wrapped_by_recovery: bytes = field(repr=False)
    recovery_key: str = field(repr=False)


def _wrap_with_password(
    private_key: bytes, password: str, user_id: str, pepper: bytes, params: Argon2Params
) -> tuple[bytes, bytes, bytes]:
    _aead.require_ids(user_id=user_id)
    salt = new_salt()
    login = derive_login(password, salt, pepper, params)
    wrapped = wrap_symmetric(private_key, login.kek, purpose=PURPOSE_PASSWORD, context=(user_id,))
    return salt, login.verifier, wrapped


def create_handler_keys(
    password: str, user_id: str, pepper: bytes, params: Argon2Params
) -> NewHandlerKeys:
    private_key, public_key = generate_keypair()
    salt, verifier, wrapped_pw = _wrap_with_password(private_key, password, user_id, pepper, params)
    recovery_key, wrapped_rec = new_recovery_wrap(private_key, user_id=user_id)
    return NewHandlerKeys(
        salt=salt,
        verifier=verifier,
        public_key=public_key,
        private_key_wrapped_by_password=wrapped_pw,
        private_key_wrapped_by_recovery=wrapped_rec,
        recovery_key=recovery_key,
    )


def unlock_with_password(
    password: str,
    *,
    user_id: str,
    salt: bytes,
    verifier: bytes,
    wrapped_private_key: bytes,
    pepper: bytes,
    params: Argon2Params,
) -> bytes:
    """The raw private key; DecryptionError (generic message) on a wrong password."""
    _aead.require_ids(user_id=user_id)
    login = derive_login(password, salt, pepper, params)
    if not verify_login(verifier, login):
        raise DecryptionError()
    return unwrap_symmetric(
        wrapped_private_key, login.kek, purpose=PURPOSE_PASSWORD, context=(user_id,)
    )


def rewrap_for_new_password(
    private_key: bytes, new_password: str, *, user_id: str, pepper: bytes, params: Argon2Params
) -> tuple[bytes, bytes, bytes]:
    """(salt, verifier, wrapped) for a new password. The key pair is unchanged,
    so DEKs already wrapped for this handler stay readable."""
    _aead.require_key("private_key", private_key)
    return _wrap_with_password(private_key, new_password, user_id, pepper, params)
