"""The audit log's hash chain: each event's hash covers its fields and the
previous hash, so removing or editing an event breaks every later link."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

GENESIS = bytes(32)


@dataclass(frozen=True)
class AuditFields:
    seq: int
    at: dt.datetime
    actor_user_id: str | None
    action: str
    target_type: str | None
    target_id: str | None
    detail: str


def event_hash(prev_hash: bytes, fields: AuditFields) -> bytes:
    canonical = json.dumps(
        [fields.seq, fields.at.isoformat(timespec="microseconds"), fields.actor_user_id,
         fields.action, fields.target_type, fields.target_id, fields.detail],
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode()
    return hashlib.sha256(prev_hash + canonical).digest()


def first_broken_link(events) -> int | None:
    """The seq of the first event whose chain does not verify, or None.

    `events` are objects with the AuditFields attributes plus prev_hash and
    hash, in seq order.
    """
    prev = GENESIS
    expected_seq = 1
    for event in events:
        fields = AuditFields(event.seq, event.at, event.actor_user_id, event.action,
                             event.target_type, event.target_id, event.detail)
        if event.seq != expected_seq or event.prev_hash != prev or event_hash(prev, fields) != event.hash:
            return event.seq
        prev = event.hash
        expected_seq += 1
    return None
