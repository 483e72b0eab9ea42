"""Sessions that hold key material (a reporter's report key, a handler's
private key, a receipt waiting to be shown once).

The secret is sealed under a random key that lives only in the client's cookie
(crypto/session.py); the sealed blob lives only in the server_sessions table.
Neither half alone opens it. Idle and absolute expiry are checked from
timestamps in the signed cookie, so the server stores no exact reporter-side
time: reporter rows carry only a day-precision purge date.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass, field

from flask import session as cookie
from sqlalchemy import delete
from sqlalchemy.orm import Session

from crypto import DecryptionError
from crypto.session import open_session_secret, seal_session_secret

from ..models import ServerSession
from ..models.base import today, utcnow


@dataclass(frozen=True)
class Policy:
    kind: str
    idle_seconds: int
    absolute_seconds: int
    exact_server_times: bool  # False on the reporter side


REPORTER = Policy("reporter", idle_seconds=15 * 60, absolute_seconds=4 * 3600, exact_server_times=False)
RECEIPT = Policy("receipt", idle_seconds=15 * 60, absolute_seconds=15 * 60, exact_server_times=False)
HANDLER = Policy("handler", idle_seconds=30 * 60, absolute_seconds=10 * 3600, exact_server_times=True)
# Between a password that opened the key and a confirmed second factor.
ENROL = Policy("enrol", idle_seconds=15 * 60, absolute_seconds=30 * 60, exact_server_times=True)
REAUTH_SECONDS = 5 * 60


@dataclass(frozen=True)
class Opened:
    row: ServerSession
    secret: bytes = field(repr=False)
    seconds_left: int


def _row_id(session_id: str) -> str:
    # Only a hash is stored, so a database dump cannot be replayed as a cookie.
    return hashlib.sha256(session_id.encode()).hexdigest()


def _server_expiry(policy: Policy) -> tuple[dt.datetime, dt.datetime]:
    if policy.exact_server_times:
        now = utcnow()
        return now + dt.timedelta(seconds=policy.idle_seconds), now + dt.timedelta(seconds=policy.absolute_seconds)
    # Day precision: the row is purged from the day after tomorrow at the latest.
    purge = dt.datetime.combine(today() + dt.timedelta(days=2), dt.time())
    return purge, purge


def start(db: Session, policy: Policy, secret: bytes, *, user_id: str | None = None) -> None:
    end(db, policy)
    session_id = secrets.token_urlsafe(32)
    cookie_key, sealed = seal_session_secret(secret, session_id=session_id, purpose=policy.kind)
    expires_at, absolute = _server_expiry(policy)
    db.add(ServerSession(id=_row_id(session_id), kind=policy.kind, user_id=user_id,
                         sealed=sealed, expires_at=expires_at, absolute_expires_at=absolute))
    now = int(time.time())
    cookie[policy.kind] = {
        "sid": session_id,
        "key": base64.urlsafe_b64encode(cookie_key).decode(),
        "seen": now,
        "started": now,
    }


def load(db: Session, policy: Policy, *, touch: bool = True) -> Opened | None:
    """The open session of this kind, or None when absent, expired or broken."""
    data = cookie.get(policy.kind)
    if not isinstance(data, dict):
        return None
    now = int(time.time())
    if now - data.get("seen", 0) > policy.idle_seconds or now - data.get("started", 0) > policy.absolute_seconds:
        end(db, policy)
        return None
    row = db.get(ServerSession, _row_id(str(data.get("sid", ""))))
    if row is None or row.kind != policy.kind:
        cookie.pop(policy.kind, None)
        return None
    # The server's own times too, so a cookie whose times were forged (with a
    # leaked secret key) still ends when the row says so.
    if min(row.expires_at, row.absolute_expires_at) < utcnow():
        end(db, policy)
        return None
    try:
        secret = open_session_secret(base64.urlsafe_b64decode(data.get("key", "")), row.sealed,
                                     session_id=data["sid"], purpose=policy.kind)
    except (DecryptionError, ValueError):
        end(db, policy)
        return None
    if touch:
        data["seen"] = now
        cookie[policy.kind] = data
        if policy.exact_server_times:
            row.expires_at = utcnow() + dt.timedelta(seconds=policy.idle_seconds)
    left = min(policy.idle_seconds - (now - data["seen"]), policy.absolute_seconds - (now - data["started"]))
    return Opened(row=row, secret=secret, seconds_left=max(left, 0))


def mark_reauthenticated(policy: Policy) -> None:
    """Note in the signed cookie that the password was just typed again."""
    data = cookie.get(policy.kind)
    if isinstance(data, dict):
        data["reauth"] = int(time.time())
        cookie[policy.kind] = data


def recently_reauthenticated(policy: Policy) -> bool:
    data = cookie.get(policy.kind)
    return isinstance(data, dict) and int(time.time()) - int(data.get("reauth", 0)) <= REAUTH_SECONDS


def end(db: Session, policy: Policy) -> None:
    data = cookie.pop(policy.kind, None)
    if isinstance(data, dict) and data.get("sid"):
        db.execute(delete(ServerSession).where(ServerSession.id == _row_id(str(data["sid"]))))


def purge_expired(db: Session) -> int:
    """Delete rows past their expiry (run by `portal purge`)."""
    now = utcnow()
    result = db.execute(delete(ServerSession).where(
        (ServerSession.expires_at < now) | (ServerSession.absolute_expires_at < now)))
    return result.rowcount or 0
