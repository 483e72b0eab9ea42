"""One-time tokens of the report forms: a form becomes at most one report.

The token (32 random bytes, in the form's page only) is claimed by inserting
its hash in the transaction that creates the report, so of two copies of one
POST, a replay or a double click, only one can commit; the database's
primary key decides, even when both arrive at once on two nodes. Until the
receipt page is shown, the submission's result (receipt and file summary) is
held sealed under the token, so the losing copy shows that receipt instead
of an error: a double click must not leave the reporter without the receipt
of the one report it made.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete
from sqlalchemy.orm import Session

from crypto import DecryptionError
from crypto.session import open_session_secret, seal_under_key

from ..models import UsedFormToken
from ..models.base import today

TOKEN_BYTES = 32
PURPOSE = "held-receipt"
KEEP_DAYS = 2  # like reporter sessions: rows go, day precision, the day after tomorrow


def issue() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(TOKEN_BYTES)).decode().rstrip("=")


def _key(token: str | None) -> bytes | None:
    try:
        raw = base64.urlsafe_b64decode((token or "") + "=" * (-len(token or "") % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == TOKEN_BYTES else None


def is_well_formed(token: str | None) -> bool:
    return _key(token) is not None


def hash_of(token: str) -> str:
    # Of the decoded bytes: "T" and "T=" are the same token and must not make two reports.
    return hashlib.sha256(_key(token) or token.encode()).hexdigest()


def is_used(db: Session, token: str) -> bool:
    return db.get(UsedFormToken, hash_of(token)) is not None


def claim(db: Session, token: str) -> None:
    """Mark the token used (flushed: IntegrityError if another request did)."""
    db.add(UsedFormToken(token_hash=hash_of(token)))
    db.flush()


def hold(db: Session, token: str, result: bytes) -> str:
    """Keep `result` for a second copy of the same POST; returns the handle
    that release() takes once the receipt has been shown."""
    row = db.get(UsedFormToken, hash_of(token))
    row.held_receipt = seal_under_key(result, _key(token), session_id=row.token_hash, purpose=PURPOSE)
    return row.token_hash


def held(db: Session, token: str) -> bytes | None:
    """The held result of this token's submission, or None once shown."""
    row = db.get(UsedFormToken, hash_of(token))
    if row is None or row.held_receipt is None:
        return None
    try:
        return open_session_secret(_key(token), row.held_receipt, session_id=row.token_hash, purpose=PURPOSE)
    except DecryptionError:
        return None


def release(db: Session, handle: str | None) -> None:
    row = db.get(UsedFormToken, handle) if handle else None
    if row is not None:
        row.held_receipt = None


def purge(db: Session) -> int:
    result = db.execute(delete(UsedFormToken).where(
        UsedFormToken.used_on < today() - dt.timedelta(days=KEEP_DAYS)))
    return result.rowcount or 0
