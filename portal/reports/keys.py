"""Who holds a report's data key (DEK): wrapped for each handler with HPKE,
for the offline escrow key, and for the reporter under the receipt; unwrapped
again for a handler, the escrow CLI or a receipt; moved when a handler's key
pair is replaced. Formats: docs/crypto.md, 2.5, 2.6 and 3.2."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from crypto import DecryptionError, envelope, keys, receipt

from ..models import Report, ReportKey, User

SALT_BYTES = 16
# Same cost as a real attempt, so an unknown selector takes as long as a
# wrong secret and the two cannot be told apart.
_DUMMY_WRAP = b"\x01" + bytes(60)


class AccessDenied(Exception):
    """The receipt or key does not open a report. One message for every cause."""


@dataclass(frozen=True)
class ReporterKey:
    """What a report stores so that its receipt, and only its receipt, opens it."""

    salt: bytes
    wrapped: bytes = field(repr=False)


def new_data_key() -> bytes:
    return envelope.new_data_key()


def wrap_for_reporter(settings: Settings, dek: bytes, secret: bytes, *, report_id: str) -> ReporterKey:
    salt = secrets.token_bytes(SALT_BYTES)
    wrapped = receipt.wrap_dek_for_reporter(dek, secret, report_id=report_id, salt=salt,
                                            pepper=settings.pepper, params=settings.argon2)
    return ReporterKey(salt, wrapped)


def unwrap_for_reporter(settings: Settings, report: Report | None, secret: bytes) -> bytes:
    """The DEK, or AccessDenied; one Argon2id derivation whether `report` exists or not."""
    blob = report.reporter_wrapped_key if report else _DUMMY_WRAP
    salt = report.receipt_salt if report else secrets.token_bytes(SALT_BYTES)
    try:
        dek = receipt.unwrap_dek_for_reporter(blob, secret, report_id=report.id if report else "unknown", salt=salt,
                                              pepper=settings.pepper, params=settings.argon2)
    except DecryptionError:
        raise AccessDenied() from None
    if report is None:  # unreachable unless the dummy opened: never trust it
        raise AccessDenied()
    return dek


def wrap_for_escrow(settings: Settings, dek: bytes, *, report_id: str) -> bytes | None:
    if not settings.escrow_public_key:
        return None
    return envelope.wrap_for_escrow(dek, bytes.fromhex(settings.escrow_public_key), report_id=report_id)


def unwrap_with_escrow(report: Report, escrow_private_key: bytes) -> bytes | None:
    """The DEK, or None for a report wrapped for no escrow key or for another one."""
    if report.escrow_wrapped_key is None:
        return None
    try:
        return envelope.unwrap_for_escrow(report.escrow_wrapped_key, escrow_private_key, report_id=report.id)
    except DecryptionError:
        return None


def grant_key(session: Session, report: Report, dek: bytes, user: User, *, first: bool = False) -> None:
    """Wrap the report's key for `user`'s current public key and key version,
    replacing a key they held; `first` for a new report, where there is none
    to look for."""
    (session.add if first else session.merge)(ReportKey(
        report_id=report.id,
        user_id=user.id,
        key_version=user.key_version,
        wrapped=envelope.wrap_for_recipient(
            dek, user.public_key, report_id=report.id, recipient_id=user.id, key_version=user.key_version
        ),
    ))


def unwrap_for_handler(session: Session, report: Report, user: User, private_key: bytes) -> bytes:
    """The DEK of `report` for `user`, or AccessDenied when they hold no key."""
    key = session.get(ReportKey, (report.id, user.id))
    if key is None:
        raise AccessDenied()
    try:
        return envelope.unwrap_for_recipient(
            key.wrapped, private_key, report_id=report.id, recipient_id=user.id, key_version=key.key_version
        )
    except DecryptionError:
        raise AccessDenied() from None


def move_keys_to_new_key_pair(session: Session, user: User, old_private_key: bytes,
                              new_private_key: bytes) -> int:
    """Give `user` a new key pair: every report key they hold is re-wrapped for
    the new public key under the next key version. Returns how many."""
    version = user.key_version + 1
    public_key = keys.public_key_for(new_private_key)
    held = list(session.scalars(select(ReportKey).where(ReportKey.user_id == user.id)))
    for key in held:
        dek = envelope.unwrap_for_recipient(key.wrapped, old_private_key, report_id=key.report_id,
                                            recipient_id=user.id, key_version=key.key_version)
        key.wrapped = envelope.wrap_for_recipient(dek, public_key, report_id=key.report_id,
                                                  recipient_id=user.id, key_version=version)
        key.key_version = version
    user.public_key, user.key_version = public_key, version
    session.flush()
    return len(held)
