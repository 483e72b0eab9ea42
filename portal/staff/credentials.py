"""A handler's password and key pair: unlocking the private key with the
password, a locked account's refusal, setting a new password, and replacing
the key pair the account's creator made (docs/crypto.md, 4)."""
from __future__ import annotations

import secrets

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from config import Settings
from crypto import DecryptionError, keys

from ..models import ServerSession, User
from ..models.base import utcnow
from ..reports.keys import move_keys_to_new_key_pair

# Stand in for a real account so unknown usernames cost the same work.
_DUMMY_SALT = secrets.token_bytes(keys.SALT_BYTES)


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def unlock_password(settings: Settings, user: User | None, password: str) -> bytes | None:
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


def unlock_unless_locked(settings: Settings, user: User | None, password: str) -> bytes | None:
    """A locked account passes no password check (sign-in, re-authentication,
    password change), not even with the right password; same cost either way."""
    return unlock_password(settings, None if user is not None and is_locked(user) else user, password)


def set_password(db: Session, settings: Settings, user: User, private_key: bytes, new_password: str) -> None:
    """Wrap the private key under a new password; every session of the account ends."""
    user.login_salt, user.login_verifier, user.wrapped_private_key = keys.rewrap_for_new_password(
        private_key, new_password, user_id=user.id, pepper=settings.pepper, params=settings.argon2)
    user.password_changed_at = utcnow()
    end_all_sessions(db, user)


def end_all_sessions(db: Session, user: User) -> None:
    db.execute(delete(ServerSession).where(ServerSession.user_id == user.id))


def replace_creator_key_pair(db: Session, user: User, old_private_key: bytes, new_private_key: bytes) -> int:
    """Move every case key of `user` to their own new key pair. The account row
    is held meanwhile: a submission reads its recipients for share
    (organisation.channels.channel_handlers), so it wraps either before the
    move (and its key is moved) or after it (for the new pair), never for a
    pair just replaced."""
    db.execute(select(User.id).where(User.id == user.id).with_for_update())
    db.refresh(user)
    return move_keys_to_new_key_pair(db, user, old_private_key, new_private_key)

