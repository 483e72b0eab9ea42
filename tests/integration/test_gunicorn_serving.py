"""gunicorn as `make run` and deployments start it (gunicorn.conf.py): no
Server header, and no client address in its log, not even for the
malformed requests it reports itself."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORWARDED = "203.0.113.9"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _send(port, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    log = instance / "gunicorn.log"
    port = _free_port()
    env = {**os.environ, "PORTAL_INSTANCE_PATH": str(instance), "PORTAL_ENV": "development",
           "PORTAL_BIND": f"127.0.0.1:{port}"}
    env.pop("PORTAL_REDIS_URL", None)
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "wsgi:app"], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port, log
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_no_server_header(served):
    port, _log = served
    response = _send(port, b"GET /static/tillit.css HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    assert head.startswith("http/1.1 200")
    assert "\r\nserver:" not in head and "gunicorn" not in head


@pytest.mark.parametrize("raw", [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: " + FORWARDED.encode() + b"\r\nBad Header\r\n\r\n",
    b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Long: " + b"b" * 9000 + b"\r\n\r\n",
], ids=["request-line", "header", "long-line", "long-header"])
def test_malformed_requests_get_a_4xx_and_leave_no_address_in_the_log(served, raw):
    port, log = served
    before = log.read_bytes()
    response = _send(port, raw)
    assert response.startswith(b"HTTP/1.1 4"), response[:80]
    for _ in range(100):  # gunicorn writes the line after answering
        if len(log.read_bytes()) > len(before):
            break
        time.sleep(0.05)
    written = log.read_text(errors="replace")
    assert "Invalid request from" in written  # the event is logged ...
    assert "127.0.0.1" not in written and FORWARDED not in written  # ... without whom it came from
