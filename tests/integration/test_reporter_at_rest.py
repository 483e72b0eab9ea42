"""Canary search: nothing a reporter types, uploads or is given is found in
clear at rest (docs/architecture.md, "Data, anonymity and the web rules").

A distinct canary goes into every free-text field of both tracks (the
misconduct "when" field too, which takes free words), into
attachment names and contents (a small file and one over 1 MiB, so the upload
spool rolls over to a temporary file), into a dialogue reply, its attachment
and a meeting request. Then every canary and both receipts (with and without
dashes, upper and lower case, and the secret part alone) are searched for as
UTF-8 bytes in:

* the SQLite database file, its -wal and -shm files (while the app's
  connections are open, so the WAL is not checkpointed, and again after they
  are closed), or, on PostgreSQL, every column of every table;
* every file under this test's directory: instance folder and the temporary
  directory (tempfile.tempdir is pointed there), plus every temporary file the
  process holds open under it at the end of each request (unlinked temporary
  files are invisible to a directory listing);
* everything logged (all loggers at DEBUG) and written to stdout/stderr;
* the session cookie the browser keeps (signed, not encrypted).

Each place also gets a positive control, so the search cannot pass vacuously.
"""
from __future__ import annotations

import io
import logging
import os
import re
import secrets
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from crypto.receipt import parse_receipt
from portal.models import Attachment, Message, Report
from support import csrf_token_from, seed_channels

MIB = 1024 * 1024
PROC_FD = Path("/proc/self/fd")  # Linux: open (also unlinked) files of this process
EN = {"Accept-Language": "en"}


def canary() -> str:
    return f"CANARY-{secrets.token_hex(8)}"


def scattered(size: int, mark: str) -> bytes:
    """Text of `size` bytes (random hex, no NUL) with `mark` spread all through it."""
    piece = mark.encode() + b" " + os.urandom(3000).hex().encode() + b"\n"
    return (piece * (size // len(piece) + 1))[:size]


# --- searching -------------------------------------------------------------------


def needles(canaries: dict[str, str], receipts: list[str]) -> dict[str, bytes]:
    found = {}
    for name, value in canaries.items():
        found[name] = value.encode()
        found[f"{name} (lower case)"] = value.lower().encode()
    for number, receipt in enumerate(receipts, start=1):
        compact = receipt.replace("-", "")
        forms = {"dashed": receipt, "compact": compact,
                 "secret part": compact[len(parse_receipt(receipt).selector):-2]}
        for label, form in forms.items():
            found[f"receipt {number} {label}"] = form.upper().encode()
            found[f"receipt {number} {label} (lower case)"] = form.lower().encode()
    return found


def search(places: dict[str, bytes], wanted: dict[str, bytes]) -> list[tuple[str, str]]:
    """(place, needle name) for every needle found in a place."""
    return [(place, name) for place, blob in places.items() for name, needle in wanted.items()
            if needle in blob]


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def open_files_under(directory: Path) -> dict[str, bytes]:
    """Every file this process has open under `directory`, unlinked ones included."""
    found = {}
    for fd in os.listdir(PROC_FD):
        try:
            target = os.readlink(PROC_FD / fd)
        except OSError:
            continue
        if target.startswith(str(directory)):
            with open(PROC_FD / fd, "rb") as handle:
                found[f"open fd {fd}: {target}"] = handle.read()
    return found


def as_bytes(value) -> bytes:
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return str(value).encode()


def table_dump(engine) -> dict[str, bytes]:
    """Every column of every row of every table, as bytes (bytea/BLOB raw, the rest as text)."""
    dump = {}
    with engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        assert "reports" in tables and "attachment_chunks" in tables
        for table in tables:
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            dump[f"table {table}"] = b"\x00".join(as_bytes(v) for row in rows for v in row)
    return dump


def sqlite_files(database) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(database.file.parent.glob(database.file.name + "*"))}


# --- the reporter's journey, with multipart bodies built in memory ---------------
# (the test client's own encoder spools bodies over 500 KiB to a plaintext
# temporary file, which would be the test's own leak, not the app's)


def post_multipart(client, url: str, fields: dict, headers=EN):
    body, length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    return client.post(url, input_stream=body, content_length=length, headers=headers,
                       content_type=f"multipart/form-data; boundary={boundary}")


def upload(name: str, data: bytes) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type="text/plain")


def hidden_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
    assert match, name
    return match.group(1)


def submit(client, track: str, query: str, answers: dict, files: list[FileStorage]) -> str:
    page = client.get(f"/report/{track}?{query}", headers=EN).get_data(as_text=True)
    fields = {**answers, "csrf_token": csrf_token_from(page), "nonce": hidden_value(page, "nonce"),
              "channel_shown": hidden_value(page, "channel_shown"), "attachments": files}
    response = post_multipart(client, f"/report/{track}", fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    sent = client.get("/report/sent", headers=EN).get_data(as_text=True)
    receipt = re.search(r'<p class="receipt"[^>]*><code>([^<]+)</code>', sent).group(1)
    for file in files:
        assert file.filename in sent  # the "what was cleaned" list names each file
    download = client.post_form("/", {"receipt": receipt}, action="/report/receipt.txt")
    assert download.status_code == 200 and receipt in download.get_data(as_text=True)
    return receipt


def follow_up(client, receipt: str, reply: str, files: list[FileStorage], meeting: str | None = None) -> str:
    opened = client.post_form("/follow-up", {"receipt": receipt}, headers=EN)
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/follow-up/case")
    page = client.get("/follow-up/case", headers=EN).get_data(as_text=True)
    sent = post_multipart(client, "/follow-up/reply",
                          {"csrf_token": csrf_token_from(page), "body": reply, "attachments": files})
    assert sent.status_code == 302, sent.get_data(as_text=True)
    if meeting:
        asked = client.post_form("/follow-up/case", {"body": meeting}, action="/follow-up/meeting")
        assert asked.status_code == 302
    return client.get("/follow-up/case", headers=EN).get_data(as_text=True)


def downloaded(client, attachment_id: str) -> bytes:
    response = client.get(f"/follow-up/attachment/{attachment_id}")
    try:
        assert response.status_code == 200
        return response.get_data()
    finally:
        response.close()


# --- the test ----------------------------------------------------------------------


@pytest.fixture
def fresh_tempdir(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


def test_canary_search_finds_nothing_in_clear_at_rest(capfd, caplog, app, client, settings, db_session, database,
                                                      tmp_path, fresh_tempdir):
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    seed_channels(db_session, settings)

    temp_during_requests: dict[str, bytes] = {}

    @app.after_request
    def probe_temp_files(response):
        # Request files (the upload spools) are still open here; they close
        # when the request context ends.
        for key, content in open_files_under(fresh_tempdir).items():
            temp_during_requests[f"request {len(temp_during_requests)} {key}"] = content
        return response

    c = {name: canary() for name in (
        "obstacle today", "obstacle change", "obstacle file name", "obstacle small file",
        "obstacle large file name", "obstacle large file",
        "misconduct what", "misconduct when", "misconduct who", "misconduct evidence", "misconduct contact",
        "misconduct file name", "misconduct small file", "misconduct large file",
        "reply", "reply file name", "reply small file", "reply large file", "meeting request",
        "obstacle reply")}

    obstacle_receipt = submit(
        client, "obstacle", "category=reporting_burden&chain_level=management",
        {"category": "reporting_burden", "chain_level": "management", "principle": "trust",
         "today": f"Three systems. {c['obstacle today']}", "change": f"One system. {c['obstacle change']}",
         "time_lost": "1to3", "publish_consent": "y"},
        [upload(f"notes {c['obstacle file name']}.txt", f"Minutes: {c['obstacle small file']}\n".encode()),
         upload(f"{c['obstacle large file name']}.txt", scattered(MIB + MIB // 2, c["obstacle large file"]))])
    misconduct_receipt = submit(
        client, "misconduct", "category=fraud",
        {"category": "fraud", "what": f"Invoices paid twice. {c['misconduct what']}",
         "when": f"Around Easter {c['misconduct when']}",
         "who": f"A supplier. {c['misconduct who']}", "evidence": f"Ledger. {c['misconduct evidence']}",
         "contact": f"Reach me at {c['misconduct contact']}"},
        [upload(f"ledger {c['misconduct file name']}.txt", f"Entry: {c['misconduct small file']}\n".encode()),
         upload("ledger-full.txt", scattered(MIB + 300_000, c["misconduct large file"]))])

    case_page = follow_up(
        client, misconduct_receipt, f"It happened again. {c['reply']}",
        [upload(f"more {c['reply file name']}.txt", f"Also: {c['reply small file']}\n".encode()),
         upload("more-full.txt", scattered(MIB + 100_000, c["reply large file"]))],
        meeting=f"Tuesdays. {c['meeting request']}")
    # The content is really stored (encrypted) and comes back intact.
    for name in ("misconduct what", "misconduct when", "misconduct who", "misconduct evidence",
                 "misconduct contact", "misconduct file name", "reply", "reply file name", "meeting request"):
        assert c[name] in case_page, name
    db_session.expire_all()
    misconduct = db_session.scalars(select(Report).where(Report.track == "misconduct")).one()
    attachments = db_session.scalars(select(Attachment).where(Attachment.report_id == misconduct.id)).all()
    contents = b"".join(downloaded(client, a.id) for a in attachments)
    for name in ("misconduct small file", "misconduct large file", "reply small file", "reply large file"):
        assert c[name].encode() in contents, name
    client.post_form("/follow-up/case", {}, action="/follow-up/sign-out")

    # The obstacle report is opened the way a reporter might type it.
    typed = obstacle_receipt.lower().replace("-", " ")
    obstacle_page = follow_up(client, typed, f"Still the case. {c['obstacle reply']}", [])
    for name in ("obstacle today", "obstacle change", "obstacle file name", "obstacle large file name",
                 "obstacle reply"):
        assert c[name] in obstacle_page, name
    client.post_form("/follow-up/case", {}, action="/follow-up/sign-out")

    assert db_session.scalar(select(Report.id).where(Report.track == "obstacle"))
    assert len(db_session.scalars(select(Message)).all()) == 3
    wanted = needles(c, [obstacle_receipt, misconduct_receipt])
    selectors = {f"selector {n}": parse_receipt(r).selector.encode()
                 for n, r in enumerate([obstacle_receipt, misconduct_receipt], start=1)}

    # The upload spools did go to disk (over 1 MiB of ciphertext each), and
    # only as ciphertext.
    assert len([blob for blob in temp_during_requests.values() if len(blob) > MIB]) >= 3
    assert search(temp_during_requests, wanted) == []

    # The session cookie a browser would keep on disk.
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    session_data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert search({"session cookie": repr(session_data).encode()}, wanted) == []

    def check_at_rest(phase: str) -> None:
        control = canary()
        scratch = tmp_path / "instance" / f"control-{phase}.txt"
        scratch.parent.mkdir(exist_ok=True)
        scratch.write_text(f"control {control}")
        with_control = {**wanted, "control": control.encode()}
        try:
            files = files_under(tmp_path)
            assert search(files, with_control) == [(str(scratch.relative_to(tmp_path)), "control")], phase
            if database.backend == "sqlite":
                on_disk = sqlite_files(database)
                if phase == "connections open":
                    # The WAL is not checkpointed yet: the newest rows live there.
                    assert on_disk.get(database.file.name + "-wal"), "no WAL file while connections are open"
                # Control: the receipt selectors are stored in clear by design,
                # so the raw-file search does see the application's data.
                assert {name for _, name in search({"db": b"".join(on_disk.values())}, selectors)} == \
                    set(selectors), phase
                assert search(on_disk, wanted) == [], phase
            dump = table_dump(app.extensions["tillit.db"].engine)
            assert {name for _, name in search(dump, selectors)} == set(selectors), phase
            assert search(dump, wanted) == [], phase
        finally:
            scratch.unlink()

    check_at_rest("connections open")

    # Close every connection: SQLite checkpoints the WAL into the main file.
    db_session.close()
    app.extensions["tillit.db"].engine.dispose()
    if database.backend == "sqlite":
        assert not (database.file.parent / (database.file.name + "-wal")).exists()
    check_at_rest("connections closed")
    app.extensions["tillit.db"].engine.dispose()

    # Logs and console output, each with a control line.
    control = canary()
    logging.getLogger("portal").debug("control %s", control)
    print(f"control {control}")
    output = capfd.readouterr()
    with_control = {**wanted, "control": control.encode()}
    channels = {"log": caplog.text.encode(), "stdout": output.out.encode(), "stderr": output.err.encode()}
    assert search(channels, with_control) == [("log", "control"), ("stdout", "control")]
