"""The audit log's chains: keyed links in lanes, an unkeyed prefix anchored
by the first keyed event, and every edit found, even one a database writer
re-hashes without the key."""
import datetime as dt
import secrets
from dataclasses import dataclass, replace

import pytest

from portal.domain.audit_chain import (
    CHANGED,
    GENESIS,
    KEYED,
    LEGACY,
    MISSING,
    AuditFields,
    Break,
    broken_links,
    first_broken_link,
    keyed_hash,
    legacy_hash,
)

KEY = secrets.token_bytes(32)


@dataclass(frozen=True)
class Event:
    lane: int
    seq: int
    at: dt.datetime
    actor_user_id: str | None
    action: str
    target_type: str | None
    target_id: str | None
    detail: str
    prev_hash: bytes
    hash: bytes
    format: int


def lane(number, n, *, legacy=0, key=KEY, start=None):
    """n events of one lane; the first `legacy` of them unkeyed (lane 0 only)."""
    events, prev = [], GENESIS
    for seq in range(1, n + 1):
        fields = AuditFields(number, seq, dt.datetime(2026, 1, 1, 12, seq), "u1", "case.view", "report", f"r{seq}",
                             "{}")
        fmt = LEGACY if seq <= legacy else KEYED
        digest = legacy_hash(prev, fields) if fmt == LEGACY else keyed_hash(key, prev, fields)
        events.append(Event(**fields.__dict__, prev_hash=prev, hash=digest, format=fmt))
        prev = digest
    return events


def fields_of(event):
    return AuditFields(event.lane, event.seq, event.at, event.actor_user_id, event.action, event.target_type,
                       event.target_id, event.detail)


def test_intact_lanes_verify():
    assert first_broken_link(lane(0, 5) + lane(3, 4) + lane(7, 1), KEY) is None


def test_an_unkeyed_start_of_lane_zero_verifies_only_up_to_its_pinned_head():
    events = lane(0, 6, legacy=3) + lane(2, 2)
    pinned = events[2].hash
    assert first_broken_link(events, KEY, pinned) is None
    # Without the pin, the log says what would be pinned instead of passing.
    assert first_broken_link(events, KEY) == Break(0, 4, unpinned_legacy=pinned)
    # Re-hashing an unkeyed event (no key needed) breaks the first keyed one after it.
    forged = replace(events[1], action="user.create")
    forged = replace(forged, hash=legacy_hash(forged.prev_hash, fields_of(forged)))
    later = replace(events[2], prev_hash=forged.hash, hash=legacy_hash(forged.hash, fields_of(events[2])))
    assert first_broken_link([events[0], forged, later] + events[3:], KEY, pinned) == Break(0, 4)


def test_a_log_passed_off_as_entirely_unkeyed_does_not_verify():
    """The review's attack: every event rewritten as an unkeyed one of lane 0."""
    forged = lane(0, 8, legacy=8)
    assert first_broken_link(forged, KEY) == Break(0, None, unpinned_legacy=forged[-1].hash)
    assert first_broken_link(forged, KEY, secrets.token_bytes(32)) == Break(0, None)
    genuine_old = lane(0, 3, legacy=3)
    assert first_broken_link(genuine_old, KEY, genuine_old[-1].hash) is None


def test_edited_event_breaks_the_chain_at_that_event():
    events = lane(0, 5)
    events[2] = replace(events[2], action="case.export")
    assert first_broken_link(events, KEY) == Break(0, 3)


def test_removed_event_is_detected():
    events = lane(0, 5)
    del events[1]
    assert first_broken_link(events, KEY) == Break(0, 2)  # the missing one is named


def test_reordered_events_are_detected():
    events = lane(0, 5)
    events[1], events[2] = replace(events[2], seq=2), replace(events[1], seq=3)
    assert first_broken_link(events, KEY) is not None


def test_rehashing_without_the_key_still_breaks_the_link():
    events = lane(0, 4)
    forged = replace(events[1], action="user.create")
    wrong_key = secrets.token_bytes(32)  # all a database writer can use
    for attempt in (keyed_hash(wrong_key, forged.prev_hash, fields_of(forged)),
                    legacy_hash(forged.prev_hash, fields_of(forged))):
        assert first_broken_link([events[0], replace(forged, hash=attempt)] + events[2:], KEY) == Break(0, 2)
    # Turning it into an "unkeyed" event after keyed ones is refused too.
    downgraded = replace(forged, format=LEGACY, hash=legacy_hash(forged.prev_hash, fields_of(forged)))
    assert first_broken_link([events[0], downgraded] + events[2:], KEY) == Break(0, 2)


def test_turning_all_of_lane_zero_unkeyed_is_detected():
    keyed = lane(0, 3)
    legacy_again = lane(0, 3, legacy=3)
    assert first_broken_link(legacy_again + lane(1, 2), KEY) == Break(0, None)
    assert first_broken_link(keyed + lane(1, 2), KEY) is None
    assert first_broken_link(lane(1, 2), KEY) == Break(0, None)  # lane 0 removed altogether


def test_a_lane_is_verified_with_its_own_number():
    moved = [replace(event, lane=5) for event in lane(4, 3)]
    assert first_broken_link(lane(0, 1) + moved, KEY) == Break(5, 1)


# Every way a database writer can touch a row, at every place in a lane:
# each is a break that names the row (its lane and seq as it stands now, or
# the seq that went missing).
POSITIONS = {"first": 1, "middle": 3, "last": 5}
CHANGES = {
    "lane": lambda e: replace(e, lane=9),
    "seq": lambda e: replace(e, seq=99),
    "format": lambda e: replace(e, format=LEGACY),
    "at": lambda e: replace(e, at=e.at + dt.timedelta(microseconds=1)),
    "actor_user_id": lambda e: replace(e, actor_user_id=None),
    "action": lambda e: replace(e, action="case.export"),
    "target_type": lambda e: replace(e, target_type="user"),
    "target_id": lambda e: replace(e, target_id="r-other"),
    "detail": lambda e: replace(e, detail='{"forged":true}'),
    "prev_hash": lambda e: replace(e, prev_hash=secrets.token_bytes(32)),
    "hash": lambda e: replace(e, hash=secrets.token_bytes(32)),
}


def in_order(events):
    return sorted(events, key=lambda e: (e.lane, e.seq))


def named(events):
    """(lane, seq) of every break, with every seq of a missing range."""
    found = set()
    for broken in all_breaks(events):
        last = broken.last_missing if broken.last_missing is not None else broken.seq
        found |= {(broken.lane, seq) for seq in range(broken.seq, last + 1)} if broken.seq is not None else set()
    return found


def all_breaks(events):
    return broken_links(in_order(events), KEY)


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("field", CHANGES)
def test_changing_any_field_of_any_row_names_it(field, position):
    events = lane(0, 2) + lane(3, 5) + lane(5, 5)
    index = next(i for i, e in enumerate(events) if (e.lane, e.seq) == (3, POSITIONS[position]))
    changed = CHANGES[field](events[index])
    events[index] = changed
    assert first_broken_link(in_order(events), KEY) is not None
    assert (changed.lane, changed.seq) in named(events)


@pytest.mark.parametrize("position", ["first", "middle"])
def test_removing_a_row_names_the_missing_seq(position):
    events = [e for e in lane(0, 2) + lane(3, 5) if (e.lane, e.seq) != (3, POSITIONS[position])]
    found = all_breaks(events)
    assert [(b.lane, b.seq, b.problem) for b in found] == [(3, POSITIONS[position], MISSING)]


def test_removing_the_last_row_of_a_lane_leaves_its_chain_intact():
    """What the chain alone cannot tell: a signed head covering the event
    does (tests/integration/test_audit_log.py)."""
    assert first_broken_link(lane(0, 2) + lane(3, 4), KEY) is None


@pytest.mark.parametrize("first, second", [((3, 2), (3, 3)), ((3, 1), (3, 5)), ((3, 4), (5, 4)), ((0, 1), (3, 1))])
def test_swapping_two_rows_names_both(first, second):
    """Swapping their seq within a lane, or their lane (same seq: the key
    (lane, seq) allows nothing else)."""
    events = lane(0, 2) + lane(3, 5) + lane(5, 5)
    a = next(e for e in events if (e.lane, e.seq) == first)
    b = next(e for e in events if (e.lane, e.seq) == second)
    swapped = [replace(b, lane=a.lane, seq=a.seq) if e is b else replace(a, lane=b.lane, seq=b.seq) if e is a else e
               for e in events]
    assert {first, second} <= named(swapped)


def test_one_change_is_one_break():
    """After a break the check goes on from the stored hash: the events
    after an edited one are not reported too."""
    events = lane(0, 1) + lane(3, 6)
    events[2] = replace(events[2], detail='{"forged":true}')
    assert [(b.lane, b.seq, b.problem) for b in all_breaks(events)] == [(3, 2, CHANGED)]
