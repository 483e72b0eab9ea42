"""Staff accounts (handlers, admins, viewers), their keys and server-side sessions."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from ..domain.taxonomy import ROLE_ADMIN, ROLE_HANDLER, ROLE_VIEWER
from .base import ID_LENGTH, ORDERLESS, Base, new_id, utcnow


# The key version of the pair made when the account was created.
CREATOR_KEY_VERSION = 1


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8), default="sv")
    is_handler: Mapped[bool] = mapped_column(Boolean, default=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_viewer: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    # Login material (docs/crypto.md): Argon2id salt, HKDF verifier, and the
    # X25519 private key wrapped by the password-derived key and by the
    # recovery key. The password and the recovery key are never stored.
    login_salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    login_verifier: Mapped[bytes] = mapped_column(LargeBinary(64))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    recovery_wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    key_version: Mapped[int] = mapped_column(Integer, default=1)

    totp_secret_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_notified_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    @hybrid_property
    def holds_own_keys(self) -> bool:
        """The key pair was replaced at the first sign-in (or recovery) and is
        the handler's own. Before, it is the one made with the password and
        recovery key whoever created the account saw (key version 1), so no
        case key is wrapped for it (see reports/grants.py)."""
        return self.key_version > CREATOR_KEY_VERSION

    @holds_own_keys.inplace.expression
    @classmethod
    def _holds_own_keys_expression(cls):
        return cls.key_version > CREATOR_KEY_VERSION

    @property
    def may_see_trends(self) -> bool:
        """Leadership trends: viewers, and admins and handlers too."""
        return self.is_viewer or self.is_admin or self.is_handler

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(
            role for role, held in (
                (ROLE_HANDLER, self.is_handler), (ROLE_ADMIN, self.is_admin), (ROLE_VIEWER, self.is_viewer)
            ) if held
        )


class ServerSession(Base):
    """Server half of a session that holds key material.

    `sealed` is encrypted under a key that lives only in the client's cookie
    (crypto/session.py): neither the row nor the cookie alone opens it.
    The id stored is a hash of the cookie's session id. A reporter's session
    names no report here: the report id is sealed with the key.
    """

    __tablename__ = "server_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "handler" or "reporter"
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    absolute_expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    __table_args__ = (ORDERLESS,)
