"""Load test: locust against gunicorn on PostgreSQL with Redis-backed rate
limits, for 1, 2 and 4 workers, with throughput against the Argon2id limit.

The portal runs as a deployment runs it (`gunicorn wsgi:app` with
gunicorn.conf.py: 1 worker of 8 threads, or N workers of 4 threads), in the
development environment with the production Argon2id parameters, a fresh
PostgreSQL schema (BENCH_DATABASE_URL, default the machine's `test`
database) migrated with Alembic, and a Redis database of its own
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/14, emptied first). Rate
limits are raised through PORTAL_RATE_LIMIT_FACTOR: every request comes
from this machine's one address.

Seeding: an improvement channel with four handlers (each report's key is
wrapped for the four), and --pool accounts that only sign in (TOTP
enrolled: a code is accepted once, so each signs in at most once per
30-second step). For each worker count the phases run one after another,
each a locust run of its own (bench/load_users.py) with --users concurrent
users sending as fast as they are answered:

  submit       reporters sending a report and taking the receipt
  submit+photo the same with a 1 MiB JPEG, which the portal cleans
  follow-up    reporters opening their report with the receipt (every receipt
               of the round, each once, checked to open the report holding
               its own mark), a quarter of them writing to the handler
  sign-in      handlers signing in (password, TOTP)
  handlers     four signed-in handlers reading the inbox and cases, replying

Printed per phase and request type: count, failures, throughput, p50 / p95 /
p99 (locust's, in ms), and the CPU the portal's processes spent per journey
(the main request with the pages it needs). The Argon2id time is measured
in this run at the same parameters; submissions, receipt checks and sign-ins
per second are then set against cores / Argon2id (target >= 80 %). Locust
runs on the same 2 cores, so its own CPU is printed too. Prints figures;
nothing asserts on time.

Run from the repository root (needs `pip install -e '.[bench]'`):
    .venv/bin/python bench/load.py [--workers 1,2,4] [--seconds 20] [--users 8] [--pool 120]
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import machine_facts  # noqa: E402  (bench/, beside this script)
from scratch_schema import Unreachable, scratch_schema  # noqa: E402

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
PASSWORD = "a long load-test passphrase"
TARGET_RATIO = 0.80
READERS = 4
PHASES = (("submit", "Submitter"), ("submit+photo", "PhotoSubmitter"), ("follow-up", "FollowUp"),
          ("sign-in", "SignIn"), ("handlers", "Handler"))
# The request each phase is about (the CPU per journey is per one of them).
MAIN_REQUEST = {"submit": "POST /report/obstacle", "submit+photo": "POST /report/obstacle (1 MiB photo)",
                "follow-up": "POST /follow-up (receipt check)", "sign-in": "POST /handler/login (sign-in)",
                "handlers": None}
# Those set against the Argon2id limit: one Argon2id each, nothing else heavy.
ARGON2_REQUESTS = {phase: MAIN_REQUEST[phase] for phase in ("submit", "follow-up", "sign-in")}
# Run by one user first, for what a journey costs with nothing beside it.
# (Not the follow-up: its users share the round's receipts, each opened once.)
ALONE = ("submit", "sign-in")
ALONE_SECONDS = 8


@dataclass
class Row:
    name: str
    count: int
    failures: int
    per_second: float
    p50: float
    p95: float
    p99: float


@dataclass
class Phase:
    name: str
    workers: int
    rows: list[Row] = field(default_factory=list)
    server_cpu: float = 0.0
    locust_cpu: float = 0.0
    seconds: float = 0.0
    receipts: int = 0  # follow-up: the receipts waiting, one per report sent in the round
    argon2: float = 0.0  # one Argon2id: the mean of its times just before and after the phase, machine idle
    argon2_spread: tuple[float, float] = (0.0, 0.0)  # those two times
    argon2_parallel: float = 0.0  # Argon2id per second, one thread per core, measured before and after too
    users: int = 0
    alone_cpu: float = 0.0  # portal CPU of one journey run by one user, just before (ALONE)
    exceptions: int = 0  # errors in the users' own code (a page without what it should hold)
    failures: list[str] = field(default_factory=list)

    @property
    def limit(self) -> float:
        return (os.cpu_count() or 1) / self.argon2

    def row(self, name: str) -> Row | None:
        return next((r for r in self.rows if r.name == name), None)

    def cpu_per_journey(self) -> float | None:
        main = MAIN_REQUEST[self.name]
        row = self.row(main) if main else None
        return self.server_cpu / row.count if row and row.count else None


# --- seeding -------------------------------------------------------------------------


def _settings(folder: Path, url: str, redis_url: str, keys: dict):
    from crypto.kdf import Argon2Params
    from support import make_settings

    return make_settings(folder, url, argon2=Argon2Params.PRODUCTION, redis_url=redis_url,
                         secret_key=keys["secret_key"], pepper=bytes.fromhex(keys["pepper"]))


def _make_accounts(args) -> list[dict]:
    """Accounts that only sign in: in a process of its own (Argon2id-bound)."""
    folder, url, redis_url, keys, names = args
    from portal import create_app
    from portal.staff.accounts import create_user
    from support import enrol_totp

    settings = _settings(folder, url, redis_url, keys)
    app = create_app(settings)
    session = app.extensions["tillit.db"].sessionmaker()
    made = []
    for name in names:
        user = create_user(session, settings, username=name, display_name=name.title(), password=PASSWORD,
                           roles={"handler"}).user
        session.commit()
        made.append({"username": name, "secret": enrol_totp(session, settings, user, PASSWORD).hex()})
    session.close()
    app.extensions["tillit.db"].engine.dispose()
    return made


def seed(folder: Path, url: str, redis_url: str, keys: dict, pool: int) -> dict:
    from portal import create_app
    from portal.models import Channel, Membership, RoutingRule
    from portal.staff.accounts import create_user
    from support import anchor_user, enrol_totp, make_own_keys

    names = [f"signin{n:03d}" for n in range(pool)]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as workers:
        slices = [names[n::os.cpu_count() or 2] for n in range(os.cpu_count() or 2)]
        pool_accounts = [a for made in workers.map(_make_accounts, [(folder, url, redis_url, keys, s)
                                                                    for s in slices]) for a in made]
    settings = _settings(folder, url, redis_url, keys)
    app = create_app(settings)
    session = app.extensions["tillit.db"].sessionmaker()
    improvement = Channel(name="Improvement", track="obstacle")
    whistle = Channel(name="Whistleblowing", track="misconduct")
    session.add_all([improvement, whistle])
    session.flush()
    session.add_all([RoutingRule(track="obstacle", channel_id=improvement.id),
                     RoutingRule(track="misconduct", channel_id=whistle.id)])
    readers = []
    for n in range(READERS):
        user = create_user(session, settings, username=f"reader{n}", display_name=f"Reader {n}", password=PASSWORD,
                           roles={"handler"}).user
        session.add(Membership(channel_id=(improvement if n < READERS - 1 else whistle).id, user_id=user.id))
        session.flush()
        make_own_keys(session, settings, user, PASSWORD)
        anchor_user(session, settings, user)
        readers.append(user)
    session.commit()
    # Three handle the improvement channel; the fourth the whistleblowing one (an empty inbox).
    accounts = {"password": PASSWORD, "pool": pool_accounts,
                "readers": [{"username": u.username, "secret": enrol_totp(session, settings, u, PASSWORD).hex()}
                            for u in readers[:READERS - 1]]}
    session.close()
    app.extensions["tillit.db"].engine.dispose()
    return accounts


def photo(path: Path) -> None:
    """A JPEG of about 1 MiB with EXIF, as a phone takes it."""
    from PIL import Image

    side = 1400
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).resize((side, side))
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make: the cleaning removes it
    image.save(buffer, "JPEG", quality=60, exif=exif)
    path.write_bytes(buffer.getvalue())


def argon2id_seconds(pepper: bytes, runs: int = 7) -> float:
    from crypto.kdf import Argon2Params, argon2id

    times = []
    for _ in range(runs):
        start = time.perf_counter()
        argon2id(b"a receipt secret", os.urandom(16), pepper, Argon2Params.PRODUCTION)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def argon2id_parallel(pepper: bytes, each: int = 8) -> float:
    """Argon2id per second with one thread per core and nothing else running:
    what the memory bandwidth lets through (64 MiB per call)."""
    import threading

    from crypto.kdf import Argon2Params, argon2id

    def loop():
        for _ in range(each):
            argon2id(b"a receipt secret", os.urandom(16), pepper, Argon2Params.PRODUCTION)

    threads = [threading.Thread(target=loop) for _ in range(os.cpu_count() or 1)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(threads) * each / (time.perf_counter() - start)


# --- the portal and locust -------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Portal:
    """gunicorn with `workers` workers, as deployed."""

    def __init__(self, folder: Path, url: str, redis_url: str, keys: dict, workers: int):
        from support import TEST_ANCHOR_PUBLIC

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PORTAL_ENV": "development", "PORTAL_DATABASE_URL": url, "PORTAL_REDIS_URL": redis_url,
               "PORTAL_SECRET_KEY": keys["secret_key"], "PORTAL_PEPPER": keys["pepper"],
               "PORTAL_ANCHOR_PUBLIC_KEYS": TEST_ANCHOR_PUBLIC.hex(), "PORTAL_INSTANCE_PATH": str(folder / "instance"),
               "PORTAL_RATE_LIMIT_FACTOR": "1000", "PORTAL_WORKERS": str(workers),
               "PORTAL_BIND": f"127.0.0.1:{self.port}"}
        for name in ("PORTAL_THREADS", "PORTAL_ARGON2_MEMORY_KIB", "PORTAL_ARGON2_ITERATIONS"):
            env.pop(name, None)
        self.log = (folder / f"gunicorn-{workers}.log").open("wb")
        self.process = subprocess.Popen([sys.executable, "-m", "gunicorn", "wsgi:app"], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        import requests

        for _ in range(600):
            try:
                if requests.get(self.url + "/healthz", timeout=10).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or no worker ready
                time.sleep(0.05)
        raise SystemExit(f"gunicorn did not start; see {self.log.name}")

    def cpu_seconds(self) -> float:
        import psutil

        master = psutil.Process(self.process.pid)
        total = 0.0
        for process in [master, *master.children(recursive=True)]:
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)
        self.log.close()


def run_phase(portal: Portal, workers: int, name: str, user_class: str, users: int, seconds: int,
              data: Path, profile: bool = False) -> Phase:
    prefix = data / f"{name}-{workers}"
    command = [sys.executable, str(ROOT / "bench" / "load_users.py"), user_class, str(users), str(seconds),
               portal.url, str(prefix) + ".json"]
    env = {**os.environ, "LOAD_DATA": str(data), "PYTHONPATH": str(ROOT)}
    before_cpu, before_children = portal.cpu_seconds(), resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    spy = None
    if profile:
        spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--pid",
                                str(portal.process.pid), "--subprocesses", "--gil", "--format", "raw", "--nonblocking",
                                "--rate", "200", "--duration", str(seconds), "--output", str(prefix) + ".stacks"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    phase = Phase(name, workers, seconds=time.perf_counter() - start, users=users)
    phase.server_cpu = portal.cpu_seconds() - before_cpu
    if spy is not None:
        spy.wait(timeout=seconds + 60)
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    phase.locust_cpu = (after_children.ru_utime + after_children.ru_stime
                        - before_children.ru_utime - before_children.ru_stime)
    (data / f"{name}-{workers}.locust.log").write_text(finished.stdout + finished.stderr)
    results = Path(str(prefix) + ".json")
    if finished.returncode or not results.exists():
        raise SystemExit(f"locust failed ({finished.returncode}):\n{finished.stderr[-3000:]}")
    found = json.loads(results.read_text())
    phase.rows = [Row(r["name"], r["count"], r["failures"], r["per_second"], r["p50"], r["p95"], r["p99"])
                  for r in sorted(found["requests"], key=lambda r: r["name"])]
    phase.failures = found["failures"] + [f"exception: {e}" for e in found["exceptions"]]
    phase.exceptions = found["exception_count"]
    if profile:
        print_profile(Path(str(prefix) + ".stacks"))
    return phase


def print_profile(stacks: Path, top: int = 30) -> None:
    """The functions the portal's processes were in (inclusive), from
    py-spy's samples of the threads holding the GIL: the Python work, which
    runs one thread at a time per worker (Argon2id releases the GIL, so it
    shows only as the Python around it)."""
    inclusive: dict[str, int] = {}
    total = 0
    for line in stacks.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        names = [f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].rsplit("/", 1)[-1]
                 for f in frames.split(";")]
        if any(n.startswith(("wait (", "select (", "accept (", "sleep (", "_wait_for_tstate_lock", "run_for_one"))
               for n in names[-2:]) or any("wait (threading" in n for n in names):
            continue
        total += int(count)
        for name in set(names):
            inclusive[name] = inclusive.get(name, 0) + int(count)
    print(f"    profile: {total} samples holding the GIL; functions by share of them (inclusive)")
    for name, count in sorted(inclusive.items(), key=lambda item: -item[1])[:top]:
        print(f"      {100 * count / max(1, total):5.1f} %  {name}")


# --- report ------------------------------------------------------------------------------


def print_phase(phase: Phase) -> None:
    print(f"\n  {phase.name} ({phase.workers} worker{'s' if phase.workers > 1 else ''}, {phase.users} user"
          f"{'s' if phase.users > 1 else ''}, {phase.seconds:.0f} s; "
          f"portal CPU {phase.server_cpu:.1f} s, locust CPU {phase.locust_cpu:.1f} s)")
    print(f"    {'request':<40} {'count':>6} {'fail':>5} {'per s':>7} {'p50':>6} {'p95':>6} {'p99':>6}")
    for row in phase.rows:
        print(f"    {row.name:<40} {row.count:>6} {row.failures:>5} {row.per_second:>7.2f} {row.p50:>6.0f} "
              f"{row.p95:>6.0f} {row.p99:>6.0f}")
    main = MAIN_REQUEST[phase.name]
    counted = phase.row(main).count if main and phase.row(main) else sum(r.count for r in phase.rows)
    if counted:
        print(f"    portal CPU per {'journey' if main else 'request'}: {1000 * phase.server_cpu / counted:.0f} ms")
    for failure in phase.failures:
        print(f"    FAILURE {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--pool", type=int, default=120)
    parser.add_argument("--profile", default="", help="phases to profile with py-spy, comma-separated")
    args = parser.parse_args()
    import redis

    from portal.cli import migrate

    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    try:
        redis.Redis.from_url(redis_url).flushdb()
    except redis.RedisError as error:
        raise SystemExit(f"Redis at {redis_url}: not reachable ({error})") from None
    keys = {"secret_key": secrets.token_hex(32), "pepper": secrets.token_hex(32)}
    pepper = bytes.fromhex(keys["pepper"])
    print(machine_facts.describe())
    try:
        with scratch_schema(os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL), "load") as url, \
                tempfile.TemporaryDirectory(prefix="tillit-load-") as tmp:
            folder = Path(tmp)
            data = folder / "data"
            data.mkdir()
            migrate.upgrade(url)
            started = time.perf_counter()
            (data / "accounts.json").write_text(json.dumps(seed(folder, url, redis_url, keys, args.pool)))
            photo(data / "photo.jpg")
            print(f"seeded {args.pool} sign-in accounts and {READERS} handlers in "
                  f"{time.perf_counter() - started:.0f} s; photo {(data / 'photo.jpg').stat().st_size} bytes")
            print(f"Argon2id (production parameters) timed before each phase: limit = {os.cpu_count()} cores "
                  f"/ its time; {argon2id_parallel(pepper):.2f} per second when "
                  f"{os.cpu_count()} threads run nothing else")
            phases = []
            for workers in [int(w) for w in args.workers.split(",")]:
                portal = Portal(folder, url, redis_url, keys, workers)
                try:
                    print(f"\n{workers} worker{'s' if workers > 1 else ''} "
                          f"({'8' if workers == 1 else '4'} threads each), {args.users} users")
                    phases += run_round(portal, workers, args, data, pepper)
                finally:
                    portal.stop()
            summarise(phases)
    except Unreachable as error:
        raise SystemExit(str(error)) from None


def run_round(portal: Portal, workers: int, args, data: Path, pepper: bytes) -> list[Phase]:
    """Every phase once against one portal. Argon2id is timed on the idle
    machine before and after each (a shared host's speed drifts within
    minutes); the phases in ALONE are run by one user first."""
    phases = []
    for name, user_class in PHASES:
        alone = None
        if name in ALONE:
            alone = run_phase(portal, workers, name, user_class, 1, ALONE_SECONDS, data)
            phases.append(alone)  # its failures count with the others'
            print_phase(alone)
        users = READERS - 1 if name == "handlers" else args.users
        seconds = {"sign-in": max(5, args.seconds // 2), "follow-up": 6 * args.seconds}.get(name, args.seconds)
        before, parallel_before = argon2id_seconds(pepper), argon2id_parallel(pepper, each=3)
        receipts = data / "receipts.txt"
        waiting = len(receipts.read_text().splitlines()) if receipts.exists() else 0
        phase = run_phase(portal, workers, name, user_class, users, seconds, data,
                          profile=name in args.profile.split(","))
        after, parallel_after = argon2id_seconds(pepper), argon2id_parallel(pepper, each=3)
        phase.argon2, phase.argon2_spread = (before + after) / 2, (before, after)
        phase.argon2_parallel, phase.receipts = (parallel_before + parallel_after) / 2, waiting
        phase.alone_cpu = (alone.cpu_per_journey() or 0.0) if alone else 0.0
        phases.append(phase)
        print_phase(phase)
    return phases


def summarise(phases: list[Phase]) -> None:
    errors = sum(r.failures for p in phases for r in p.rows) + sum(p.exceptions for p in phases)
    follow_ups = [p for p in phases if p.name == "follow-up"]
    opened = sum(p.row(ARGON2_REQUESTS["follow-up"]).count - p.row(ARGON2_REQUESTS["follow-up"]).failures
                 for p in follow_ups if p.row(ARGON2_REQUESTS["follow-up"]))
    checked = sum(p.row("GET /follow-up/case").count - p.row("GET /follow-up/case").failures
                  for p in follow_ups if p.row("GET /follow-up/case"))
    sent = sum(p.receipts for p in follow_ups)
    print(f"\nerrors: {errors} (target 0); of {sent} reports sent, {opened} receipts opened a report and "
          f"{checked} showed the report holding their own mark")
    machine_facts.figure("load test: failed requests", str(errors), "0", errors == 0)
    machine_facts.figure("load test: receipts that opened the report holding their own mark",
                         f"{checked} of {sent}", "all", checked == sent)
    print(f"throughput against the Argon2id limit, cores / Argon2id (target >= {TARGET_RATIO:.0%}):")
    phases = [p for p in phases if p.users > 1]  # the one-user runs went into alone_cpu
    for phase in phases:
        request = ARGON2_REQUESTS.get(phase.name)
        row = phase.row(request) if request else None
        if row:
            ratio, machine = row.per_second / phase.limit, row.per_second / phase.argon2_parallel
            print(f"  {phase.name:<10} {phase.workers} worker(s): {row.per_second:.2f}/s of "
                  f"{phase.limit:.2f}/s (Argon2id {1000 * phase.argon2:.0f} ms) = {ratio:.0%}; of the "
                  f"{phase.argon2_parallel:.2f}/s that {os.cpu_count()} threads doing only Argon2id reach: "
                  f"{machine:.0%}")
            machine_facts.figure(f"load test, {phase.workers} worker(s): {request} per second / "
                                 f"(cores / Argon2id)", f"{ratio:.0%} ({row.per_second:.2f} of {phase.limit:.2f})",
                                 f">= {TARGET_RATIO:.0%}", ratio >= TARGET_RATIO)
            machine_facts.figure(f"load test, {phase.workers} worker(s): {request} per second / "
                                 f"Argon2id per second on all cores at once",
                                 f"{machine:.0%} ({row.per_second:.2f} of {phase.argon2_parallel:.2f})")
            if phase.alone_cpu:
                # cores / Argon2id ratio = (throughput / (cores / journey CPU alone)) x (Argon2id / journey CPU alone):
                # what running many at once costs, times the share of a journey that is its Argon2id.
                cores = os.cpu_count() or 1
                reached, share = row.per_second * phase.alone_cpu / cores, phase.argon2 / phase.alone_cpu
                print(f"    one user alone: {1000 * phase.alone_cpu:.0f} ms of portal CPU per journey, of which "
                      f"Argon2id {1000 * phase.argon2:.0f} ms ({share:.0%}); under load "
                      f"{row.per_second:.2f}/s = {reached:.0%} of the {cores / phase.alone_cpu:.2f}/s the cores "
                      f"allow for journeys costing that (Argon2id timed {1000 * phase.argon2_spread[0]:.0f} ms "
                      f"before, {1000 * phase.argon2_spread[1]:.0f} ms after)")
                machine_facts.figure(f"load test, {phase.workers} worker(s): {request}: Argon2id's share of "
                                     f"one journey's portal CPU, one user alone", f"{share:.0%}")
                machine_facts.figure(f"load test, {phase.workers} worker(s): {request} per second / (cores / "
                                     f"one journey's portal CPU alone)", f"{reached:.0%}")
    for phase in phases:
        for row in phase.rows:
            if row.name == MAIN_REQUEST[phase.name] or phase.name == "handlers" and "login" not in row.name:
                machine_facts.figure(f"load test, {phase.workers} worker(s): {row.name}",
                                     f"{row.per_second:.1f}/s, p50 {row.p50:.0f} ms, p95 {row.p95:.0f} ms, "
                                     f"p99 {row.p99:.0f} ms")


if __name__ == "__main__":
    main()
