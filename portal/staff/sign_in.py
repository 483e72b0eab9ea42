"""Staff sign-in: password + TOTP unlock the private key; recovery with the
recovery key, password change and re-authentication.

Every way in fails with the same LoginFailed and costs the same Argon2id call,
whether the username exists, is locked, or the password or code is wrong, so
neither the message nor the time tells an attacker which usernames exist.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from config import Settings
from crypto import DecryptionError, ReceiptFormatError, keys, totp

from .. import audit
from ..domain.passwords import check_password
from ..models import User
from ..models.base import utcnow
from .credentials import replace_creator_key_pair, set_password, unlock_unless_locked
from .enrolment import PendingEnrolment, start_enrolment
from .lockout import delay_after

_DUMMY_USER_ID = "unknown-account"
_DUMMY_RECOVERY_WRAP = keys.new_recovery_wrap(keys.generate_keypair()[0], user_id=_DUMMY_USER_ID)[1]


class LoginFailed(Exception):
    """Wrong username, password, code or recovery key. One message for all."""


class KeyTampered(LoginFailed):
    """The public key the database holds for the account is not the one its
    password unlocks: it was changed outside the portal, perhaps so that
    reports get wrapped for someone else's key. Sign-in stops until an
    administrator has restored the account."""


@dataclass(frozen=True)
class Unlocked:
    user: User
    private_key: bytes = field(repr=False)
    needs_enrolment: bool = False
    # The first sign-in: the password and key pair were made by an admin, who
    # knows that password; enrolment replaces both (enrolment.confirm_enrolment).
    first_sign_in: bool = False

    def begin_enrolment(self) -> PendingEnrolment:
        return start_enrolment(self.user, self.private_key, first_sign_in=self.first_sign_in)


def find_user(db: Session, username: str) -> User | None:
    name = (username or "").strip().lower()
    if not name:
        return None
    return db.scalar(select(User).where(User.username == name, User.active))


def _spend_attempt(db: Session, user: User | None) -> bool:
    """Count one attempt towards the account's delay, unless the account is
    locked: then False, and the attempt must fail whatever it carried. One
    conditional update, and the lock it earns is set before the transaction
    ends (the row stays locked until then), so parallel guesses cannot race
    past a lock another one just earned: every attempt that could succeed
    was counted first (review finding: eight at once all got checked)."""
    now = utcnow()
    account = user.id if user is not None else _DUMMY_USER_ID
    failures = db.scalar(update(User).where(User.id == account,
                                            or_(User.locked_until.is_(None), User.locked_until <= now))
                         .values(failed_logins=func.coalesce(User.failed_logins, 0) + 1)
                         .returning(User.failed_logins).execution_options(synchronize_session=False))
    delay = delay_after(failures or 0)
    # Run whether or not it locks, so the time does not tell.
    db.execute(update(User).where(User.id == account, delay is not None)
               .values(locked_until=now + (delay or dt.timedelta(0))).execution_options(synchronize_session=False))
    if user is not None:
        db.expire(user, ["failed_logins", "locked_until"])
    return failures is not None and user is not None


def _spent_nothing(db: Session) -> None:
    """The statements _spend_attempt runs, changing nothing: for failures
    that do not count, so that whether one counted does not show in the time."""
    db.execute(update(User).where(User.id == _DUMMY_USER_ID).values(failed_logins=User.failed_logins)
               .execution_options(synchronize_session=False))
    db.execute(update(User).where(User.id == _DUMMY_USER_ID).values(locked_until=User.locked_until)
               .execution_options(synchronize_session=False))


def _cleared(user: User) -> None:
    user.failed_logins = 0
    user.locked_until = None


def _failed(db: Session, user: User | None, action: str) -> LoginFailed:
    """Audit a failure (also for unknown usernames, without the name, so
    that both cost the same writes). One action for every way to fail: the
    log must not tell its readers (an administrator) which password was right."""
    audit.record(db, action, actor_user_id=user.id if user else None, target_type="user",
                 target_id=user.id if user else None)
    return LoginFailed()


def _accept_code(db: Session, user: User, private_key: bytes, code: str, now: float) -> bool:
    try:
        secret = totp.unwrap_secret(user.totp_secret_ct, private_key, user_id=user.id)
    except DecryptionError:
        return False
    step = totp.matching_step(secret, code or "", now=now, last_used_step=user.totp_last_step)
    if step is None:
        return False
    # Each code once, also when the same code arrives twice at the same moment:
    # only one conditional update can move the last used step past it.
    taken = db.execute(update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None),
                                                                 User.totp_last_step < step))
                       .values(totp_last_step=step).execution_options(synchronize_session=False))
    db.expire(user, ["totp_last_step"])
    return taken.rowcount == 1


def login(db: Session, settings: Settings, username: str, password: str, code: str,
          *, now: float | None = None) -> Unlocked:
    user = find_user(db, username)
    private_key = unlock_unless_locked(settings, user, password)
    if user is None or private_key is None:
        # A wrong password counts only where it is the only factor: anyone
        # can type wrong passwords, and the answer does not say which failed.
        if user is not None and user.totp_secret_ct is None:
            _spend_attempt(db, user)
        else:
            _spent_nothing(db)
        raise _failed(db, user, "auth.login_failed")
    if user.totp_secret_ct is None:
        # The password is the only factor: every attempt was counted, the right one too.
        if not _spend_attempt(db, user):
            raise _failed(db, user, "auth.login_failed")
        _cleared(user)
        if user.holds_own_keys and keys.public_key_for(private_key) != bytes(user.public_key):
            # Checked before the enrolment: the second factor's absence must
            # not turn a swapped key into a quiet re-enrolment.
            raise _key_tampered(db, user)
        # No second factor: the password alone only opens the enrolment page,
        # and whoever knows that password may have set it (the account's
        # creator, or anyone who can write the account's row), so enrolment
        # always makes a key pair and a password of the handler's own,
        # whatever the database says about the key (key_version).
        # (After a recovery, recover() has just done both.)
        audit.record(db, "auth.password_ok_enrolment_needed", actor_user_id=user.id,
                     target_type="user", target_id=user.id)
        return Unlocked(user, private_key, needs_enrolment=True, first_sign_in=True)
    # Right password: the attempt counts before its code is looked at.
    if not _spend_attempt(db, user) or not _accept_code(db, user, private_key, code,
                                                        time.time() if now is None else now):
        raise _failed(db, user, "auth.login_failed")
    _cleared(user)
    if user.holds_own_keys and keys.public_key_for(private_key) != bytes(user.public_key):
        # After the code: otherwise, once a database writer swapped the key,
        # this answer would confirm the password to anyone, without the code.
        raise _key_tampered(db, user)
    audit.record(db, "auth.login", actor_user_id=user.id, target_type="user", target_id=user.id)
    if not user.holds_own_keys:
        # Enrolled before key pairs were replaced at the first sign-in: the
        # code is checked, now replace the keys the account's creator made.
        return Unlocked(user, private_key, needs_enrolment=True, first_sign_in=True)
    return Unlocked(user, private_key)


def _key_tampered(db: Session, user: User) -> KeyTampered:
    audit.record(db, "trust.key_mismatch", actor_user_id=user.id, target_type="user", target_id=user.id,
                 key_version=user.key_version, second_factor=user.totp_secret_ct is not None)
    return KeyTampered()


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
        raise _failed(db, user, "auth.recovery_failed")
    # A new key pair at every recovery, whatever the database says: the
    # recovery key may be the one printed to the account's creator, or a
    # lost one that somebody else found. The anchor signs the new key anew.
    new_private_key = keys.generate_keypair()[0]
    replace_creator_key_pair(db, user, private_key, new_private_key)
    private_key = new_private_key
    set_password(db, settings, user, private_key, new_password)
    user.totp_secret_ct = None
    user.totp_last_step = None
    user.failed_logins = 0
    user.locked_until = None
    audit.record(db, "auth.recovered", actor_user_id=user.id, target_type="user", target_id=user.id)
    return Unlocked(user, private_key, needs_enrolment=True)


def _password_from_session(db: Session, settings: Settings, user: User, password: str,
                           action: str) -> bytes | None:
    """A password typed from an open session (whose holder passed both
    factors): every attempt counts, and a locked account passes none."""
    private_key = unlock_unless_locked(settings, user, password)
    if not _spend_attempt(db, user) or private_key is None:
        _failed(db, user, action)
        return None
    _cleared(user)
    return private_key


def change_password(db: Session, settings: Settings, user: User, current: str, new_password: str) -> None:
    """PasswordPolicyError for a weak password, LoginFailed for a wrong current one."""
    check_password(new_password, username=user.username)
    private_key = _password_from_session(db, settings, user, current, "auth.password_change_failed")
    if private_key is None:
        raise LoginFailed()
    set_password(db, settings, user, private_key, new_password)
    audit.record(db, "auth.password_changed", actor_user_id=user.id, target_type="user", target_id=user.id)


def reauthenticate(db: Session, settings: Settings, user: User, password: str) -> bool:
    return _password_from_session(db, settings, user, password, "auth.reauth_failed") is not None
