"""The audit log: appending, verifying and signing its heads. Records handler
and admin actions only; the caller must never pass anything that identifies
a reporter. The chain rules are in domain/audit_chain.py."""
from __future__ import annotations

import datetime as dt
import hmac
import json
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crypto import anchor

from .domain.audit_chain import GENESIS, KEYED, LANES, AuditFields, Break, broken_links, fields_of, keyed_hash
from .models import AuditEvent, AuditHead
from .models.base import begin_writing, utcnow

MAX_ATTEMPTS = 5
KEY_INFO = "audit_key"  # where a session finds the MAC key (web/db.py puts it there)
LANE_INFO = "audit_lane"  # (transaction, lane): the lane its events go to


def _key(session: Session) -> bytes:
    key = session.info.get(KEY_INFO)
    if not key:
        raise RuntimeError("this database session has no audit key")
    return key


def _tail(session: Session, lane: int, *, lock: bool = False) -> AuditEvent | None:
    query = select(AuditEvent).where(AuditEvent.lane == lane).order_by(AuditEvent.seq.desc()).limit(1)
    return session.scalars(query.with_for_update() if lock else query).first()


def _lock_tail(session: Session, lane: int) -> AuditEvent | None:
    """The lane's newest event, locked until commit (PostgreSQL; SQLite holds
    its write lock already). A transaction that had to wait for the lock
    gets the row it asked for, which is no longer the newest: the holder
    appended after it. Each statement sees what is committed, so read the
    tail again and lock that, until the locked row is the newest (then
    nobody else can append to the lane before this transaction ends).
    Without this, every waiter took a seq already taken and retried."""
    while True:
        locked = _tail(session, lane, lock=True)
        newest = _tail(session, lane)
        if (newest.seq if newest else None) == (locked.seq if locked else None):
            return locked


def _lane(session: Session) -> int:
    """A random lane, so that audited requests rarely wait for each other;
    lane 0 until its newest event is keyed (the first keyed event anchors
    the unkeyed ones written before). A transaction keeps the lane of its
    first event: one holding two lanes' tails could wait for another that
    holds them the other way round."""
    transaction = session.get_transaction()
    kept = session.info.get(LANE_INFO)
    if kept is not None and kept[0] is transaction:
        return kept[1]
    tail = _tail(session, 0)
    if tail is not None and tail.format != KEYED:
        lane = 0
    else:
        lane = secrets.randbelow(LANES) if tail is not None else 0
    session.info[LANE_INFO] = (transaction, lane)
    return lane


def record(session: Session, action: str, *, actor_user_id: str | None = None,
           target_type: str | None = None, target_id: str | None = None, **detail) -> AuditEvent:
    """Append one event in its own savepoint; retries when another request took the seq."""
    key = _key(session)
    # SQLite ignores FOR UPDATE: its write lock, taken first, makes the tail read below the newest.
    begin_writing(session)
    for _attempt in range(MAX_ATTEMPTS):
        lane = _lane(session)
        last = _lock_tail(session, lane)
        fields = AuditFields(
            lane=lane,
            seq=(last.seq + 1) if last else 1,
            # Never earlier than the lane's last event: verify() requires
            # times to run forward in a lane (against backdated insertions).
            at=max(utcnow(), last.at) if last else utcnow(),
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


def authentic(session: Session, event: AuditEvent) -> bool:
    """Whether the log's key vouches for this one event as stored (its MAC;
    where it stands in its lane is verify()'s business)."""
    return event.format == KEYED and hmac.compare_digest(
        bytes(event.hash), keyed_hash(_key(session), bytes(event.prev_hash), fields_of(event)))


def verify(session: Session, legacy_head: bytes | None = None) -> Break | None:
    """Where the log's chains first break, or None when every lane holds;
    `legacy_head`: the pinned hash of the last event written before the log was keyed."""
    found = breaks(session, legacy_head)
    return found[0] if found else None


def breaks(session: Session, legacy_head: bytes | None = None) -> list[Break]:
    """Every place the log's chains break (domain/audit_chain.broken_links)."""
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.lane, AuditEvent.seq))
    return broken_links(events, _key(session), legacy_head)


def lane_heads(session: Session) -> list[tuple[int, int, bytes]]:
    """(lane, seq, hash) of the newest event of every lane; (lane, 0, GENESIS)
    for an empty one, so that a head also says which lanes had nothing."""
    heads = []
    for lane in range(LANES):
        event = _tail(session, lane)
        heads.append((lane, event.seq, bytes(event.hash)) if event is not None else (lane, 0, GENESIS))
    return heads


@dataclass(frozen=True)
class HeadDifference:
    lane: int
    seq: int
    problem: str  # "missing" (a named event is gone), "changed" (its hash differs), "behind" (dated before the head)


def head_differences(session: Session, heads: list[tuple[int, int, bytes]],
                     signed_at: dt.datetime) -> list[HeadDifference]:
    """Where the log no longer agrees with a signed head: an event it names
    that is gone or has another hash, or a later event of a lane dated
    before the signing (slipped in behind the head)."""
    found = []
    for lane, seq, digest in heads:
        if seq:
            event = session.get(AuditEvent, (lane, seq))
            if event is None or bytes(event.hash) != digest:
                found.append(HeadDifference(lane, seq, "missing" if event is None else "changed"))
        # Compared as parsed times in Python: the database would compare the
        # stored text, and a time written in another ISO form sorts apart
        # from the time it parses to (and that the MAC covers).
        later = session.execute(select(AuditEvent.seq, AuditEvent.at)
                                .where(AuditEvent.lane == lane, AuditEvent.seq > seq).order_by(AuditEvent.seq))
        found += [HeadDifference(lane, later_seq, "behind") for later_seq, moment in later if moment < signed_at]
    return found


def head_holds(session: Session, heads: list[tuple[int, int, bytes]], signed_at: dt.datetime) -> bool:
    """Whether the log still agrees with a signed head: every event it names
    is there with the same hash, and every event after it in its lane is
    dated after the signing (so nothing was slipped in behind the head)."""
    return not head_differences(session, heads, signed_at)


def newer_than(session: Session, heads: list[tuple[int, int, bytes]]) -> int:
    """How many events a head does not cover: those at the end of a lane
    could be removed without any check telling."""
    covered = {lane: seq for lane, seq, _digest in heads}
    return sum(1 for lane, seq in session.execute(select(AuditEvent.lane, AuditEvent.seq))
               if seq > covered.get(lane, 0))


def signed_time(moment: dt.datetime) -> str:
    """The signed form of a head's time (UTC, microseconds)."""
    return moment.isoformat(timespec="microseconds")


def sign_head(session: Session, anchor_private_key: bytes) -> AuditHead:
    """Sign where every lane ends now, and when, with the anchor key (offline)."""
    heads, signed_at = lane_heads(session), utcnow()
    row = AuditHead(heads=json.dumps([[lane, seq, digest.hex()] for lane, seq, digest in heads]),
                    signed_at=signed_at,
                    signature=anchor.sign_audit_head(anchor_private_key, heads, signed_time(signed_at)))
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class HeadCheck:
    head: AuditHead
    signed: bool  # a pinned anchor key signed it
    differences: list[HeadDifference]  # where the log no longer agrees with it (head_differences)

    @property
    def present(self) -> bool:
        return not self.differences

    @property
    def heads(self) -> list[tuple[int, int, bytes]]:
        return parse_heads(self.head.heads)


def parse_heads(stored: str) -> list[tuple[int, int, bytes]]:
    return [(lane, seq, bytes.fromhex(digest)) for lane, seq, digest in json.loads(stored)]


def check_heads(session: Session, pinned) -> list[HeadCheck]:
    """Every signed head, checked against the anchor and against the log now."""
    found = []
    for row in session.scalars(select(AuditHead).order_by(AuditHead.signed_at)):
        heads = parse_heads(row.heads)
        signed = anchor.verify_audit_head(pinned, heads, signed_time(row.signed_at), row.signature)
        found.append(HeadCheck(row, signed, head_differences(session, heads, row.signed_at)))
    return found
