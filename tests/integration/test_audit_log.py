"""The audit log against whoever can write to the database: its chains are
keyed with a key outside the database, so an edit, a removal or a reordering
is found by `portal audit verify` even after the unkeyed hashes are
recomputed; the anchor's signed heads catch even whoever holds the pepper."""
import datetime as dt
import json
import os

import pytest
from sqlalchemy import delete, func, select, text, update

from portal import audit
from portal.domain.audit_chain import KEYED, LANES, AuditFields, audit_key, keyed_hash, legacy_hash
from portal.models import AuditEvent
from support import TEST_ANCHOR_PRIVATE


def some_events(db_session, count=12):
    for number in range(count):
        audit.record(db_session, "case.view", actor_user_id=None, target_type="report", target_id=f"r{number}")
    db_session.commit()


def verify(app, *args):
    return app.test_cli_runner().invoke(args=["portal", "audit", "verify", *args])


def fields_of(event):
    return AuditFields(event.lane, event.seq, event.at, event.actor_user_id, event.action, event.target_type,
                       event.target_id, event.detail)


def test_an_untouched_log_verifies(app, db_session):
    some_events(db_session)
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "verifies" in result.output


def test_events_spread_over_lanes_so_they_do_not_queue_on_one_row(db_session):
    for _request in range(80):
        some_events(db_session, 1)
    lanes = set(db_session.scalars(select(AuditEvent.lane)))
    assert len(lanes) >= LANES // 2 and lanes <= set(range(LANES))
    assert audit.verify(db_session) is None


def test_the_events_of_one_transaction_share_one_lane(db_session):
    """A transaction holding two lanes' tails could wait for another holding
    them the other way round (review: a grant approval over many cases and
    a colleague's append deadlocked on PostgreSQL)."""
    some_events(db_session, 1)  # lane 0 is keyed: the lanes are picked at random from here
    per_request = []
    for _request in range(5):
        per_request.append({audit.record(db_session, "case.view", target_type="report", target_id=f"r{n}").lane
                            for n in range(6)})
        db_session.commit()
    assert all(len(lanes) == 1 for lanes in per_request), per_request
    assert len(set().union(*per_request)) > 1  # and each transaction picks its own
    assert audit.verify(db_session) is None


def test_an_event_is_part_of_the_transaction_that_appends_it(db_session):
    """Rolled back with the action it records, also when it is the
    transaction's first write (on SQLite a savepoint begun first would have
    committed it on its own)."""
    audit.record(db_session, "case.view", target_type="report", target_id="r1")
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    audit.record(db_session, "case.view", target_type="report", target_id="r1")
    audit.record(db_session, "case.export", target_type="report", target_id="r1")
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == 2
    assert audit.verify(db_session) is None


def _busiest_lane(db_session):
    counts = {}
    for event in db_session.scalars(select(AuditEvent)):
        counts[event.lane] = counts.get(event.lane, 0) + 1
    return max(counts, key=counts.get)


def test_an_edit_rehashed_without_the_key_is_found(app, db_session):
    some_events(db_session, 40)
    lane = _busiest_lane(db_session)
    events = list(db_session.scalars(select(AuditEvent).where(AuditEvent.lane == lane).order_by(AuditEvent.seq)))
    assert len(events) >= 2
    # The writer changes the first event of the lane and re-links the rest as best they can.
    prev = events[0].prev_hash
    for index, event in enumerate(events):
        if index == 0:
            event.detail = json.dumps({"forged": True})
        event.prev_hash = prev
        event.hash = legacy_hash(prev, fields_of(event))
        prev = event.hash
    db_session.commit()
    result = verify(app)
    assert result.exit_code == 1 and f"lane {lane}" in result.output


@pytest.mark.parametrize("change", ["delete", "reorder"])
def test_a_removed_or_reordered_event_is_found(app, db_session, change):
    some_events(db_session, 40)
    lane = _busiest_lane(db_session)
    events = list(db_session.scalars(select(AuditEvent).where(AuditEvent.lane == lane).order_by(AuditEvent.seq)))
    if change == "delete":
        db_session.delete(events[0])
    else:
        db_session.execute(update(AuditEvent).where(AuditEvent.lane == lane, AuditEvent.seq == 1).values(seq=999))
        db_session.execute(update(AuditEvent).where(AuditEvent.lane == lane, AuditEvent.seq == 2).values(seq=1))
        db_session.execute(update(AuditEvent).where(AuditEvent.lane == lane, AuditEvent.seq == 999).values(seq=2))
    db_session.commit()
    assert verify(app).exit_code == 1


def test_a_signed_head_catches_even_whoever_holds_the_pepper(app, db_session, settings, tmp_path):
    some_events(db_session, 20)
    key_file, kept = tmp_path / "anchor.key", tmp_path / "heads.jsonl"
    key_file.write_text(TEST_ANCHOR_PRIVATE.hex())
    signed = app.test_cli_runner().invoke(args=["portal", "audit", "sign", "--anchor-key-file", str(key_file),
                                                "--record", str(kept)])
    assert signed.exit_code == 0, signed.output
    assert verify(app, "--heads", str(kept)).exit_code == 0
    # An operator with the pepper edits an event and recomputes every keyed link after it.
    key = audit_key(settings.pepper)
    lane = _busiest_lane(db_session)
    events = list(db_session.scalars(select(AuditEvent).where(AuditEvent.lane == lane).order_by(AuditEvent.seq)))
    prev = events[0].prev_hash
    for index, event in enumerate(events):
        if index == 0:
            event.detail = json.dumps({"forged": True})
        event.prev_hash, event.hash = prev, keyed_hash(key, prev, fields_of(event))
        prev = event.hash
    db_session.commit()
    assert audit.verify(db_session) is None  # the chains alone cannot tell
    result = verify(app, "--heads", str(kept))
    assert result.exit_code == 1 and "changed or removed" in result.output
    # Removing the signed head from the database does not help: the kept copy still tells.
    db_session.execute(text("DELETE FROM audit_heads"))
    db_session.commit()
    assert verify(app, "--heads", str(kept)).exit_code == 1


def test_signing_needs_a_pinned_key_and_an_intact_log(app, db_session, tmp_path):
    from crypto import anchor

    some_events(db_session)
    other = tmp_path / "other.key"
    other.write_text(anchor.generate_anchor_key()[0].hex())
    refused = app.test_cli_runner().invoke(args=["portal", "audit", "sign", "--anchor-key-file", str(other)])
    assert refused.exit_code == 1 and "not pinned" in refused.output
    event = db_session.scalars(select(AuditEvent)).first()
    event.action = "forged"
    db_session.commit()
    key_file = tmp_path / "anchor.key"
    key_file.write_text(TEST_ANCHOR_PRIVATE.hex())
    broken = app.test_cli_runner().invoke(args=["portal", "audit", "sign", "--anchor-key-file", str(key_file)])
    assert broken.exit_code == 1 and "nothing signed" in broken.output


def _two_requests_in_different_lanes_do_not_wait_for_each_other(app, database, monkeypatch):
    """On PostgreSQL a lane's tail row is locked until commit; another lane is
    free. (SQLite has one writer at a time whatever the log does, so this is
    collected only where PostgreSQL is configured, and only for it.)"""
    assert database.backend == "postgresql"
    maker = app.extensions["tillit.db"].sessionmaker
    seed = maker()
    audit.record(seed, "seed")  # the first event goes to lane 0
    seed.commit()
    for lane in (3, 5):
        monkeypatch.setattr(audit.secrets, "randbelow", lambda _n, lane=lane: lane)
        audit.record(seed, "seed")
        seed.commit()  # a transaction keeps the lane of its first event
    seed.close()
    first, second = maker(), maker()
    monkeypatch.setattr(audit.secrets, "randbelow", lambda _n: 3)
    audit.record(first, "case.view")  # holds lane 3's tail, not committed
    second.execute(text("SET lock_timeout = '2s'"))
    monkeypatch.setattr(audit.secrets, "randbelow", lambda _n: 5)
    audit.record(second, "case.view")  # another lane: no wait
    second.commit()
    monkeypatch.setattr(audit.secrets, "randbelow", lambda _n: 3)
    with pytest.raises(Exception, match="lock"):  # the same lane does wait (and times out here)
        audit.record(second, "case.view")
    second.rollback()
    first.commit()
    first.close()
    second.close()
    check = maker()
    try:
        assert audit.verify(check) is None
    finally:
        check.close()


if os.environ.get("TEST_DATABASE_URL"):
    @pytest.mark.parametrize("empty_database", ["postgresql"], indirect=True)
    def test_two_requests_in_different_lanes_do_not_wait_for_each_other(app, database, monkeypatch):
        _two_requests_in_different_lanes_do_not_wait_for_each_other(app, database, monkeypatch)


def _an_append_that_waited_for_the_tail_takes_the_next_seq_at_once(app, monkeypatch):
    """Review finding: the waiter's FOR UPDATE returned the row it had asked
    for, no longer the newest once the holder committed, so it took a seq
    already taken and retried (and after five such rounds the request
    failed). One attempt is enough now."""
    import threading
    import time

    maker = app.extensions["tillit.db"].sessionmaker
    seed = maker()
    audit.record(seed, "seed")  # lane 0
    monkeypatch.setattr(audit, "_lane", lambda _session: 3)
    monkeypatch.setattr(audit, "MAX_ATTEMPTS", 1)
    audit.record(seed, "seed")
    seed.commit()
    seed.close()
    first, second, watcher = maker(), maker(), maker()
    waiter = second.execute(text("SELECT pg_backend_pid()")).scalar()  # its connection until it commits
    audit.record(first, "case.view")  # holds lane 3's tail, not committed
    failures = []

    def append():
        try:
            audit.record(second, "case.export")
            second.commit()
        except Exception as error:
            failures.append(error)

    thread = threading.Thread(target=append)
    thread.start()
    waiting = text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted")
    while not watcher.execute(waiting, {"pid": waiter}).scalar() and thread.is_alive():
        watcher.rollback()
        time.sleep(0.01)
    first.commit()
    thread.join()
    for session in (first, second, watcher):
        session.close()
    assert failures == []
    check = maker()
    try:
        assert [e.seq for e in check.scalars(select(AuditEvent).where(AuditEvent.lane == 3)
                                             .order_by(AuditEvent.seq))] == [1, 2, 3]
        assert audit.verify(check) is None
    finally:
        check.close()


if os.environ.get("TEST_DATABASE_URL"):
    @pytest.mark.parametrize("empty_database", ["postgresql"], indirect=True)
    def test_an_append_that_waited_for_the_tail_takes_the_next_seq_at_once(app, database, monkeypatch):
        _an_append_that_waited_for_the_tail_takes_the_next_seq_at_once(app, monkeypatch)


def test_a_log_rewritten_as_if_written_before_it_was_keyed_does_not_verify(app, db_session):
    """The review's attack, without the pepper: every event moved to lane 0 as
    an unkeyed one, re-linked with SHA-256, the signed heads deleted."""
    some_events(db_session, 30)
    events = sorted(db_session.scalars(select(AuditEvent)), key=lambda e: (e.at, e.lane, e.seq))
    rows = [dict(at=e.at, actor_user_id=e.actor_user_id, action=e.action, target_type=e.target_type,
                 target_id=e.target_id, detail=e.detail) for e in events]
    db_session.execute(text("DELETE FROM audit_events"))
    db_session.execute(text("DELETE FROM audit_heads"))
    db_session.expunge_all()
    prev = bytes(32)
    for seq, row in enumerate(rows, start=1):
        fields = AuditFields(0, seq, row["at"], row["actor_user_id"], row["action"], row["target_type"],
                             row["target_id"], row["detail"])
        digest = legacy_hash(prev, fields)
        db_session.add(AuditEvent(lane=0, seq=seq, format=0, prev_hash=prev, hash=digest, **row))
        prev = digest
    db_session.commit()
    result = verify(app)
    assert result.exit_code == 1 and "PORTAL_AUDIT_LEGACY_HEAD" in result.output


@pytest.mark.parametrize("where", ["after the head of a used lane", "in a lane empty at signing"])
def test_events_slipped_in_behind_a_signed_head_are_found(app, db_session, settings, tmp_path, where):
    """Whoever holds the pepper appends correctly keyed events dated before
    the signing, to pass them off as covered by it (review finding). The
    head signs its time and every lane, empty ones too."""
    some_events(db_session, 3)
    key_file, kept = tmp_path / "anchor.key", tmp_path / "heads.jsonl"
    key_file.write_text(TEST_ANCHOR_PRIVATE.hex())
    assert app.test_cli_runner().invoke(args=["portal", "audit", "sign", "--anchor-key-file", str(key_file),
                                               "--record", str(kept)]).exit_code == 0
    used = {lane for lane, in db_session.execute(select(AuditEvent.lane).distinct())}
    lane = min(used) if where.startswith("after") else min(set(range(LANES)) - used)
    tail = db_session.scalars(select(AuditEvent).where(AuditEvent.lane == lane)
                              .order_by(AuditEvent.seq.desc())).first()
    earlier = db_session.scalars(select(AuditEvent).order_by(AuditEvent.at)).first().at
    fields = AuditFields(lane, (tail.seq + 1) if tail else 1, max(earlier, tail.at) if tail else earlier, None,
                         "case.key_granted", "report", "r-forged", "{}")
    prev = tail.hash if tail else audit.GENESIS
    db_session.add(AuditEvent(**fields.__dict__, format=KEYED, prev_hash=prev,
                              hash=keyed_hash(audit_key(settings.pepper), prev, fields)))
    db_session.commit()
    assert audit.verify(db_session) is None  # well keyed: the chains alone cannot tell
    result = verify(app, "--heads", str(kept))
    assert result.exit_code == 1 and "added behind it" in result.output


def test_a_time_stored_in_another_iso_form_does_not_slip_behind_a_head(app, db_session, settings, tmp_path):
    """Review finding: the database compared stored text ("20261202T..."
    sorts after "2026-12-02 ..."), while the MAC covers the parsed time."""
    some_events(db_session, 3)
    key_file, kept = tmp_path / "anchor.key", tmp_path / "heads.jsonl"
    key_file.write_text(TEST_ANCHOR_PRIVATE.hex())
    assert app.test_cli_runner().invoke(args=["portal", "audit", "sign", "--anchor-key-file", str(key_file),
                                               "--record", str(kept)]).exit_code == 0
    lane = db_session.scalars(select(AuditEvent.lane)).first()
    tail = db_session.scalars(select(AuditEvent).where(AuditEvent.lane == lane)
                              .order_by(AuditEvent.seq.desc())).first()
    fields = AuditFields(lane, tail.seq + 1, tail.at, None, "case.key_granted", "report", "r-forged", "{}")
    db_session.add(AuditEvent(**fields.__dict__, format=KEYED, prev_hash=tail.hash,
                              hash=keyed_hash(audit_key(settings.pepper), tail.hash, fields)))
    db_session.commit()
    if db_session.get_bind().dialect.name == "sqlite":  # text there; PostgreSQL keeps a timestamp as such
        db_session.execute(text("UPDATE audit_events SET at = :basic WHERE lane = :lane AND seq = :seq"),
                           {"basic": tail.at.strftime("%Y%m%dT%H%M%S.%f"), "lane": lane, "seq": tail.seq + 1})
        db_session.commit()
    result = verify(app, "--heads", str(kept))
    assert result.exit_code == 1 and "added behind it" in result.output


# Every change a database writer can make to a row, through the command:
# it exits 1 and names the row by lane and seq.
FIELDS = ["lane", "seq", "format", "at", "actor_user_id", "action", "target_type", "target_id", "detail",
          "prev_hash", "hash"]
POSITIONS = {"first": 1, "middle": 3, "last": 5}


def laned_log(db_session, settings, monkeypatch):
    """lane 0: the admin's creation; lanes 3 and 5: five events each, by that admin."""
    from portal.staff.accounts import create_user
    from support import HANDLER_PASSWORD

    admin = create_user(db_session, settings, username="ada", display_name="Ada", password=HANDLER_PASSWORD,
                        roles={"admin"}).user
    db_session.commit()  # a transaction keeps the lane of its first event: one transaction per lane
    for lane in (3, 5):
        monkeypatch.setattr(audit.secrets, "randbelow", lambda _n, lane=lane: lane)
        for number in range(5):
            audit.record(db_session, "case.view", actor_user_id=admin.id, target_type="report",
                         target_id=f"r{lane}{number}", n=number)
        db_session.commit()
    monkeypatch.undo()
    assert [(e.lane, e.seq) for e in db_session.scalars(select(AuditEvent).order_by(AuditEvent.lane,
                                                                                    AuditEvent.seq))] == \
        [(0, 1)] + [(lane, seq) for lane in (3, 5) for seq in range(1, 6)]


def at(lane, seq):
    return (AuditEvent.lane == lane) & (AuditEvent.seq == seq)


def changed_value(event, field):
    return {"lane": 9, "seq": 99, "format": 0, "at": event.at + dt.timedelta(microseconds=1),
            "actor_user_id": None, "action": "case.export", "target_type": "user", "target_id": "r-other",
            "detail": '{"n":99}', "prev_hash": os.urandom(32), "hash": os.urandom(32)}[field]


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("field", FIELDS)
def test_changing_any_field_of_any_row_is_named(app, db_session, settings, monkeypatch, field, position):
    laned_log(db_session, settings, monkeypatch)
    seq = POSITIONS[position]
    event = db_session.get(AuditEvent, (3, seq))
    value = changed_value(event, field)
    db_session.execute(update(AuditEvent).where(at(3, seq)).values({field: value}))
    db_session.commit()
    where = {"lane": (9, seq), "seq": (3, 99)}.get(field, (3, seq))  # where the row is now
    result = verify(app)
    assert result.exit_code == 1
    assert f"lane {where[0]}, event {where[1]}:" in result.output


@pytest.mark.parametrize("position", ["first", "middle"])
def test_removing_a_row_names_it(app, db_session, settings, monkeypatch, position):
    laned_log(db_session, settings, monkeypatch)
    db_session.execute(delete(AuditEvent).where(at(3, POSITIONS[position])))
    db_session.commit()
    result = verify(app)
    assert result.exit_code == 1
    assert f"lane 3, event {POSITIONS[position]}: missing" in result.output


@pytest.mark.parametrize("heads", ["in the database", "kept outside it"])
def test_removing_the_last_row_of_a_lane_is_named_by_a_signed_head(app, db_session, settings, monkeypatch,
                                                                   tmp_path, heads):
    """The chain before it is intact, so only a head that covers the event tells."""
    laned_log(db_session, settings, monkeypatch)
    key_file, kept = tmp_path / "anchor.key", tmp_path / "heads.jsonl"
    key_file.write_text(TEST_ANCHOR_PRIVATE.hex())
    assert app.test_cli_runner().invoke(args=["portal", "audit", "sign", "--anchor-key-file", str(key_file),
                                               "--record", str(kept)]).exit_code == 0
    db_session.execute(delete(AuditEvent).where(at(5, 5)))
    if heads == "kept outside it":
        db_session.execute(text("DELETE FROM audit_heads"))
    db_session.commit()
    result = verify(app, "--heads", str(kept))
    assert result.exit_code == 1
    assert "lane 5, event 5 was removed" in result.output


def test_verify_counts_the_events_no_signed_head_covers(app, db_session, settings, monkeypatch, tmp_path):
    """Removing the newest events of a lane leaves an intact chain (docs/crypto.md,
    12): verify says how many events only a future head will protect."""
    laned_log(db_session, settings, monkeypatch)
    db_session.execute(delete(AuditEvent).where(at(5, 5)))
    db_session.commit()
    unsigned = verify(app)
    assert unsigned.exit_code == 0 and "10 event(s) are newer than the newest signed head" in unsigned.output
    key_file = tmp_path / "anchor.key"
    key_file.write_text(TEST_ANCHOR_PRIVATE.hex())
    assert app.test_cli_runner().invoke(args=["portal", "audit", "sign", "--anchor-key-file",
                                               str(key_file)]).exit_code == 0
    audit.record(db_session, "case.view")
    db_session.commit()
    signed = verify(app)
    assert signed.exit_code == 0 and "1 event(s) are newer than the newest signed head" in signed.output


@pytest.mark.parametrize("first, second", [((3, 2), (3, 3)), ((3, 1), (3, 5)), ((3, 4), (5, 4)),
                                           ((3, 1), (5, 1))])
def test_swapping_two_rows_names_both(app, db_session, settings, monkeypatch, first, second):
    """Their seq within a lane, or their lane (at the same seq: (lane, seq) is the key)."""
    laned_log(db_session, settings, monkeypatch)
    parking = {"lane": 99, "seq": -1}
    db_session.execute(update(AuditEvent).where(at(*first)).values(parking))
    db_session.execute(update(AuditEvent).where(at(*second)).values(lane=first[0], seq=first[1]))
    db_session.execute(update(AuditEvent).where(at(99, -1)).values(lane=second[0], seq=second[1]))
    db_session.commit()
    result = verify(app)
    assert result.exit_code == 1
    for lane, seq in (first, second):
        assert f"lane {lane}, event {seq}:" in result.output
