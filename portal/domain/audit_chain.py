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
from dataclasses import dataclass, field

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


def fields_of(event) -> AuditFields:
    """The MAC'd fields of a stored event (anything with those attributes)."""
    return AuditFields(event.lane, event.seq, event.at, event.actor_user_id, event.action,
                       event.target_type, event.target_id, event.detail)


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


# What a Break found (Break.problem).
CHANGED = "changed"  # its MAC does not match its fields: edited, or moved here from another lane or seq
MISSING = "missing"  # seq .. last_missing are not there: removed, or renumbered away
OUT_OF_ORDER = "out_of_order"  # authentic, but does not link to the event before it: reordered or moved
EARLIER = "earlier"  # dated before the event before it in its lane: slipped in
MISPLACED = "misplaced"  # a seq below 1, which is never written
UNKEYED = "unkeyed"  # unkeyed (format 0) after keyed events or outside lane 0, never written so
LEGACY_HEAD = "legacy_head"  # lane 0's keyed events do not start from the pinned legacy head
NO_KEYED_START = "no_keyed_start"  # lane 0 lacks keyed events while the log needs them, or is missing


@dataclass(frozen=True)
class Break:
    lane: int
    seq: int | None  # None: the lane lacks something it must have (lane 0's first keyed event)
    unpinned_legacy: bytes | None = None  # the log starts unkeyed and no legacy head is pinned: this one would be
    problem: str = field(default=CHANGED, compare=False)
    last_missing: int | None = field(default=None, compare=False)  # MISSING: the last seq of the gap


def broken_links(events: Iterable, key: bytes, legacy_head: bytes | None = None) -> list[Break]:
    """Every place the log does not verify, lane by lane in (lane, seq)
    order; empty when every lane holds.

    `events` have the AuditFields attributes plus prev_hash, hash and
    format, in (lane, seq) order; unkeyed events count only up to
    `legacy_head`, the hash of the last one, pinned outside the database.
    After a break the check goes on from the stored hash, so that each
    changed, removed or reordered event is named, not only the first."""
    lanes: dict[int, list] = {}
    for event in events:
        lanes.setdefault(event.lane, []).append(event)
    found = []
    for lane, lane_events in sorted(lanes.items()):
        found += _lane_breaks(lane, lane_events, key, legacy_head, only_lane=len(lanes) == 1)
    if lanes and 0 not in lanes:
        found.append(Break(0, None, problem=NO_KEYED_START))
    return found


def first_broken_link(events: Iterable, key: bytes, legacy_head: bytes | None = None) -> Break | None:
    """The first place the log does not verify (broken_links), or None."""
    found = broken_links(events, key, legacy_head)
    return found[0] if found else None


def _lane_breaks(lane: int, lane_events: list, key: bytes, legacy_head: bytes | None, *,
                 only_lane: bool) -> list[Break]:
    found: list[Break] = []
    prev, keyed_seen, last_at, expected = GENESIS, False, None, 1
    linked = True  # whether the event before is known good, so that the next must link to it
    for event in lane_events:
        if event.seq < 1:
            found.append(Break(lane, event.seq, problem=MISPLACED))
            continue
        if event.seq > expected:
            found.append(Break(lane, expected, problem=MISSING, last_missing=event.seq - 1))
            linked = False  # the link to what was removed cannot be checked
        if last_at is not None and event.at < last_at:
            found.append(Break(lane, event.seq, problem=EARLIER))  # time runs forward in a lane
        fields = fields_of(event)
        wanted = None
        if event.format == KEYED:
            if lane == 0 and not keyed_seen and prev != GENESIS and prev != legacy_head:
                found.append(Break(0, event.seq, unpinned_legacy=prev if legacy_head is None else None,
                                   problem=LEGACY_HEAD))
            keyed_seen, wanted = True, keyed_hash(key, event.prev_hash, fields)
        elif lane == 0 and not keyed_seen:
            wanted = legacy_hash(event.prev_hash, fields)
        else:
            found.append(Break(lane, event.seq, problem=UNKEYED))
        changed = wanted is not None and not hmac.compare_digest(event.hash, wanted)
        if changed:
            found.append(Break(lane, event.seq, problem=CHANGED))
        elif wanted is not None and linked and event.prev_hash != prev:
            found.append(Break(lane, event.seq, problem=OUT_OF_ORDER))
        prev, last_at, expected = event.hash, event.at, event.seq + 1
        linked = wanted is not None and not changed
    if lane == 0 and not keyed_seen:
        if not (legacy_head is not None and prev == legacy_head and only_lane):
            # Other lanes are keyed (so lane 0 was too, and its keyed events
            # went), or a writer passed everything off as written before the
            # log was keyed. (An old log, pinned, with nothing written since
            # the upgrade, holds.)
            found.append(Break(0, None, unpinned_legacy=prev if legacy_head is None and only_lane else None,
                               problem=NO_KEYED_START))
    return found
