"""The audit log's chains: each event's hash covers its fields and the
previous hash of its lane, so removing, editing or reordering an event breaks
every later link of that lane.

Events are spread over LANES independent chains (a random lane each), so
audited requests do not all wait for one tail row. Since the log is keyed
(format KEYED), a link is an HMAC under a key that is not in the database
(derived from the pepper): a database writer cannot recompute one. Events
written before (format LEGACY, unkeyed SHA-256) stay at the start of lane 0,
accepted only up to the last hash pinned in configuration
(PORTAL_AUDIT_LEGACY_HEAD): otherwise a writer could pass the whole log off
as unkeyed. The anchor's signed heads (audit_heads) protect against whoever holds
the pepper as well, up to the last signed head.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass

from crypto.kdf import LABEL_AUDIT, hkdf

GENESIS = bytes(32)
LANES = 16
LEGACY, KEYED = 0, 1


@dataclass(frozen=True)
class AuditFields:
    lane: int
    seq: int
    at: dt.datetime
    actor_user_id: str | None
    action: str
    target_type: str | None
    target_id: str | None
    detail: str


def audit_key(pepper: bytes) -> bytes:
    """The MAC key of the chains: from the pepper, which is never in the database."""
    return hkdf(pepper, LABEL_AUDIT)


def _canonical(fields: AuditFields, *, with_lane: bool) -> bytes:
    parts = [fields.seq, fields.at.isoformat(timespec="microseconds"), fields.actor_user_id,
             fields.action, fields.target_type, fields.target_id, fields.detail]
    return json.dumps(([fields.lane] if with_lane else []) + parts, separators=(",", ":"),
                      ensure_ascii=True).encode()


def legacy_hash(prev_hash: bytes, fields: AuditFields) -> bytes:
    """The unkeyed link of events written before the log was keyed."""
    return hashlib.sha256(prev_hash + _canonical(fields, with_lane=False)).digest()


def keyed_hash(key: bytes, prev_hash: bytes, fields: AuditFields) -> bytes:
    return hmac.new(key, prev_hash + _canonical(fields, with_lane=True), hashlib.sha256).digest()


@dataclass(frozen=True)
class Break:
    lane: int
    seq: int | None  # None: the lane lacks something it must have (lane 0's first keyed event)
    unpinned_legacy: bytes | None = None  # the log starts unkeyed and no legacy head is pinned: this one would be


def first_broken_link(events: Iterable, key: bytes, legacy_head: bytes | None = None) -> Break | None:
    """Where the log does not verify, or None when every lane holds.

    `events` have the AuditFields attributes plus prev_hash, hash and
    format, in (lane, seq) order; unkeyed events count only up to
    `legacy_head`, the hash of the last one, pinned outside the database."""
    lanes: dict[int, list] = {}
    for event in events:
        lanes.setdefault(event.lane, []).append(event)
    for lane, lane_events in sorted(lanes.items()):
        prev, keyed_seen, last_at = GENESIS, False, None
        for expected_seq, event in enumerate(lane_events, start=1):
            if last_at is not None and event.at < last_at:
                return Break(lane, event.seq)  # time runs forward in a lane: this one was slipped in
            last_at = event.at
            fields = AuditFields(event.lane, event.seq, event.at, event.actor_user_id, event.action,
                                 event.target_type, event.target_id, event.detail)
            if event.format == KEYED:
                if lane == 0 and not keyed_seen and prev != GENESIS and prev != legacy_head:
                    return Break(0, event.seq, unpinned_legacy=prev if legacy_head is None else None)
                keyed_seen, wanted = True, keyed_hash(key, prev, fields)
            elif lane == 0 and not keyed_seen:
                wanted = legacy_hash(prev, fields)
            else:  # an unkeyed event after keyed ones, or outside lane 0: never written so
                return Break(lane, event.seq)
            if event.seq != expected_seq or event.prev_hash != prev or not hmac.compare_digest(event.hash, wanted):
                return Break(lane, event.seq)
            prev = event.hash
        if lane == 0 and not keyed_seen:
            if legacy_head is not None and prev == legacy_head and len(lanes) == 1:
                continue  # an old log, pinned, with nothing written since the upgrade
            # Otherwise other lanes are keyed (so lane 0 was too, and its keyed
            # events went), or a writer passed everything off as written before
            # the log was keyed.
            return Break(0, None, unpinned_legacy=prev if legacy_head is None and len(lanes) == 1 else None)
    if lanes and 0 not in lanes:
        return Break(0, None)
    return None
