"""Enrolment of the second factor: at the first sign-in (with a key pair and
password of the handler's own) and after a recovery. Between the password
and a confirmed code, the pending state is sealed into the enrolment session
in the versioned format of docs/crypto.md, 5.1 (PendingEnrolment.to_bytes).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from config import Settings
from crypto import keys, totp

from .. import audit
from ..domain.passwords import check_password
from ..models import User
from .credentials import replace_creator_key_pair, set_password, unlock_password

FORMAT_VERSION = 1
_NO_NEW_KEY, _NEW_KEY = b"\x00", b"\x01"


class PasswordNotChanged(Exception):
    """At the first sign-in the new password is the one an admin set."""


@dataclass(frozen=True)
class PendingEnrolment:
    """A TOTP secret and a fresh recovery key, not yet confirmed with a code;
    at the first sign-in also the handler's own new private key. `private_key`
    is the one the password (or recovery key) unlocked."""

    private_key: bytes = field(repr=False)
    totp_secret: bytes = field(repr=False)
    recovery_key: str = field(repr=False)  # shown once on the enrolment page
    recovery_wrapped: bytes = field(repr=False)
    new_private_key: bytes | None = field(default=None, repr=False)

    @property
    def first_sign_in(self) -> bool:
        return self.new_private_key is not None

    def to_bytes(self) -> bytes:
        """version (1) || private key (32) || 0x00, or 0x01 || new private key (32) ||
        TOTP secret (20) || recovery key length (u16) || recovery key (ASCII) || recovery wrap."""
        new_key = _NEW_KEY + self.new_private_key if self.new_private_key else _NO_NEW_KEY
        recovery = self.recovery_key.encode()
        return bytes([FORMAT_VERSION]) + self.private_key + new_key + self.totp_secret + \
            len(recovery).to_bytes(2, "big") + recovery + self.recovery_wrapped

    @classmethod
    def from_bytes(cls, blob: bytes) -> PendingEnrolment:
        """ValueError for anything not written by to_bytes of this version."""
        if not blob or blob[0] != FORMAT_VERSION:
            raise ValueError("not an enrolment of this version")
        rest = blob[1:]
        private_key, flag, rest = rest[:keys.KEY_BYTES], rest[keys.KEY_BYTES:keys.KEY_BYTES + 1], \
            rest[keys.KEY_BYTES + 1:]
        if len(private_key) != keys.KEY_BYTES or flag not in (_NO_NEW_KEY, _NEW_KEY):
            raise ValueError("not an enrolment")
        new_private_key = None
        if flag == _NEW_KEY:
            new_private_key, rest = rest[:keys.KEY_BYTES], rest[keys.KEY_BYTES:]
        secret, rest = rest[:totp.SECRET_BYTES], rest[totp.SECRET_BYTES:]
        length = int.from_bytes(rest[:2], "big")
        recovery, wrapped = rest[2:2 + length], rest[2 + length:]
        if len(secret) != totp.SECRET_BYTES or len(recovery) != length or not wrapped or \
                (new_private_key is not None and len(new_private_key) != keys.KEY_BYTES):
            raise ValueError("not an enrolment")
        return cls(private_key, secret, recovery.decode(), wrapped, new_private_key)


def start_enrolment(user: User, private_key: bytes, *, first_sign_in: bool) -> PendingEnrolment:
    new_private_key = keys.generate_keypair()[0] if first_sign_in else None
    recovery_key, wrapped = keys.new_recovery_wrap(new_private_key or private_key, user_id=user.id)
    return PendingEnrolment(private_key, totp.new_secret(), recovery_key, wrapped, new_private_key)


def confirm_enrolment(db: Session, settings: Settings, user: User, pending: PendingEnrolment, code: str,
                      new_password: str | None = None, *, now: float | None = None) -> bytes | None:
    """Enrol the second factor once `code` matches. Returns the private key to
    sign in with, or None for a wrong code.

    At the first sign-in the admin who set the password could unwrap the
    private key with it (from the database, or from a backup taken earlier),
    so a new password alone would not do: the handler gets a key pair of
    their own, every case key they hold is re-wrapped for it, and the old
    pair is never used again. PasswordPolicyError or PasswordNotChanged for an
    unfit new password, checked before the code."""
    if pending.first_sign_in:
        check_password(new_password or "", username=user.username)
        if unlock_password(settings, user, new_password) is not None:
            raise PasswordNotChanged()
    step = totp.matching_step(pending.totp_secret, code or "", now=time.time() if now is None else now,
                              last_used_step=None)
    if step is None:
        return None
    private_key, replaced = pending.private_key, 0
    if pending.first_sign_in:
        replaced = replace_creator_key_pair(db, user, private_key, pending.new_private_key)
        private_key = pending.new_private_key
        set_password(db, settings, user, private_key, new_password)
    user.totp_secret_ct = totp.wrap_secret(pending.totp_secret, private_key, user_id=user.id)
    user.totp_last_step = step
    user.recovery_wrapped_private_key = pending.recovery_wrapped  # the old recovery key stops working
    audit.record(db, "auth.enrol", actor_user_id=user.id, target_type="user", target_id=user.id,
                 new_key_pair=pending.first_sign_in, case_keys_moved=replaced)
    return private_key
