"""Benchmark: the handler inbox (GET /handler/) over 100 000 cases.

For SQLite (a file in a temporary directory) and PostgreSQL (when reachable:
a fresh schema, dropped afterwards) this

  1. creates the schema with the Alembic migrations (portal/migrate.py, as
     `flask --app wsgi portal init` does in a deployment);
  2. seeds the cases with Core INSERTs in batches: two channels (obstacle
     cases about 85 %, misconduct 15 %), received dates over two years with
     more cases recently, every status (old cases mostly closed, a few left
     overdue), exclusions on about 2 % of cases (half of them excluding the
     bench handler), a ReportKey for the bench handler on about 97 % of the
     cases it may see (random bytes: the inbox decrypts nothing) and one for
     the channel's other handler, and a dialogue on about a quarter of the
     cases with some reporter messages unread. Answers, status events and
     attachments are left out: the inbox does not read them. With
     --purged N, N tombstones of cases purged after their retention as
     well (closed years ago, no keys), which the inbox must leave out;
  3. signs the bench handler, a member of both channels (so nearly every case
     is visible: the largest inbox), in through Flask's test client (test
     Argon2 parameters, TOTP, the real sealed session);
  4. times GET /handler/ wall-clock through the test client (routing,
     session, every query, the template): the first page, the middle page as
     the Next link of the page before leads to it (keyset) and by its number
     alone (OFFSET), and the last page in the default sort, the first page of
     the overdue filter and of the feedback_due sort, and of the track filter.
     Warm-up requests first (enough for psycopg to prepare the repeated
     statements, which it does at the 5th execution, and for PostgreSQL to
     settle on a generic or custom plan, as in a long-running server), then
     p50 and p95 (nearest rank) of the timed ones, and the share of that
     spent in SQL (inside cursor.execute()). Target: p95 < 50 ms, at 100 000
     cases and at 1 000 000 (the middle page by number excepted: OFFSET
     reads every row before it). The 1-minute load average is printed with
     the figures: other work on the machine shows up in the p95.

PostgreSQL: BENCH_DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/test; VACUUM ANALYZE runs on the
seeded tables (what autovacuum does after many INSERTs: statistics, and the
visibility map that index-only scans need). SQLite gets no ANALYZE: the portal
never runs one. With --explain the median time of every statement of the
request is printed, then the plans of its statements on the reports table
(EXPLAIN QUERY PLAN; on PostgreSQL EXPLAIN ANALYZE, which plans with the
parameter values: the timed requests may run a generic plan instead).
Prints figures only; nothing asserts on time.

Run from the repository root:
    .venv/bin/python bench/inbox.py [--cases N] [--runs N] [--explain] [--backend sqlite|postgresql]
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import re
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # support.py: test settings, TOTP enrolment, sign-in

import machine_facts  # noqa: E402  (bench/, beside this script)
from scratch_schema import Unreachable, scratch_schema  # noqa: E402
from sqlalchemy import event, insert, text  # noqa: E402

TARGET_MS = 50  # issue 16: an indexed page read is a few milliseconds
WARM_UP = 8  # > 5: psycopg prepares a statement at its 5th execution
BATCH = 5_000
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCENARIOS = ("first page", "middle page (Next)", "middle page by number", "last page", "overdue, first page",
             "feedback_due sort, first page",
             "misconduct track, first page", "misconduct track, last page")


def machine() -> str:
    return machine_facts.describe(f"SQLite {sqlite3.sqlite_version}")


# --- seeding ---------------------------------------------------------------------------


def _case_dates(rng: random.Random, today: dt.date) -> dict:
    """Status and dates of one case, by its age, as the workflow would leave them."""
    from portal.domain import cases
    from portal.domain.taxonomy import OUTCOMES

    # More cases recently (the portal gets known): age density falls linearly over two years.
    age = int(730 * (1 - math.sqrt(rng.random())))
    received = today - dt.timedelta(days=age)
    row = {"received_on": received, "acknowledge_due": cases.acknowledge_due(received), "status": "new",
           "acknowledged_on": None, "feedback_due": None, "feedback_on": None, "closed_on": None,
           "outcome": None, "hours_saved_per_year": None}
    roll = rng.random()
    if age < 7:
        if roll < 0.6:
            return row
        status = "acknowledged"
    elif age < 100:
        status = ("new" if roll < 0.01 else "acknowledged" if roll < 0.15 else
                  "in_progress" if roll < 0.55 else "closed")
    else:
        status = ("new" if roll < 0.002 else "acknowledged" if roll < 0.01 else
                  "in_progress" if roll < 0.04 else "closed")
    if status == "new":
        return row
    acknowledged = min(today, received + dt.timedelta(days=rng.randint(0, 8)))
    row.update(status=status, acknowledged_on=acknowledged, feedback_due=cases.feedback_due(acknowledged))
    if status == "in_progress" and rng.random() < 0.5:
        row["feedback_on"] = min(today, acknowledged + dt.timedelta(days=rng.randint(5, 80)))
    if status == "closed":
        closed = min(today, acknowledged + dt.timedelta(days=rng.randint(1, 120)))
        row.update(feedback_on=closed, closed_on=closed, outcome=rng.choice(OUTCOMES))
        if rng.random() < 0.3:
            row["hours_saved_per_year"] = rng.randint(1, 500)
    return row


def seed(engine, settings, cases: int, rng: random.Random, today: dt.date, purged: int = 0):
    """Channels, handlers and `cases` cases; returns (bench handler id, TOTP secret, counts)."""
    from sqlalchemy.orm import Session

    from portal.domain import cases as cases_rules
    from portal.domain.case_reference import new_reference
    from portal.staff.accounts import create_user
    from portal.domain.taxonomy import CATEGORIES, CHAIN_LEVELS, MISCONDUCT, OBSTACLE, PRINCIPLES, TIME_LOST_RANGES
    from portal.models import Channel, Exclusion, KeyGrant, Membership, Message, Report, ReportKey, RoutingRule, \
        case_counts
    from portal.domain.audit_chain import audit_key
    from support import HANDLER_PASSWORD, enrol_totp

    # Creating the accounts appends to the audit log, which needs its key.
    with Session(engine, expire_on_commit=False, info={"audit_key": audit_key(settings.pepper)}) as session:
        improvement = Channel(name="Improvement", track=OBSTACLE)
        whistle = Channel(name="Whistleblowing", track=MISCONDUCT)
        session.add_all([improvement, whistle])
        session.flush()
        session.add_all([RoutingRule(track=OBSTACLE, channel_id=improvement.id),
                         RoutingRule(track=MISCONDUCT, channel_id=whistle.id)])
        users = {name: create_user(session, settings, username=name, display_name=name.title(),
                                   password=HANDLER_PASSWORD, roles={"handler"}).user
                 for name in ("bench", "anna", "carin")}
        session.add_all([Membership(channel_id=improvement.id, user_id=users["bench"].id),
                         Membership(channel_id=whistle.id, user_id=users["bench"].id),
                         Membership(channel_id=improvement.id, user_id=users["anna"].id),
                         Membership(channel_id=whistle.id, user_id=users["carin"].id)])
        session.commit()
        secret = enrol_totp(session, settings, users["bench"])
        bench_id = users["bench"].id
        colleague = {improvement.id: users["anna"].id, whistle.id: users["carin"].id}
        channel_of = {OBSTACLE: improvement.id, MISCONDUCT: whistle.id}

    reports, keys, exclusions, messages, grants = [], [], [], [], []
    counts = {"cases": cases, "excluding the bench handler": 0, "bench handler without key": 0,
              "with unread reporter messages": 0, "messages": 0}
    selectors, references = set(), set()

    def flush(connection, final=False):
        for model, rows in ((Report, reports), (ReportKey, keys), (Exclusion, exclusions), (Message, messages),
                            (KeyGrant, grants)):
            if rows and (final or len(rows) >= BATCH or model is Report):
                connection.execute(insert(model.__table__), rows)
                rows.clear()

    with engine.begin() as connection:
        for n in range(cases):
            track = OBSTACLE if rng.random() < 0.85 else MISCONDUCT
            channel_id = channel_of[track]
            dates = _case_dates(rng, today)
            report_id = secrets.token_urlsafe(16)
            selector = secrets.token_hex(5)
            while selector in selectors:
                selector = secrets.token_hex(5)
            selectors.add(selector)
            reference = new_reference()
            while reference in references:  # 8 of 30 characters: about one collision in a million
                reference = new_reference()
            references.add(reference)
            reports.append({
                "id": report_id, "reference": reference, "track": track, "category": rng.choice(CATEGORIES[track]),
                "chain_level": rng.choice(CHAIN_LEVELS) if track == OBSTACLE else None,
                "principle": rng.choice(PRINCIPLES) if track == OBSTACLE and rng.random() < 0.7 else None,
                "unit_id": None, "channel_id": channel_id,
                "time_lost": rng.choice(TIME_LOST_RANGES) if track == OBSTACLE else None,
                "publish_consent": rng.random() < 0.4, "last_reporter_message_on": None,
                "receipt_selector": selector, "receipt_salt": os.urandom(16),
                "reporter_wrapped_key": os.urandom(61), "escrow_wrapped_key": None, "key_version": 1,
                **dates,
            })
            excluded = None
            if rng.random() < 0.02:
                excluded = bench_id if rng.random() < 0.5 else colleague[channel_id]
                exclusions.append({"report_id": report_id, "user_id": excluded})
                counts["excluding the bench handler"] += excluded == bench_id
            if excluded != bench_id:
                if rng.random() < 0.97:
                    keys.append({"report_id": report_id, "user_id": bench_id, "key_version": 1,
                                 "wrapped": os.urandom(81)})
                else:  # waiting for a key, as the portal leaves it: with a grant to approve
                    counts["bench handler without key"] += 1
                    grants.append({"report_id": report_id, "user_id": bench_id,
                                   "requested_at": dt.datetime.combine(dates["received_on"], dt.time())})
            if excluded != colleague[channel_id]:
                keys.append({"report_id": report_id, "user_id": colleague[channel_id], "key_version": 1,
                             "wrapped": os.urandom(81)})
            if rng.random() < 0.25 and dates["status"] != "new":
                day, last_reporter = dates["received_on"], None
                count = rng.randint(1, 6)
                for seq in range(1, count + 1):
                    author = "handler" if seq % 2 else "reporter"
                    day = min(today, day + dt.timedelta(days=rng.randint(0, 20)))
                    unread = author == "reporter" and seq == count and dates["status"] != "closed" \
                        and rng.random() < 0.4
                    counts["with unread reporter messages"] += unread
                    messages.append({"id": secrets.token_urlsafe(16), "report_id": report_id, "seq": seq,
                                     "author": author, "author_user_id": None, "kind": "message",
                                     "body_ct": os.urandom(rng.randint(60, 400)), "sent_on": day,
                                     "read_by_handler": not unread, "read_by_reporter": True})
                    if author == "reporter":
                        last_reporter = day
                reports[-1]["last_reporter_message_on"] = last_reporter
                counts["messages"] += count
            if len(reports) >= BATCH:
                flush(connection)
        # Tombstones of cases purged after their retention (years of use):
        # closed long ago, no keys, out of their channel as the purge leaves
        # them; they must not slow the inbox.
        for n in range(purged):
            track = OBSTACLE if rng.random() < 0.85 else MISCONDUCT
            closed = today - dt.timedelta(days=rng.randint(740, 2200))
            received = closed - dt.timedelta(days=rng.randint(10, 200))
            selector = secrets.token_hex(5)
            while selector in selectors:
                selector = secrets.token_hex(5)
            selectors.add(selector)
            reference = new_reference()
            while reference in references:
                reference = new_reference()
            references.add(reference)
            reports.append({
                "id": secrets.token_urlsafe(16), "reference": reference, "track": track,
                "category": rng.choice(CATEGORIES[track]),
                "chain_level": rng.choice(CHAIN_LEVELS) if track == OBSTACLE else None, "principle": None,
                "unit_id": None, "channel_id": None, "time_lost": None, "publish_consent": False,
                "last_reporter_message_on": None, "receipt_selector": selector, "receipt_salt": b"",
                "reporter_wrapped_key": b"", "escrow_wrapped_key": None, "key_version": 1,
                "received_on": received, "acknowledge_due": cases_rules.acknowledge_due(received),
                "status": "closed", "acknowledged_on": received, "feedback_due": None, "feedback_on": closed,
                "closed_on": closed, "outcome": "explained", "purged_on": closed + dt.timedelta(days=730),
            })
            if len(reports) >= BATCH:
                flush(connection)
        counts["purged, left out"] = purged
        flush(connection, final=True)
        # Rows inserted in bulk pass no flush: count them as the migration does.
        case_counts.recount(connection)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # What autovacuum does to tables after many INSERTs: statistics and
            # the visibility map (index-only scans). Only this schema's tables:
            # a bare VACUUM would visit (and wait for locks on) the whole database.
            for table in ("reports", "report_keys", "exclusions", "messages", "memberships", "channels", "users",
                          "case_counts", "key_grants"):
                connection.execute(text(f"VACUUM ANALYZE {table}"))
    return bench_id, secret, counts


# --- measuring -------------------------------------------------------------------------


class SqlTimer:
    """Seconds spent in the database during a request: the sum over its
    statements of the time inside cursor.execute() (psycopg receives the whole
    result there; SQLite runs the statement up to its first row, which for a
    count or a sorted page is nearly all of the work)."""

    def __init__(self, engine):
        self.total = 0.0
        self.statements: list[tuple[str, object]] = []
        self.capture = False
        self.each: dict[str, list[float]] | None = None  # statement -> seconds, with --explain
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_start"] = time.perf_counter()
        if self.capture and not executemany:
            self.statements.append((statement, parameters))

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        seconds = time.perf_counter() - conn.info.pop("bench_start", time.perf_counter())
        self.total += seconds
        if self.each is not None:
            self.each.setdefault(" ".join(statement.split()), []).append(seconds)


def _next_link(client, path: str) -> str:
    """Where the Next link of the page at `path` leads: what a handler who
    pages through the inbox asks for (a keyset read from the last row)."""
    import html as markup

    page = client.get(path).get_data(as_text=True)
    return markup.unescape(re.search(r'<a href="([^"]+)" rel="next"', page).group(1))


def nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def explain(engine, statements) -> None:
    for statement, parameters in statements:
        if "FROM reports" not in statement:
            continue
        first = " ".join(statement.split())[:110]
        print(f"    -- {first}...")
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            if engine.dialect.name == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                for _id, parent, _unused, detail in cursor.fetchall():
                    print(f"       {parent:>3} {detail}")
            else:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters)
                for (line,) in cursor.fetchall():
                    print(f"       {line}")
            cursor.close()
        finally:
            raw.close()


def measure(url: str, cases: int, runs: int, show_plans: bool, tmp: Path, purged: int = 0) -> dict:
    from portal import create_app
    from portal.cli import migrate
    from portal.models.base import today as portal_today
    from support import FormClient, make_settings, staff_login

    start = time.perf_counter()
    migrate.upgrade(url)
    settings = make_settings(tmp, url)
    app = create_app(settings)
    engine = app.extensions["tillit.db"].engine
    today = portal_today()
    bench_id, secret, counts = seed(engine, settings, cases, random.Random(20261201), today, purged)
    print(f"  schema (Alembic head) and seeding: {time.perf_counter() - start:.1f} s; "
          + ", ".join(f"{v} {k}" for k, v in counts.items()))

    from sqlalchemy.orm import Session

    from portal.models import User
    client = FormClient(app.test_client())
    with Session(engine) as session:
        response = staff_login(client, session, session.get(User, bench_id), secret)
    if response.status_code != 302:
        raise RuntimeError(f"sign-in failed: HTTP {response.status_code}")

    first = client.get("/handler/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    found = re.search(r"Cases, page 1 of (\d+)", first)
    total = re.search(r"<p>(\d+) cases</p>", first)
    if not found or not total:
        raise RuntimeError("inbox page without its page count")
    pages = int(found.group(1))
    overdue = client.get("/handler/?overdue=1", headers={"Accept-Language": "en"}).get_data(as_text=True)
    overdue_total = re.search(r"<p>((?:At least )?[\d,]+) cases?</p>", overdue)  # counted up to a cap
    print(f"  bench handler sees {total.group(1)} cases on {pages} pages "
          f"({overdue_total.group(1) if overdue_total else '?'} overdue); load average {os.getloadavg()[0]:.2f}")

    urls = dict(zip(SCENARIOS, (
        "/handler/", _next_link(client, f"/handler/?page={(pages + 1) // 2 - 1}"), f"/handler/?page={(pages + 1) // 2}",
        f"/handler/?page={pages}",
        "/handler/?overdue=1", "/handler/?sort=feedback_due",
        "/handler/?track=misconduct", "/handler/?track=misconduct&page=1000000",
    )))
    timer = SqlTimer(engine)
    results = {}
    for name, url_path in urls.items():
        for _ in range(WARM_UP):
            client.get(url_path)
        walls, sqls = [], []
        timer.each = {} if show_plans else None
        for _ in range(runs):
            timer.total = 0.0
            began = time.perf_counter()
            response = client.get(url_path)
            body = response.get_data()
            walls.append(time.perf_counter() - began)
            sqls.append(timer.total)
            if response.status_code != 200 or b'class="inbox"' not in body:
                raise RuntimeError(f"{url_path}: HTTP {response.status_code} without the case table")
        p50, p95 = nearest_rank(walls, 0.5) * 1000, nearest_rank(walls, 0.95) * 1000
        results[name] = (p50, p95)
        print(f"  {name:<31} {url_path:<28} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
              f"(SQL p50 {statistics.median(sqls) * 1000:6.1f} ms)  "
              f"{'OK' if p95 < TARGET_MS else 'ABOVE'} the {TARGET_MS} ms target")
        backend = engine.dialect.name.replace("postgresql", "PostgreSQL").replace("sqlite", "SQLite")
        machine_facts.figure(f"{backend}, {cases} cases, inbox {name}: p95", f"{p95:.0f} ms", f"< {TARGET_MS} ms",
                             p95 < TARGET_MS)
        if show_plans:
            for statement, seconds in sorted(timer.each.items(), key=lambda item: -sum(item[1])):
                print(f"    {statistics.median(seconds) * 1000:7.2f} ms  x{len(seconds) // runs}  {statement[:100]}")
            timer.each = None
            timer.capture, timer.statements = True, []
            client.get(url_path)
            timer.capture = False
            explain(engine, timer.statements)
    print(f"  load average {os.getloadavg()[0]:.2f} after the timed requests")
    engine.dispose()
    return results


def run_postgresql(cases: int, runs: int, show_plans: bool, tmp: Path, *, run=None, name: str = "inbox",
                   purged: int = 0) -> None:
    """`run(url)` (default: this benchmark's measure) in a fresh PostgreSQL schema, dropped afterwards."""
    run = run or (lambda url: measure(url, cases, runs, show_plans, tmp, purged))
    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_PG_URL
    try:
        with scratch_schema(url, name) as schema_url:
            run(schema_url)
    except Unreachable as error:
        print(f"\n{error}, skipped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="?", type=int, default=None)
    parser.add_argument("--cases", type=int, default=100_000, dest="cases_option", help="how many cases to seed")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--explain", action="store_true", help="print the query plans of each scenario")
    parser.add_argument("--backend", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--purged", type=int, default=0,
                        help="also seed this many purged cases (tombstones) in the same channels")
    args = parser.parse_args()
    args.cases = args.cases or args.cases_option
    print(machine())
    print(f"{args.cases} cases; per scenario {WARM_UP} warm-up requests, then {args.runs} timed "
          f"(wall-clock through the Flask test client); target p95 < {TARGET_MS} ms")
    with tempfile.TemporaryDirectory(prefix="tillit-bench-") as tmp:
        base = Path(tmp)
        if args.backend != "postgresql":
            print(f"\nSQLite {sqlite3.sqlite_version} (file in a temporary directory)")
            (base / "sqlite").mkdir()
            measure(f"sqlite:///{base / 'sqlite' / 'inbox.sqlite3'}", args.cases, args.runs, args.explain,
                    base / "sqlite", args.purged)
        if args.backend != "sqlite":
            (base / "pg").mkdir()
            run_postgresql(args.cases, args.runs, args.explain, base / "pg", purged=args.purged)


if __name__ == "__main__":
    main()
