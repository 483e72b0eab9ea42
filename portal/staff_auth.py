"""Staff sign-in: password + TOTP unlock the private key; enrolment, recovery,
password change and re-authentication.

Every way in fails with the same LoginFailed and costs the same Argon2id call,
whether the username exists, is locked, or the password or code is wrong, so
neither the message nor the time tells an attacker which usernames exist.
"""
from __future__ import annotations

import datetime as dt
import secrets
import time
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from config import Settings
from crypto import DecryptionError, ReceiptFormatError, keys, totp

from . import audit, casefile
from .domain.passwords import check_password
from .models import ServerSession, User
from .models.base import utcnow

LOCK_AFTER_FAILURES = 10
LOCK_MINUTES = 15
# Stand in for a real account so unknown usernames cost the same work.
_DUMMY_SALT = secrets.token_bytes(keys.SALT_BYTES)
_DUMMY_USER_ID = "unknown-account"
_DUMMY_RECOVERY_WRAP = keys.new_recovery_wrap(keys.generate_keypair()[0], user_id=_DUMMY_USER_ID)[1]


class LoginFailed(Exception):
    """Wrong username, password, code or recovery key. One message for all."""


class PasswordNotChanged(Exception):
    """At the first sign-in the new password is the one an admin set."""


@dataclass(frozen=True)
class Unlocked:
    user: User
    private_key: bytes = field(repr=False)
    needs_enrolment: bool = False
    # The first sign-in: the password and key pair were made by an admin, who
    # knows that password; enrolment replaces both (see confirm_enrolment).
    first_sign_in: bool = False


@dataclass(frozen=True)
class PendingEnrolment:
    """A TOTP secret and a fresh recovery key, not yet confirmed with a code;
    at the first sign-in also the handler's own new private key."""

    totp_secret: bytes = field(repr=False)
    recovery_key: str = field(repr=False)  # shown once on the enrolment page
    recovery_wrapped: bytes = field(repr=False)
    new_private_key: bytes | None = field(default=None, repr=False)

    def to_bytes(self, private_key: bytes) -> bytes:
        # Sealed into the enrolment session (sealed_session):
        # key | has new key | [new key] | secret | recovery length | recovery | wrap.
        new_key = b"\x01" + self.new_private_key if self.new_private_key else b"\x00"
        return private_key + new_key + self.totp_secret + len(self.recovery_key).to_bytes(2, "big") + \
            self.recovery_key.encode() + self.recovery_wrapped

    @classmethod
    def from_bytes(cls, blob: bytes) -> tuple[bytes, PendingEnrolment]:
        """ValueError for anything not written by to_bytes."""
        private_key, flag, rest = blob[:keys.KEY_BYTES], blob[keys.KEY_BYTES:keys.KEY_BYTES + 1], \
            blob[keys.KEY_BYTES + 1:]
        if len(private_key) != keys.KEY_BYTES or flag not in (b"\x00", b"\x01"):
            raise ValueError("not an enrolment")
        new_private_key = None
        if flag == b"\x01":
            new_private_key, rest = rest[:keys.KEY_BYTES], rest[keys.KEY_BYTES:]
        secret, rest = rest[:totp.SECRET_BYTES], rest[totp.SECRET_BYTES:]
        length = int.from_bytes(rest[:2], "big")
        recovery, wrapped = rest[2:2 + length], rest[2 + length:]
        if len(secret) != totp.SECRET_BYTES or len(recovery) != length or not wrapped or \
                (new_private_key is not None and len(new_private_key) != keys.KEY_BYTES):
            raise ValueError("not an enrolment")
        return private_key, cls(secret, recovery.decode(), wrapped, new_private_key)


def find_user(db: Session, username: str) -> User | None:
    name = (username or "").strip().lower()
    if not name:
        return None
    return db.scalar(select(User).where(User.username == name, User.active))


def _is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def _failed(db: Session, user: User | None, action: str, *, counts: bool = True) -> LoginFailed:
    """Audit a failure (also for unknown usernames, without the name, so that
    both cost the same writes) and count it towards the account's lock."""
    if user is not None and counts and not _is_locked(user):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= LOCK_AFTER_FAILURES:
            user.locked_until = utcnow() + dt.timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
    audit.record(db, action, actor_user_id=user.id if user else None, target_type="user",
                 target_id=user.id if user else None)
    return LoginFailed()


def _unlock_password(settings: Settings, user: User | None, password: str) -> bytes | None:
    """The private key, or None; always one Argon2id derivation."""
    if user is None:
        keys.derive_login(password, _DUMMY_SALT, settings.pepper, settings.argon2)
        return None
    try:
        return keys.unlock_with_password(
            password, user_id=user.id, salt=user.login_salt, verifier=user.login_verifier,
            wrapped_private_key=user.wrapped_private_key, pepper=settings.pepper, params=settings.argon2)
    except DecryptionError:
        return None


def _unlock_unless_locked(settings: Settings, user: User | None, password: str) -> bytes | None:
    """A locked account passes no password check (sign-in, re-authentication,
    password change), not even with the right password; same cost either way."""
    return _unlock_password(settings, None if user is not None and _is_locked(user) else user, password)


def _accept_code(user: User, private_key: bytes, code: str, now: float) -> bool:
    try:
        secret = totp.unwrap_secret(user.totp_secret_ct, private_key, user_id=user.id)
    except DecryptionError:
        return False
    step = totp.matching_step(secret, code or "", now=now, last_used_step=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step  # each code once
    return True


def login(db: Session, settings: Settings, username: str, password: str, code: str,
          *, now: float | None = None) -> Unlocked:
    user = find_user(db, username)
    private_key = _unlock_unless_locked(settings, user, password)
    if user is None or private_key is None:
        raise _failed(db, user, "auth.login_failed")
    if user.totp_secret_ct is None:
        # No second factor yet (first sign-in, or after a recovery): the
        # password alone only opens the enrolment page.
        audit.record(db, "auth.password_ok_enrolment_needed", actor_user_id=user.id,
                     target_type="user", target_id=user.id)
        return Unlocked(user, private_key, needs_enrolment=True, first_sign_in=not user.holds_own_keys)
    if not _accept_code(user, private_key, code, time.time() if now is None else now):
        raise _failed(db, user, "auth.login_failed")
    user.failed_logins = 0
    user.locked_until = None
    audit.record(db, "auth.login", actor_user_id=user.id, target_type="user", target_id=user.id)
    if not user.holds_own_keys:
        # Enrolled before key pairs were replaced at the first sign-in: the
        # code is checked, now replace the keys the account's creator made.
        return Unlocked(user, private_key, needs_enrolment=True, first_sign_in=True)
    return Unlocked(user, private_key)


def start_enrolment(unlocked: Unlocked) -> PendingEnrolment:
    new_private_key = keys.generate_keypair()[0] if unlocked.first_sign_in else None
    recovery_key, wrapped = keys.new_recovery_wrap(new_private_key or unlocked.private_key,
                                                   user_id=unlocked.user.id)
    return PendingEnrolment(totp.new_secret(), recovery_key, wrapped, new_private_key)


def confirm_enrolment(db: Session, settings: Settings, user: User, private_key: bytes, pending: PendingEnrolment,
                      code: str, new_password: str | None = None, *, now: float | None = None) -> bytes | None:
    """Enrol the second factor once `code` matches. Returns the private key to
    sign in with, or None for a wrong code.

    At the first sign-in the admin who set the password could unwrap the
    private key with it (from the database, or from a backup taken earlier),
    so a new password alone would not do: the handler gets a key pair of
    their own, every case key they hold is re-wrapped for it, and the old
    pair is never used again. PasswordPolicyError or PasswordNotChanged for an
    unfit new password, checked before the code."""
    if pending.new_private_key is not None:
        check_password(new_password or "", username=user.username)
        if _unlock_password(settings, user, new_password) is not None:
            raise PasswordNotChanged()
    step = totp.matching_step(pending.totp_secret, code or "", now=time.time() if now is None else now,
                              last_used_step=None)
    if step is None:
        return None
    replaced = 0
    if pending.new_private_key is not None:
        replaced = _replace_key_pair(db, user, private_key, pending.new_private_key)
        private_key = pending.new_private_key
        _set_password(db, settings, user, private_key, new_password)
    user.totp_secret_ct = totp.wrap_secret(pending.totp_secret, private_key, user_id=user.id)
    user.totp_last_step = step
    user.recovery_wrapped_private_key = pending.recovery_wrapped  # the old recovery key stops working
    audit.record(db, "auth.enrol", actor_user_id=user.id, target_type="user", target_id=user.id,
                 new_key_pair=pending.new_private_key is not None, case_keys_moved=replaced)
    return private_key


def _replace_key_pair(db: Session, user: User, old_private_key: bytes, new_private_key: bytes) -> int:
    """Move every case key of `user` to their own new key pair. The account row
    is held meanwhile: a submission reads its recipients for share
    (casefile.submit), so it wraps either before the move (and its key is
    moved) or after it (for the new pair), never for a pair just replaced."""
    db.execute(select(User.id).where(User.id == user.id).with_for_update())
    db.refresh(user)
    return casefile.move_keys_to_new_key_pair(db, user, old_private_key, new_private_key)


def recover(db: Session, settings: Settings, username: str, recovery_key: str, new_password: str) -> Unlocked:
    """Unlock with the recovery key and set a new password. The second factor
    is enrolled again afterwards (the phone may be what was lost).
    PasswordPolicyError for a weak new password, LoginFailed otherwise."""
    user = find_user(db, username)
    check_password(new_password, username=(username or "").strip().lower())
    try:
        # An unknown username tries a stand-in wrap: the same work either way.
        private_key = keys.unlock_with_recovery(
            recovery_key, user_id=user.id if user else _DUMMY_USER_ID,
            wrapped_by_recovery=user.recovery_wrapped_private_key if user else _DUMMY_RECOVERY_WRAP)
    except (DecryptionError, ReceiptFormatError):
        private_key = None
    if user is None or private_key is None:
        # Recovery keys have 256 bits: failures are audited, not counted
        # towards the sign-in lock, which would only let anyone lock a handler out.
        raise _failed(db, user, "auth.recovery_failed", counts=False)
    if not user.holds_own_keys:
        # The first recovery key was seen by whoever created the account:
        # replace the key pair now, as the first sign-in would.
        new_private_key = keys.generate_keypair()[0]
        _replace_key_pair(db, user, private_key, new_private_key)
        private_key = new_private_key
    _set_password(db, settings, user, private_key, new_password)
    user.totp_secret_ct = None
    user.totp_last_step = None
    user.failed_logins = 0
    user.locked_until = None
    audit.record(db, "auth.recovered", actor_user_id=user.id, target_type="user", target_id=user.id)
    return Unlocked(user, private_key, needs_enrolment=True)


def _set_password(db: Session, settings: Settings, user: User, private_key: bytes, new_password: str) -> None:
    user.login_salt, user.login_verifier, user.wrapped_private_key = keys.rewrap_for_new_password(
        private_key, new_password, user_id=user.id, pepper=settings.pepper, params=settings.argon2)
    user.password_changed_at = utcnow()
    end_all_sessions(db, user)


def change_password(db: Session, settings: Settings, user: User, current: str, new_password: str) -> None:
    """PasswordPolicyError for a weak password, LoginFailed for a wrong current one."""
    check_password(new_password, username=user.username)
    private_key = _unlock_unless_locked(settings, user, current)
    if private_key is None:
        raise _failed(db, user, "auth.password_change_failed")
    _set_password(db, settings, user, private_key, new_password)
    audit.record(db, "auth.password_changed", actor_user_id=user.id, target_type="user", target_id=user.id)


def reauthenticate(db: Session, settings: Settings, user: User, password: str) -> bool:
    if _unlock_unless_locked(settings, user, password) is None:
        _failed(db, user, "auth.reauth_failed")
        return False
    return True


def end_all_sessions(db: Session, user: User) -> None:
    db.execute(delete(ServerSession).where(ServerSession.user_id == user.id))
