"""The audit log: appending, verifying and signing its heads. Records handler
and admin actions only; the caller must never pass anything that identifies
a reporter. The chain rules are in domain/audit_chain.py."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto import anchor

from .domain.audit_chain import GENESIS, KEYED, LANES, AuditFields, Break, first_broken_link, keyed_hash
from .models import AuditEvent, AuditHead
from .models.base import utcnow

MAX_ATTEMPTS = 5
KEY_INFO = "audit_key"  # where a session finds the MAC key (web/db.py puts it there)


def _key(session: Session) -> bytes:
    key = session.info.get(KEY_INFO)
    if not key:
        raise RuntimeError("this database session has no audit key")
    return key


def _tail(session: Session, lane: int, *, lock: bool = False) -> AuditEvent | None:
    query = select(AuditEvent).where(AuditEvent.lane == lane).order_by(AuditEvent.seq.desc()).limit(1)
    return session.scalars(query.with_for_update() if lock else query).first()


def _lane(session: Session) -> int:
    """A random lane, so that audited requests rarely wait for each other;
    lane 0 until its newest event is keyed (the first keyed event anchors
    the unkeyed ones written before)."""
    tail = _tail(session, 0)
    if tail is not None and tail.format != KEYED:
        return 0
    return secrets.randbelow(LANES) if tail is not None else 0


def record(session: Session, action: str, *, actor_user_id: str | None = None,
           target_type: str | None = None, target_id: str | None = None, **detail) -> AuditEvent:
    """Append one event in its own savepoint; retries when another request took the seq."""
    key = _key(session)
    for _attempt in range(MAX_ATTEMPTS):
        lane = _lane(session)
        last = _tail(session, lane, lock=True)
        fields = AuditFields(
            lane=lane,
            seq=(last.seq + 1) if last else 1,
            at=utcnow(),
            actor_user_id=actor_user_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            detail=json.dumps(detail, sort_keys=True, separators=(",", ":")),
        )
        prev = last.hash if last else GENESIS
        event = AuditEvent(**fields.__dict__, format=KEYED, prev_hash=prev, hash=keyed_hash(key, prev, fields))
        try:
            with session.begin_nested():
                session.add(event)
            return event
        except IntegrityError:
            continue
    raise RuntimeError("could not append to the audit log")


def verify(session: Session, legacy_head: bytes | None = None) -> Break | None:
    """Where the log's chains break, or None when every lane holds;
    `legacy_head`: the pinned hash of the last event written before the log was keyed."""
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.lane, AuditEvent.seq))
    return first_broken_link(events, _key(session), legacy_head)


def lane_heads(session: Session) -> list[tuple[int, int, bytes]]:
    """(lane, seq, hash) of the newest event of every lane."""
    return [(event.lane, event.seq, bytes(event.hash)) for lane in range(LANES)
            if (event := _tail(session, lane)) is not None]


def lane_heads_at(session: Session, heads: list[tuple[int, int, bytes]]) -> list[tuple[int, int, bytes]]:
    """The events a kept head names, as they are now (missing ones left out)."""
    found = []
    for lane, seq, _digest in heads:
        event = session.get(AuditEvent, (lane, seq))
        if event is not None:
            found.append((lane, seq, bytes(event.hash)))
    return found


def sign_head(session: Session, anchor_private_key: bytes) -> AuditHead:
    """Sign where every lane ends now, with the anchor key (offline)."""
    heads = lane_heads(session)
    row = AuditHead(heads=json.dumps([[lane, seq, digest.hex()] for lane, seq, digest in heads]),
                    signature=anchor.sign_audit_head(anchor_private_key, heads))
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class HeadCheck:
    head: AuditHead
    signed: bool  # a pinned anchor key signed it
    present: bool  # every event it names is still there, with the same hash


def check_heads(session: Session, pinned) -> list[HeadCheck]:
    """Every signed head, checked against the anchor and against the log now."""
    found = []
    for row in session.scalars(select(AuditHead).order_by(AuditHead.signed_at)):
        heads = [(lane, seq, bytes.fromhex(digest)) for lane, seq, digest in json.loads(row.heads)]
        present = all((event := session.get(AuditEvent, (lane, seq))) is not None and bytes(event.hash) == digest
                      for lane, seq, digest in heads)
        found.append(HeadCheck(row, anchor.verify_audit_head(pinned, heads, row.signature), present))
    return found
