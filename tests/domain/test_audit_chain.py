import datetime as dt
from dataclasses import dataclass, replace

from portal.domain.audit_chain import GENESIS, AuditFields, event_hash, first_broken_link


@dataclass(frozen=True)
class Event:
    seq: int
    at: dt.datetime
    actor_user_id: str | None
    action: str
    target_type: str | None
    target_id: str | None
    detail: str
    prev_hash: bytes
    hash: bytes


def chain(n):
    events, prev = [], GENESIS
    for seq in range(1, n + 1):
        fields = AuditFields(seq, dt.datetime(2026, 1, 1, 12, seq), "u1", "case.view", "report", f"r{seq}", "{}")
        digest = event_hash(prev, fields)
        events.append(Event(**fields.__dict__, prev_hash=prev, hash=digest))
        prev = digest
    return events


def test_intact_chain_verifies():
    assert first_broken_link(chain(5)) is None


def test_edited_event_breaks_the_chain_at_that_event():
    events = chain(5)
    events[2] = replace(events[2], action="case.export")
    assert first_broken_link(events) == 3


def test_removed_event_is_detected():
    events = chain(5)
    del events[1]
    assert first_broken_link(events) == 3


def test_rehashing_one_event_still_breaks_the_next_link():
    events = chain(4)
    forged = replace(events[1], action="user.create")
    forged = replace(forged, hash=event_hash(forged.prev_hash, AuditFields(
        forged.seq, forged.at, forged.actor_user_id, forged.action, forged.target_type, forged.target_id, forged.detail)))
    events[1] = forged
    assert first_broken_link(events) == 3
