"""Benchmark: one large upload through the real request and storage path.

Starts the portal (create_app, SQLite in a temporary directory) in a child
process serving on 127.0.0.1 with Werkzeug, plus a bench-only route that
stores each uploaded file with attachments.store.store_attachment, exactly as
a view would: Werkzeug's multipart parser -> EncryptedSpool (ephemeral key,
ciphertext beyond 1 MiB in a temporary file) -> STREAM chunks under the
report key -> batched INSERTs into SQLite. The client streams a multipart
body generated on the fly with http.client (Content-Length, no temp file).

Prints upload throughput and the server's peak RSS growth over its baseline
(VmHWM after minus VmRSS before, with the high-water mark reset through
/proc/<pid>/clear_refs; target: < 64 MiB for any size), then reads the file
back through iter_attachment and compares SHA-256 digests.

Files up to cleaning.CLEANABLE_MAX_BYTES (64 MiB) are read into memory
to remove metadata, so the flat-memory target applies to larger files; a
smaller size shows that path's cost.

Run from the repository root:
    .venv/bin/python bench/upload.py [size_mib ...]     (default 200)
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine_facts import figure  # bench/, beside this script

BENCH_PASSWORD = "a long benchmark passphrase"
ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
HOST = "127.0.0.1"  # the bench never talks to anything else
PIECE = MIB
TIMEOUT = 600


# --- server (child process) -------------------------------------------------------


def serve() -> None:
    sys.path.insert(0, str(ROOT))
    from flask import jsonify, request
    from werkzeug.serving import make_server

    from portal import create_app
    from portal.attachments import store as attachment_store
    from portal.reports import submission
    from portal.reports.access import open_with_receipt
    from portal.web import db
    from portal.web.forms import csrf
    from portal.cli.demo import ready_handlers
    from portal.staff.accounts import create_user
    from portal.domain.taxonomy import OBSTACLE
    from portal.models import Attachment, Base, Channel, Membership, Report, RoutingRule

    app = create_app()
    settings = app.config["TILLIT"]
    Base.metadata.create_all(db.Database(settings.database_url).engine)
    with app.app_context():
        session = db.session()
        channel = Channel(name="Bench", track=OBSTACLE)
        session.add(channel)
        session.flush()
        handler = create_user(session, settings, username="handler", display_name="Bench handler",
                              password=BENCH_PASSWORD, roles={"handler"}).user
        session.add_all([Membership(channel_id=channel.id, user_id=handler.id),
                         RoutingRule(track=OBSTACLE, channel_id=channel.id)])
        session.flush()
        # A key of its own, signed by the development anchor: a channel nobody trusted takes no report.
        assert ready_handlers(session, settings, [handler], BENCH_PASSWORD)
        receipt = submission.submit(session, settings, submission.NewReport(
            track=OBSTACLE, category="reporting_burden", answers={"today": "bench"})).receipt
        session.commit()
        case = open_with_receipt(session, settings, receipt)
        report, dek = case.report, case.dek
        report_id = report.id

    @app.post("/_bench/upload")
    def bench_upload():
        session = db.session()
        report = session.get(Report, report_id)
        start = time.perf_counter()
        uploads = request.files.getlist("file")  # parses the body into EncryptedSpools
        parsed = time.perf_counter()
        stored = [attachment_store.store_attachment(session, report, dek, upload,
                                                    allowed_types=settings.allowed_upload_types)
                  for upload in uploads]
        session.commit()
        return jsonify(parse_seconds=parsed - start, store_seconds=time.perf_counter() - parsed,
                       files=[{"id": s.id, "size": s.size, "warning": s.warning} for s in stored])

    @app.post("/_bench/read/<attachment_id>")
    def bench_read(attachment_id):
        session = db.session()
        report = session.get(Report, report_id)
        attachment = session.get(Attachment, attachment_id)
        digest, size, start = hashlib.sha256(), 0, time.perf_counter()
        for piece in attachment_store.iter_attachment(session, report, dek, attachment):
            digest.update(piece)
            size += len(piece)
        return jsonify(sha256=digest.hexdigest(), size=size, seconds=time.perf_counter() - start,
                       chunks=attachment.chunk_count)

    csrf.exempt(bench_upload)
    csrf.exempt(bench_read)
    server = make_server(HOST, 0, app, threaded=False)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


# --- client (parent process) -------------------------------------------------------


def status_kib(pid: int) -> dict[str, int]:
    with open(f"/proc/{pid}/status") as f:
        return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in f) if k in ("VmRSS", "VmHWM")}


def reset_peak(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def multipart(size: int, block: bytes, boundary: str):
    """(length, pieces) of a multipart body with one file of `size` bytes."""
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def pieces():
        yield head
        sent = 0
        while sent < size:
            n = min(PIECE, size - sent)
            yield block[:n]
            sent += n
        yield tail

    return len(head) + size + len(tail), pieces()


def expected_sha256(size: int, block: bytes) -> str:
    digest, sent = hashlib.sha256(), 0
    while sent < size:
        n = min(PIECE, size - sent)
        digest.update(block[:n])
        sent += n
    return digest.hexdigest()


def post(port: int, path: str, length: int = 0, pieces=(), content_type: str = "") -> dict:
    conn = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    try:
        conn.putrequest("POST", path)
        if content_type:
            conn.putheader("Content-Type", content_type)
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        for piece in pieces:
            conn.send(piece)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}: {body[:500]!r}")
        return json.loads(body)
    finally:
        conn.close()


def upload(port: int, size: int, block: bytes) -> tuple[dict, float]:
    boundary = secrets.token_hex(16)
    length, pieces = multipart(size, block, boundary)
    start = time.perf_counter()
    result = post(port, "/_bench/upload", length, pieces, f"multipart/form-data; boundary={boundary}")
    return result, time.perf_counter() - start


def run(port: int, pid: int, size_mib: int, block: bytes, base: Path) -> None:
    size = size_mib * MIB
    digest = expected_sha256(size, block)
    before = status_kib(pid)["VmRSS"]
    exact = reset_peak(pid)
    result, seconds = upload(port, size, block)
    after = status_kib(pid)
    [stored] = result["files"]
    assert stored["size"] == size, stored
    growth = (after["VmHWM"] - before) / 1024
    print(f"upload {size_mib} MiB: {size_mib / seconds:7.1f} MiB/s end to end ({seconds:.2f} s; "
          f"of which parsing into the spool {result['parse_seconds']:.2f} s, store_attachment "
          f"{result['store_seconds']:.2f} s), warning={stored['warning']}")
    print(f"  server RSS before {before / 1024:.1f} MiB, peak {after['VmHWM'] / 1024:.1f} MiB: "
          f"peak growth {growth:.1f} MiB{'' if exact else ' (HWM not resettable: upper bound)'}"
          f" -> {'OK' if growth < 64 else 'ABOVE'} the 64 MiB target")
    figure(f"upload of {size_mib} MiB: throughput end to end", f"{size_mib / seconds:.0f} MiB/s")
    figure(f"upload of {size_mib} MiB: server peak memory growth", f"{growth:.1f} MiB", "< 64 MiB", growth < 64)
    database = base / "instance" / "tillit.sqlite3"
    db_bytes = sum(p.stat().st_size for p in database.parent.glob("tillit.sqlite3*"))
    print(f"  SQLite files (database + WAL) now {db_bytes / MIB:.1f} MiB; leftover temporary files: "
          f"{len(list((base / 'tmp').iterdir()))}")

    before = status_kib(pid)["VmRSS"]
    reset_peak(pid)
    read = post(port, f"/_bench/read/{stored['id']}")
    after = status_kib(pid)
    assert read["sha256"] == digest and read["size"] == size, "read-back mismatch"
    print(f"  read back {size_mib / read['seconds']:7.1f} MiB/s through iter_attachment ({read['chunks']} chunks), "
          f"SHA-256 matches; peak RSS growth {(after['VmHWM'] - before) / 1024:.1f} MiB")


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        serve()
        return
    sizes = [int(a) for a in sys.argv[1:]] or [200]
    block = os.urandom(PIECE)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="tillit-bench-") as tmp:
        base = Path(tmp)
        (base / "tmp").mkdir()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PORTAL_ENV": "development",
            "PORTAL_INSTANCE_PATH": str(base / "instance"),
            "PORTAL_DATABASE_URL": "",
            # Small Argon2id only so that creating the bench handler is quick.
            "PORTAL_ARGON2_MEMORY_KIB": "8",
            "PORTAL_ARGON2_ITERATIONS": "1",
            "PORTAL_MAX_UPLOAD_MIB": str(max(sizes) + 1),
            "TMPDIR": str(base / "tmp"),  # where the spool's ciphertext goes
        }
        server = subprocess.Popen([sys.executable, __file__, "--serve"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, text=True)
        try:
            line = server.stdout.readline()
            if not line.startswith("PORT "):
                raise RuntimeError(f"server did not start: {line!r}")
            port = int(line.split()[1])
            upload(port, 2 * MIB, block)  # warm-up: imports, compiled statements, allocator
            for size_mib in sizes:
                run(port, server.pid, size_mib, block, base)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


if __name__ == "__main__":
    main()
