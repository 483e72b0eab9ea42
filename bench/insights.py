"""Benchmark: the insights pages (GET /insights, GET /insights/data.json)
over 100 000 cases, cold and warm.

For SQLite (a file in a temporary directory) and PostgreSQL (when reachable:
a fresh schema, dropped afterwards) this

  1. creates the schema with the Alembic migrations;
  2. seeds the cases with Core INSERTs in batches, with the same mix of ages
     and statuses as bench/inbox.py (two years, more cases recently), eight
     units, and each case's timeline as status events (received,
     acknowledged, in progress, closed with its outcome): the tables count
     from those. Nothing is encrypted: the statistics read clear fields only;
  3. times, through the Flask test client (routing, every query, the
     template), *cold* requests: the releases of the last ended quarter
     deleted first, so the request counts and freezes that quarter's tables,
     as the first visitor after a quarter ends does; then *warm* requests,
     read from the frozen releases; and once, a *fresh install*: every
     release deleted, so one request counts all ended quarters (up to 12)
     and years. Targets: warm p95 < 100 ms, cold < 2 s. Prints p50 and p95
     (nearest rank) and the 1-minute load average.

PostgreSQL: BENCH_DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/test; VACUUM ANALYZE runs after
seeding. Prints figures only; nothing asserts on time.

Run from the repository root:
    .venv/bin/python bench/insights.py [cases] [--runs N] [--cold-runs N] [--backend sqlite|postgresql]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import inbox  # noqa: E402  (bench/inbox.py: the date model, percentiles, PostgreSQL schema helpers)
import machine_facts  # noqa: E402
from sqlalchemy import delete, insert, text  # noqa: E402

WARM_TARGET_MS, COLD_TARGET_MS = 100, 2000
WARM_UP = 8
BATCH = 5_000
PAGES = ("/insights", "/insights/data.json")


def seed(engine, cases: int, rng: random.Random, today: dt.date) -> None:
    from sqlalchemy.orm import Session

    from portal.domain.taxonomy import CATEGORIES, CHAIN_LEVELS, MISCONDUCT, OBSTACLE, PRINCIPLES
    from portal.models import Channel, Report, StatusEvent, Unit

    with Session(engine, expire_on_commit=False) as session:
        channels = {OBSTACLE: Channel(name="Improvement", track=OBSTACLE),
                    MISCONDUCT: Channel(name="Whistleblowing", track=MISCONDUCT)}
        units = [Unit(name=f"Unit {n}") for n in range(8)]
        session.add_all([*channels.values(), *units])
        session.commit()
        channel_of = {track: channel.id for track, channel in channels.items()}
        unit_ids = [unit.id for unit in units]

    reports, events = [], []
    with engine.begin() as connection:
        for n in range(cases):
            track = OBSTACLE if rng.random() < 0.85 else MISCONDUCT
            dates = inbox._case_dates(rng, today)
            report_id = secrets.token_urlsafe(16)
            reports.append({
                "id": report_id, "track": track, "category": rng.choice(CATEGORIES[track]),
                "chain_level": rng.choice(CHAIN_LEVELS) if track == OBSTACLE else None,
                "principle": rng.choice(PRINCIPLES) if track == OBSTACLE and rng.random() < 0.7 else None,
                "unit_id": rng.choice(unit_ids) if rng.random() < 0.8 else None, "channel_id": channel_of[track],
                "time_lost": None, "publish_consent": False, "last_reporter_message_on": None,
                "receipt_selector": secrets.token_hex(8), "receipt_salt": os.urandom(16),
                "reporter_wrapped_key": os.urandom(61), "escrow_wrapped_key": None, "key_version": 1, **dates,
            })
            steps = [("new", None, dates["received_on"])]
            if dates["acknowledged_on"]:
                steps.append(("acknowledged", None, dates["acknowledged_on"]))
            if dates["status"] in ("in_progress", "closed"):
                steps.append(("in_progress", None, dates["acknowledged_on"] + dt.timedelta(days=1)))
            if dates["status"] == "closed":
                steps.append(("closed", dates["outcome"], dates["closed_on"]))
            events += [{"id": secrets.token_urlsafe(16), "report_id": report_id, "seq": seq, "status": status,
                        "outcome": outcome, "occurred_on": min(day, today), "actor_user_id": None, "chain_mac": None}
                       for seq, (status, outcome, day) in enumerate(steps, start=1)]
            if len(reports) >= BATCH or n == cases - 1:
                connection.execute(insert(Report.__table__), reports)
                connection.execute(insert(StatusEvent.__table__), events)
                reports.clear()
                events.clear()


def _timed(client, path: str) -> float:
    began = time.perf_counter()
    response = client.get(path)
    response.get_data()
    elapsed = time.perf_counter() - began
    if response.status_code != 200:
        raise RuntimeError(f"{path}: HTTP {response.status_code}")
    return elapsed


def measure(url: str, cases: int, runs: int, cold_runs: int, tmp: Path) -> None:
    from portal import create_app
    from portal.cli import migrate
    from portal.models import StatsRelease
    from portal.models.base import today as portal_today
    from support import make_settings

    start = time.perf_counter()
    migrate.upgrade(url)
    app = create_app(make_settings(tmp, url))
    engine = app.extensions["tillit.db"].engine
    seed(engine, cases, random.Random(20261202), portal_today())
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("reports", "status_events"):
                connection.execute(text(f"VACUUM ANALYZE {table}"))
    print(f"  schema and seeding: {time.perf_counter() - start:.1f} s; load average {os.getloadavg()[0]:.2f}")
    from portal.domain import quarters

    client = app.test_client()
    with engine.begin() as connection:
        connection.execute(delete(StatsRelease.__table__))
    print(f"  fresh install, every quarter and year counted: {_timed(client, PAGES[0]) * 1000:.0f} ms")
    last = quarters.last_ended(portal_today(), 1)[0]
    for path in PAGES:
        colds = []
        for _ in range(cold_runs):
            with engine.begin() as connection:
                connection.execute(delete(StatsRelease.__table__).where(StatsRelease.quarter == last))
            colds.append(_timed(client, path))
        for _ in range(WARM_UP):
            client.get(path)
        warms = [_timed(client, path) for _ in range(runs)]
        cold50, cold95 = inbox.nearest_rank(colds, 0.5) * 1000, inbox.nearest_rank(colds, 0.95) * 1000
        warm50, warm95 = inbox.nearest_rank(warms, 0.5) * 1000, inbox.nearest_rank(warms, 0.95) * 1000
        print(f"  {path:<20} cold p50 {cold50:7.0f} ms  p95 {cold95:7.0f} ms  "
              f"({'OK' if cold95 < COLD_TARGET_MS else 'ABOVE'} the {COLD_TARGET_MS} ms target)   "
              f"warm p50 {warm50:6.1f} ms  p95 {warm95:6.1f} ms  "
              f"({'OK' if warm95 < WARM_TARGET_MS else 'ABOVE'} the {WARM_TARGET_MS} ms target)")
        backend = engine.dialect.name.replace("postgresql", "PostgreSQL").replace("sqlite", "SQLite")
        machine_facts.figure(f"{backend}, {cases} cases, {path}: cold p95", f"{cold95:.0f} ms",
                             f"< {COLD_TARGET_MS} ms", cold95 < COLD_TARGET_MS)
        machine_facts.figure(f"{backend}, {cases} cases, {path}: warm p95", f"{warm95:.1f} ms",
                             f"< {WARM_TARGET_MS} ms", warm95 < WARM_TARGET_MS)
    with engine.connect() as connection:
        frozen = connection.execute(text("SELECT count(*) FROM stats_releases")).scalar()
    print(f"  {frozen} frozen releases; load average {os.getloadavg()[0]:.2f} after the timed requests")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="?", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--backend", choices=("both", "sqlite", "postgresql"), default="both")
    args = parser.parse_args()
    print(machine_facts.describe(f"SQLite {sqlite3.sqlite_version}"))
    print(f"{args.cases} cases; per page {args.cold_runs} cold requests (the last quarter's releases deleted first), "
          f"then {WARM_UP} warm-up and {args.runs} timed warm ones")
    with tempfile.TemporaryDirectory(prefix="tillit-bench-") as tmp:
        base = Path(tmp)
        if args.backend != "postgresql":
            print(f"\nSQLite {sqlite3.sqlite_version} (file in a temporary directory)")
            (base / "sqlite").mkdir()
            measure(f"sqlite:///{base / 'sqlite' / 'insights.sqlite3'}", args.cases, args.runs, args.cold_runs,
                    base / "sqlite")
        if args.backend != "sqlite":
            (base / "pg").mkdir()
            inbox.run_postgresql(args.cases, args.runs, False, base / "pg", name="insights",
                                 run=lambda url: measure(url, args.cases, args.runs, args.cold_runs, base / "pg"))

if __name__ == "__main__":
    main()
