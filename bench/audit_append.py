"""Benchmark: audit log appends under concurrency, 16 lanes against one.

N threads (default 8) each append M events (default 200), every one with
portal.audit.record in a transaction of its own, through sessions of the
portal's own sessionmaker (the MAC key in session.info, as web/db.py sets
it). Each transaction is: record() (pick a lane, lock its tail, insert the
next event in a savepoint), then optionally hold the transaction open for
--hold-ms (what a request does between its audit append and its commit:
rendering the page, other writes), then COMMIT. This runs for

  * lanes: audit.LANES (16) lanes, chosen at random as in production;
  * one lane: portal.audit._lane patched to return 0, so every append queues
    on the same tail row (the design before the lanes);

each with --hold-ms 0 and the given --hold-ms, and prints per run:

  * throughput: events committed per second of wall time, all threads;
  * latency of one transaction, p50 / p95 / p99 (nearest rank) and the
    slowest, from the first statement to the end of COMMIT, retries included;
  * retries: savepoint retries inside record() (another transaction took the
    seq: an INSERT into audit_events that did not stay) and whole
    transactions retried after a lock or serialisation error;
  * gave up: appends where record() ran out of its MAX_ATTEMPTS and raised
    (the request would have failed); the script retries the transaction;
  * tail-lock wait: the time a transaction spends acquiring the lane's tail,
    p50 / p95 / max, and its share of all transaction time. On PostgreSQL that is
    the `SELECT ... FOR UPDATE` of the lane's newest event (it waits for
    whoever holds that row until they commit); on SQLite, which ignores FOR
    UPDATE and has one writer for the whole file, it is the `BEGIN
    IMMEDIATE` record() issues (the database's write lock), so lanes change
    nothing there.

Every run starts from an empty audit_events table with one seed event (lane
0, so that the next events may take any lane), and ends by verifying every
chain (audit.verify) and the count of events.

Database: TEST_DATABASE_URL (a fresh schema, dropped afterwards), else a
SQLite file in a temporary directory; --url overrides both. Prints figures
only; nothing asserts on time.

Run from the repository root:
    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/audit_append.py [--threads 8] [--events 200] [--hold-ms 5]
"""
from __future__ import annotations

import argparse
import math
import os
import sqlite3
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # support.py: test settings (a random pepper)

import machine_facts  # noqa: E402  (bench/, beside this script)
from scratch_schema import scratch_schema  # noqa: E402
from sqlalchemy import create_engine, delete, event, func, select  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402

TRANSACTION_ATTEMPTS = 20


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


class Probe:
    """Per transaction, from the engine's cursor events: time spent taking
    the tail lock, and INSERTs into audit_events (one more than the event
    for each savepoint retry)."""

    def __init__(self, engine):
        self.local = threading.local()
        self.dialect = engine.dialect.name
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        """A new transaction; `begin()` for a whole transaction, which keeps the
        INSERTs of attempts that were rolled back counted as retries."""
        self.local.lock_wait, self.local.inserts = 0.0, 0

    def begin(self) -> None:
        self.reset()
        self.local.earlier_inserts = 0

    def again(self) -> None:
        self.local.earlier_inserts += self.local.inserts
        lock_wait = self.local.lock_wait
        self.reset()
        self.local.lock_wait = lock_wait

    def _is_lock(self, statement: str) -> bool:
        if self.dialect == "sqlite":
            return statement.startswith("BEGIN IMMEDIATE")
        return "FOR UPDATE" in statement and "audit_events" in statement

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if not hasattr(self.local, "lock_wait"):
            self.reset()
        if statement.startswith("INSERT INTO audit_events"):
            self.local.inserts += 1  # counted before: a duplicate seq raises, and no after-event comes
        conn.info["probe_start"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        seconds = time.perf_counter() - conn.info.pop("probe_start", time.perf_counter())
        if self._is_lock(statement):
            self.local.lock_wait += seconds


def engine_for(url: str, threads: int):
    from portal.web.db import make_engine

    if url.startswith("sqlite"):
        return make_engine(url)  # the portal's pragmas (WAL, busy timeout)
    return create_engine(url, pool_pre_ping=True, pool_size=threads + 1, max_overflow=0)


def run(sessionmaker, probe: Probe, threads: int, events: int, hold: float, single_lane: bool) -> dict:
    from portal import audit
    from portal.models import AuditEvent

    with sessionmaker() as session:
        session.execute(delete(AuditEvent))
        audit.record(session, "bench.seed")
        session.commit()
    latencies, waits, retries, restarts, gave_up, failures = [], [], [0], [0], [0], []
    start_line = threading.Barrier(threads + 1)

    def worker(number: int) -> None:
        session = sessionmaker()
        try:
            start_line.wait()
            for n in range(events):
                began = time.perf_counter()
                probe.begin()
                for attempt in range(TRANSACTION_ATTEMPTS):
                    if attempt:
                        probe.again()
                    try:
                        audit.record(session, "case.view", target_type="report", target_id=f"t{number}-{n}",
                                     thread=number, n=n)
                        if hold:
                            time.sleep(hold)
                        session.commit()
                        break
                    except DBAPIError:  # a lock timeout or serialisation failure: the whole transaction again
                        session.rollback()
                        restarts[0] += 1
                    except RuntimeError:  # record() gave up after MAX_ATTEMPTS: a request would fail here
                        session.rollback()
                        gave_up[0] += 1
                else:
                    raise RuntimeError("no commit after retries")
                latencies.append(time.perf_counter() - began)
                waits.append(probe.local.lock_wait)
                retries[0] += probe.local.inserts - 1 + probe.local.earlier_inserts
        except Exception as error:  # reported below, not lost in the thread
            failures.append(error)
        finally:
            session.close()

    patch = mock.patch.object(audit, "_lane", lambda _session: 0) if single_lane else nullcontext()
    with patch:
        workers = [threading.Thread(target=worker, args=(number,)) for number in range(threads)]
        for thread in workers:
            thread.start()
        start_line.wait()
        began = time.perf_counter()
        for thread in workers:
            thread.join()
        wall = time.perf_counter() - began
    if failures:
        raise failures[0]
    with sessionmaker() as session:
        count = session.scalar(select(func.count()).select_from(AuditEvent))
        lanes = session.scalar(select(func.count(func.distinct(AuditEvent.lane))))
        intact = audit.verify(session) is None
    if count != threads * events + 1 or not intact or (lanes == 1) != single_lane:
        raise RuntimeError(f"{count} events in {lanes} lanes, chains {'verify' if intact else 'BROKEN'}")
    return {"wall": wall, "throughput": threads * events / wall, "p50": nearest_rank(latencies, 0.5),
            "p95": nearest_rank(latencies, 0.95), "p99": nearest_rank(latencies, 0.99), "max": max(latencies),
            "retries": retries[0], "restarts": restarts[0],
            "gave_up": gave_up[0],
            "wait_p50": nearest_rank(waits, 0.5), "wait_p95": nearest_rank(waits, 0.95), "wait_max": max(waits),
            "wait_share": sum(waits) / sum(latencies), "lanes": lanes}


def measure(url: str, threads: int, events: int, hold_ms: float, tmp: Path) -> None:
    from sqlalchemy.orm import sessionmaker as make_sessionmaker

    from portal.domain.audit_chain import LANES, audit_key
    from portal.models import Base
    from support import make_settings

    engine = engine_for(url, threads)
    Base.metadata.create_all(engine)
    key = audit_key(make_settings(tmp, url).pepper)
    sessionmaker = make_sessionmaker(engine, expire_on_commit=False, info={"audit_key": key})
    probe = Probe(engine)
    print(f"  {threads} threads x {events} events, each in its own transaction; load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"  {'configuration':<27} {'events/s':>8} {'latency p50/p95/p99/max ms':>28} {'retries':>8} "
          f"{'tail-lock wait p50/p95/max ms':>30} {'share':>6} {'gave up':>7}")
    for hold in sorted({0.0, hold_ms}):
        for single_lane in (False, True):
            name = f"{'1 lane (forced)' if single_lane else f'{LANES} lanes'}, hold {hold:g} ms"
            f = run(sessionmaker, probe, threads, events, hold / 1000, single_lane)
            latency = "/".join(f"{f[q] * 1000:.1f}" for q in ("p50", "p95", "p99", "max"))
            wait = "/".join(f"{f[q] * 1000:.2f}" for q in ("wait_p50", "wait_p95", "wait_max"))
            print(f"  {name:<27} {f['throughput']:8.0f} {latency:>28} {f['retries']:>4}+{f['restarts']:<3} "
                  f"{wait:>30} {f['wait_share']:6.0%} {f['gave_up']:>7}")
            if not single_lane:
                backend = engine.dialect.name.replace("postgresql", "PostgreSQL").replace("sqlite", "SQLite")
                machine_facts.figure(f"{backend}, audit appends by {threads} threads, {name}",
                                     f"{f['throughput']:.0f} events/s, {f['wait_share']:.0%} waiting for a tail")
    print("  retries: savepoint retries in record() + whole transactions retried after a database error;\n"
          "  share: of all transaction time, spent waiting for the tail lock; gave up: record() raised after\n"
          "  its MAX_ATTEMPTS (a request would have failed), retried here. Every run's chains verify.")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--events", type=int, default=200, help="events per thread")
    parser.add_argument("--hold-ms", type=float, default=5.0,
                        help="time a transaction stays open after its append (also run with 0)")
    parser.add_argument("--url", default=os.environ.get("TEST_DATABASE_URL", ""),
                        help="database URL (default TEST_DATABASE_URL, else SQLite in a temporary directory)")
    args = parser.parse_args()
    print(machine_facts.describe(f"SQLite {sqlite3.sqlite_version}"))
    with tempfile.TemporaryDirectory(prefix="tillit-bench-") as tmp:
        if args.url.startswith("postgresql"):
            with scratch_schema(args.url, "audit") as url:
                measure(url, args.threads, args.events, args.hold_ms, Path(tmp))
        else:
            url = args.url or f"sqlite:///{Path(tmp) / 'audit.sqlite3'}"
            print(f"\nSQLite {sqlite3.sqlite_version} ({url})")
            measure(url, args.threads, args.events, args.hold_ms, Path(tmp))


if __name__ == "__main__":
    main()
