"""Staff accounts: creation with key material, and the one place users are made."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from crypto import keys

from .. import audit
from ..domain import names
from ..domain.passwords import check_password
from ..domain.taxonomy import ROLE_ADMIN, ROLE_HANDLER, ROLE_VIEWER
from ..models import User, new_id
from ..models.user import CREATOR_KEY_VERSION


INITIAL_PASSWORD_WORDS = 4


def initial_password() -> str:
    """A one-time password for a new account, given to the person out of
    band: 4 groups of 5 random letters and digits (about 100 bits), replaced
    at the first sign-in."""
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read aloud or copied by hand
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(INITIAL_PASSWORD_WORDS))


class UsernameTaken(ValueError):
    pass


class DisplayNameRefused(ValueError):
    """A name reporters and the anchor's holder could mistake for an active
    colleague's (code: names.LOOKALIKE or names.MIXED_SCRIPTS)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def check_display_name(session: Session, display_name: str, user_id: str | None = None, *,
                       active_only: bool = False) -> str:
    """The name as stored (names.clean), or DisplayNameRefused. A new
    account is compared with every account, switched off or not (second
    review: a twin made while the real one was off, then both on);
    active_only for an account switched back on."""
    display_name = names.clean(display_name)
    query = select(User.display_name).where(User.id != (user_id or ""))
    others = session.scalars(query.where(User.active) if active_only else query)
    code = names.refusal(display_name, others)
    if code:
        raise DisplayNameRefused(code)
    return display_name


@dataclass(frozen=True)
class CreatedUser:
    user: User
    recovery_key: str  # shown once, never stored


def create_user(
    session: Session,
    settings: Settings,
    *,
    username: str,
    display_name: str,
    password: str,
    roles: set[str],
    email: str | None = None,
    language: str = "sv",
    actor_user_id: str | None = None,
) -> CreatedUser:
    username = username.strip().lower()
    check_password(password, username=username)
    if session.scalar(select(User.id).where(User.username == username)):
        raise UsernameTaken(username)
    display_name = check_display_name(session, display_name)
    user_id = new_id()
    material = keys.create_handler_keys(password, user_id, settings.pepper, settings.argon2)
    user = User(
        id=user_id,
        username=username,
        display_name=display_name,
        email=email,
        language=language,
        is_handler=ROLE_HANDLER in roles,
        is_admin=ROLE_ADMIN in roles,
        is_viewer=ROLE_VIEWER in roles,
        login_salt=material.salt,
        login_verifier=material.verifier,
        public_key=material.public_key,
        wrapped_private_key=material.private_key_wrapped_by_password,
        recovery_wrapped_private_key=material.private_key_wrapped_by_recovery,
        key_version=CREATOR_KEY_VERSION,
    )
    session.add(user)
    session.flush()
    audit.record(session, "user.create", actor_user_id=actor_user_id, target_type="user",
                 target_id=user_id, roles=sorted(roles))
    return CreatedUser(user=user, recovery_key=material.recovery_key)
