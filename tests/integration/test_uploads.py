"""Attachments: encrypted as they arrive (portal/uploads.py), stored as STREAM
chunks under the report key (portal/attachments/store.py), read back intact or
not at all."""
from __future__ import annotations

import dataclasses
import io
import itertools
import os
import secrets
import tempfile
from pathlib import Path

import flask
import pytest
from PIL import ExifTags, Image
from sqlalchemy import delete, select, update
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from crypto import DecryptionError
from crypto.stream import CHUNK_SIZE, SEALED_CHUNK_BYTES
from portal.attachments import checks, cleaning, store as attachment_store
from portal.reports import dialogue, reading, submission
from portal.web import db, downloads
from portal.web.forms import csrf
from portal.staff.accounts import create_user
from portal.attachments.store import AttachmentRejected, iter_attachment, store_attachment
from portal.domain.taxonomy import AUTHOR_REPORTER, OBSTACLE
from portal.models import Attachment, AttachmentChunk, Channel, Membership, RoutingRule
from portal.web.upload_spool import EncryptedSpool, TillitRequest
from support import anchor_user, make_own_keys, open_report

MIB = 1024 * 1024
CHUNKS = AttachmentChunk.__table__
PROC_FD = Path("/proc/self/fd")


# --- helpers ------------------------------------------------------------------


def new_report(session, settings) -> str:
    """A submitted report routed to one handler; returns its receipt."""
    channel = Channel(name=f"Channel {secrets.token_hex(4)}", track=OBSTACLE)
    session.add(channel)
    session.flush()
    name = secrets.token_hex(4)
    handler = create_user(session, settings, username=f"h{name}", display_name=f"Handler {name}",
                          password="a long handler passphrase", roles={"handler"}).user
    session.add(Membership(channel_id=channel.id, user_id=handler.id))
    session.add(RoutingRule(track=OBSTACLE, channel_id=channel.id))
    session.flush()
    make_own_keys(session, settings, handler, "a long handler passphrase")
    anchor_user(session, settings, handler)
    submitted = submission.submit(session, settings, submission.NewReport(
        track=OBSTACLE, category="reporting_burden", answers={"today": "Three systems, one form."}))
    session.commit()
    return submitted.receipt


@pytest.fixture
def opened(db_session, settings):
    """(report, data key) of a fresh report."""
    return open_report(db_session, settings, new_report(db_session, settings))


def content(size: int, canary: bytes = b"") -> bytes:
    """Random text (no NUL, so .txt stays text) with `canary` spread through it."""
    piece = canary + os.urandom(2047).hex().encode()
    return (piece * (size // len(piece) + 1))[:size]


def store(session, opened, data: bytes, filename: str = "notes.txt", **kwargs):
    report, dek = opened
    kwargs.setdefault("allowed_types", ("txt", "jpg", "pdf"))
    return store_attachment(session, report, dek, FileStorage(io.BytesIO(data), filename=filename), **kwargs)


def read_back(session, opened, attachment_id: str) -> bytes:
    report, dek = opened
    attachment = session.get(Attachment, attachment_id)
    return b"".join(iter_attachment(session, report, dek, attachment))


def temp_files_under(directory: str) -> list[bytes]:
    """Contents of every file this process has open under `directory`,
    including unlinked ones (TemporaryFile unlinks at once, so listing the
    directory afterwards would prove nothing)."""
    found = []
    for fd in os.listdir(PROC_FD):
        try:
            target = os.readlink(PROC_FD / fd)
        except OSError:
            continue
        if target.startswith(directory):
            with open(PROC_FD / fd, "rb") as handle:
                found.append(handle.read())
    return found


def files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def install_upload_route(app, *, probe_dir: str | None = None, canary: bytes = b""):
    """A test-only view: open the report by receipt, store every uploaded
    file, report what the request saw. With probe_dir, also look at the
    temporary files open while the request is being handled."""

    def upload_view():
        session = db.session()
        settings = app.config["TILLIT"]
        report, dek = open_report(session, settings, flask.request.form["receipt"])
        probe = {}
        if probe_dir:
            open_temp = temp_files_under(probe_dir)
            probe = {"temp_files": len(open_temp), "plaintext_hits": sum(canary in c for c in open_temp)}
        files = []
        for field, upload in flask.request.files.items(multi=True):
            entry = {"field": field, "spool": type(upload.stream).__name__,
                     "oversize": getattr(upload.stream, "oversize", None)}
            try:
                stored = store_attachment(session, report, dek, upload,
                                          allowed_types=settings.allowed_upload_types)
                entry.update(id=stored.id, size=stored.size)
            except AttachmentRejected as rejected:
                entry["rejected"] = rejected.reason
            files.append(entry)
        session.commit()
        return {"form": {k: v for k, v in flask.request.form.items() if k != "receipt"},
                "files": files, **probe}

    app.add_url_rule("/_t/upload", "test_upload", upload_view, methods=["POST"])
    csrf.exempt(upload_view)


def post_multipart(client, fields: dict):
    # Encoded in memory: the test client's own encoder would spool a large
    # body to a plaintext temporary file and confuse the disk checks.
    fields = {k: FileStorage(*v[:2], content_type=v[2]) if isinstance(v, tuple) else v
              for k, v in fields.items()}
    body, length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    return client.post("/_t/upload", input_stream=body, content_length=length,
                       content_type=f"multipart/form-data; boundary={boundary}")


# --- EncryptedSpool -------------------------------------------------------------

SIZES = [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * MIB]


def write_in_pieces(spool: EncryptedSpool, data: bytes) -> None:
    offset = 0
    for step in itertools.cycle([1, 7, CHUNK_SIZE - 1, 4099, 70001]):
        if offset >= len(data):
            break
        assert spool.write(data[offset:offset + step]) == len(data[offset:offset + step])
        offset += step


def read_in_pieces(spool: EncryptedSpool) -> bytes:
    parts = []
    for step in itertools.cycle([3, CHUNK_SIZE, 1, 99999, 65535]):
        piece = spool.read(step)
        if not piece:
            return b"".join(parts)
        assert len(piece) <= step
        parts.append(piece)


@pytest.mark.parametrize("size", SIZES)
def test_spool_round_trip_in_odd_pieces(size):
    data = content(size)
    spool = EncryptedSpool()
    write_in_pieces(spool, data)
    assert spool.size == size and spool.tell() == size and not spool.oversize
    spool.seek(0)  # what Werkzeug does after the last write
    assert read_in_pieces(spool) == data
    assert spool.read() == b"" and spool.tell() == size
    spool.seek(0)
    assert spool.read() == data
    assert spool.seek(0, io.SEEK_END) == size
    if size > 10:
        spool.seek(size - 5)
        assert spool.read(3) == data[-5:-2]
        spool.seek(2)
        assert spool.read(4) == data[2:6]
    spool.close()
    assert spool.closed


@pytest.mark.parametrize("size", SIZES)
def test_spool_stores_only_ciphertext(size):
    canary = b"CANARY-" + secrets.token_hex(8).encode()
    spool = EncryptedSpool()
    spool.write(content(size, canary))
    spool.seek(0)
    spool._file.seek(0)
    stored = spool._file.read()
    chunks = size // CHUNK_SIZE + 1
    assert len(stored) == size + 16 * chunks  # one GCM tag per 64 KiB chunk
    assert canary not in stored


def test_spool_is_read_only_after_seek():
    spool = EncryptedSpool()
    spool.write(b"abc")
    spool.seek(0)
    with pytest.raises(io.UnsupportedOperation):
        spool.write(b"more")


def test_spool_limit_marks_oversize_and_keeps_nothing():
    exact = EncryptedSpool(limit_bytes=100)
    exact.write(b"x" * 100)
    assert not exact.oversize

    spool = EncryptedSpool(limit_bytes=100)
    spool.write(b"x" * 60)
    spool.write(b"x" * 60)
    spool.write(b"x" * CHUNK_SIZE * 3)  # discarded, not stored
    assert spool.oversize and spool.size == 120 + CHUNK_SIZE * 3
    spool.seek(0)
    spool._file.seek(0)
    assert spool._file.read() == b""
    with pytest.raises(ValueError):
        spool.read()


def test_spool_tampering_is_detected():
    spool = EncryptedSpool()
    spool.write(content(3 * CHUNK_SIZE))
    spool.seek(0)
    spool._file.seek(SEALED_CHUNK_BYTES + 10)
    byte = spool._file.read(1)
    spool._file.seek(SEALED_CHUNK_BYTES + 10)
    spool._file.write(bytes([byte[0] ^ 1]))
    spool.seek(0)
    with pytest.raises(DecryptionError):
        spool.read()


# --- through a request ------------------------------------------------------------


@pytest.fixture
def fresh_tempdir(tmp_path, monkeypatch) -> str:
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return str(directory)


needs_proc = pytest.mark.skipif(not PROC_FD.is_dir(), reason="needs /proc/self/fd (Linux)")


@needs_proc
def test_large_upload_never_reaches_disk_in_clear(app, db_session, settings, database, tmp_path, fresh_tempdir):
    canary = b"CANARY-" + secrets.token_hex(8).encode()
    data = content(3 * MIB, canary)
    receipt = new_report(db_session, settings)
    install_upload_route(app, probe_dir=fresh_tempdir, canary=canary)

    response = post_multipart(app.test_client(), {
        "receipt": receipt, "file": (io.BytesIO(data), "evidence.txt", "text/plain"),
    })

    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()
    [entry] = result["files"]
    assert entry["spool"] == "EncryptedSpool" and entry["size"] == len(data)
    # The spool did go to disk (3 MiB > 1 MiB in memory), as ciphertext only.
    assert result["temp_files"] >= 1 and result["plaintext_hits"] == 0
    # Nothing at rest either: temp dir, SQLite file and its WAL, instance dir.
    assert files_containing(tmp_path, canary) == []
    if database.file is not None:
        assert database.file.exists()

    report, dek = open_report(db_session, settings, receipt)
    attachment = db_session.get(Attachment, entry["id"])
    assert b"".join(iter_attachment(db_session, report, dek, attachment)) == data
    assert attachment.chunk_count == len(data) // CHUNK_SIZE + 1 and attachment.complete


@needs_proc
def test_probe_sees_plaintext_with_werkzeugs_default_spool(app, db_session, settings, fresh_tempdir):
    # Control for the test above: with Flask's own Request the same upload
    # lands in a plaintext temporary file, and the probe notices.
    canary = b"CANARY-" + secrets.token_hex(8).encode()
    app.request_class = flask.Request
    receipt = new_report(db_session, settings)
    install_upload_route(app, probe_dir=fresh_tempdir, canary=canary)

    result = post_multipart(app.test_client(), {
        "receipt": receipt, "file": (io.BytesIO(content(MIB, canary)), "evidence.txt", "text/plain"),
    }).get_json()

    assert result["plaintext_hits"] >= 1


def test_app_uses_encrypting_request_class(app):
    assert app.request_class is TillitRequest


def test_oversize_file_is_flagged_and_the_rest_of_the_form_is_kept(app, db_session, settings):
    app.config["TILLIT"] = dataclasses.replace(settings, max_upload_mib=1)
    receipt = new_report(db_session, settings)
    install_upload_route(app)

    response = post_multipart(app.test_client(), {
        "receipt": receipt,
        "big": (io.BytesIO(content(MIB + 1)), "big.txt", "text/plain"),
        "after": "kept",
        "small": (io.BytesIO(b"small and fine"), "small.txt", "text/plain"),
    })

    result = response.get_json()
    assert result["form"] == {"after": "kept"}
    big, small = result["files"]
    assert big["field"] == "big" and big["oversize"] is True and big["rejected"] == "size"
    assert small["field"] == "small" and small["oversize"] is False and small["size"] == 14
    # The rejected file left no rows behind.
    assert db_session.scalars(select(Attachment.id)).all() == [small["id"]]


# --- the attachment store ---------------------------------------------------------------


def test_store_and_read_back_with_metadata(db_session, opened):
    report, dek = opened
    data = content(200_000)
    stored = store(db_session, opened, data, filename="../../Möte <protokoll>.txt")

    assert stored.size == len(data) and stored.filename == "Möte _protokoll_.txt"
    assert read_back(db_session, opened, stored.id) == data
    attachment = db_session.get(Attachment, stored.id)
    meta = attachment_store.attachment_meta(report, dek, attachment)
    assert meta == {"filename": "Möte _protokoll_.txt", "media_type": "text/plain", "size": len(data),
                    "kind": "other", "cleaned": False, "removed": [], "warning": None}
    assert b"protokoll" not in attachment.meta_ct


def test_disallowed_type_is_rejected(db_session, opened):
    with pytest.raises(AttachmentRejected) as rejected:
        store(db_session, opened, b"MZ\x90\x00", filename="tool.exe")
    assert rejected.value.reason == "type"
    with pytest.raises(AttachmentRejected) as rejected:
        store(db_session, opened, b"no extension", filename="README")
    assert rejected.value.reason == "type"
    assert db_session.scalars(select(Attachment.id)).all() == []


def test_empty_and_unnamed_uploads_are_rejected(db_session, opened):
    for filename in ("empty.txt", ""):  # "" is a file input left blank
        with pytest.raises(AttachmentRejected) as rejected:
            store(db_session, opened, b"", filename=filename)
        assert rejected.value.reason == "empty"


def test_max_bytes_bounds_plain_file_objects(db_session, opened):
    with pytest.raises(AttachmentRejected) as rejected:
        store(db_session, opened, b"x" * 101, max_bytes=100)
    assert rejected.value.reason == "size"


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TillitCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (59.0, 19.0, 48.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (18.0, 4.0, 7.0)
    out = io.BytesIO()
    Image.new("RGB", (48, 32), (200, 30, 30)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_jpeg_loses_gps_exif_before_encryption(db_session, opened):
    report, dek = opened
    original = jpeg_with_gps()
    assert b"TillitCam" in original

    stored = store(db_session, opened, original, filename="IMG_0001.JPG")

    assert stored.cleaned and {"gps", "exif"} <= set(stored.removed) and stored.warning is None
    out = read_back(db_session, opened, stored.id)
    assert b"TillitCam" not in out and b"Exif" not in out
    with Image.open(io.BytesIO(out)) as image:
        assert image.format == "JPEG" and len(image.getexif()) == 0
    meta = attachment_store.attachment_meta(report, dek, db_session.get(Attachment, stored.id))
    assert meta["cleaned"] is True and {"gps", "exif"} <= set(meta["removed"])
    assert meta["media_type"] == "image/jpeg" and meta["kind"] == "image"


def test_files_too_large_to_clean_are_streamed_with_a_warning(db_session, opened, monkeypatch):
    monkeypatch.setattr(cleaning, "CLEANABLE_MAX_BYTES", 1024)
    original = jpeg_with_gps() + content(300_000)  # past the (lowered) cleaning limit

    stored = store(db_session, opened, original, filename="big.jpg")

    assert not stored.cleaned and stored.removed == () and stored.warning == "too_large_to_clean"
    assert stored.kind == "image" and stored.media_type == "application/octet-stream"
    assert read_back(db_session, opened, stored.id) == original  # unchanged, warned about


def test_files_are_grouped_by_the_message_they_came_with(db_session, opened):
    report, dek = opened
    message = dialogue.post_message(db_session, report, dek, author=AUTHOR_REPORTER, body="See file")
    on_report = store(db_session, opened, b"first", filename="b.txt")
    on_message = store(db_session, opened, b"second", filename="a.txt", message_id=message.id)

    grouped = reading.files_by_message(db_session, report, dek)
    assert {f["id"] for files in grouped.values() for f in files} == {on_report.id, on_message.id}
    assert [f["id"] for f in grouped[None]] == [on_report.id]
    [listed] = grouped[message.id]
    assert listed["id"] == on_message.id and listed["filename"] == "a.txt" and listed["size"] == 6

    # Moving a file to another message (a clear column) is noticed.
    other = dialogue.post_message(db_session, report, dek, author=AUTHOR_REPORTER, body="Other")
    moved = db_session.get(Attachment, on_message.id)
    moved.message_id = other.id
    with pytest.raises(DecryptionError):
        attachment_store.attachment_meta(report, dek, moved)


# --- tampering ----------------------------------------------------------------------


def flip_byte(session, attachment):
    sealed = session.execute(select(CHUNKS.c.sealed).where(
        CHUNKS.c.attachment_id == attachment.id, CHUNKS.c.idx == 1)).scalar_one()
    changed = bytearray(sealed)
    changed[100] ^= 0x01
    session.execute(update(CHUNKS).where(CHUNKS.c.attachment_id == attachment.id, CHUNKS.c.idx == 1)
                    .values(sealed=bytes(changed)))


def swap_chunks(session, attachment):
    rows = dict(session.execute(select(CHUNKS.c.idx, CHUNKS.c.sealed).where(
        CHUNKS.c.attachment_id == attachment.id, CHUNKS.c.idx.in_([0, 1]))).all())
    for idx, other in ((0, 1), (1, 0)):
        session.execute(update(CHUNKS).where(CHUNKS.c.attachment_id == attachment.id, CHUNKS.c.idx == idx)
                        .values(sealed=rows[other]))


def delete_last_chunk(session, attachment):
    session.execute(delete(CHUNKS).where(
        CHUNKS.c.attachment_id == attachment.id, CHUNKS.c.idx == attachment.chunk_count - 1))


def delete_last_chunk_and_fix_count(session, attachment):
    delete_last_chunk(session, attachment)
    attachment.chunk_count -= 1  # the last-chunk flag still gives it away


def delete_middle_chunk(session, attachment):
    session.execute(delete(CHUNKS).where(CHUNKS.c.attachment_id == attachment.id, CHUNKS.c.idx == 1))


def replace_header(session, attachment):
    attachment.stream_header = b"\x01" + secrets.token_bytes(7)


def mark_incomplete(session, attachment):
    attachment.complete = False


TAMPERINGS = [flip_byte, swap_chunks, delete_last_chunk, delete_last_chunk_and_fix_count,
              delete_middle_chunk, replace_header, mark_incomplete]


def test_tampered_attachments_fail_to_decrypt(db_session, opened):
    # One database for all cases (each on its own attachment) keeps this fast.
    report, dek = opened
    data = content(3 * CHUNK_SIZE + 500)  # four chunks
    attachments = {}
    for tamper in TAMPERINGS:
        stored = store(db_session, opened, data)
        attachments[tamper] = db_session.get(Attachment, stored.id)
        assert attachments[tamper].chunk_count == 4 and read_back(db_session, opened, stored.id) == data

    for tamper, attachment in attachments.items():
        tamper(db_session, attachment)
        db_session.flush()
        try:
            for _piece in iter_attachment(db_session, report, dek, attachment):
                pass  # consume it all: some tampering shows only at the end
        except DecryptionError:
            continue
        pytest.fail(f"{tamper.__name__} went unnoticed")


def test_chunks_of_another_report_do_not_decrypt(db_session, settings, opened):
    # Same attachment id under another report: key and header bind it to its report.
    other = open_report(db_session, settings, new_report(db_session, settings))
    stored = store(db_session, opened, content(1000))
    attachment = db_session.get(Attachment, stored.id)
    with pytest.raises(DecryptionError):
        list(iter_attachment(db_session, other[0], other[1], attachment))


def test_check_upload_reads_nothing_and_names_the_problem():
    allowed = ("txt", "pdf")
    oversize = EncryptedSpool(limit_bytes=4)
    oversize.write(b"too long")
    oversize.seek(0)
    cases = [
        (FileStorage(io.BytesIO(b"fine"), filename="a.txt"), None),
        (FileStorage(io.BytesIO(b"MZ"), filename="a.exe"), "type"),
        (FileStorage(io.BytesIO(b""), filename="a.txt"), "empty"),
        (FileStorage(io.BytesIO(b""), filename=""), "empty"),
        (FileStorage(oversize, filename="a.txt"), "size"),
    ]
    for upload, reason in cases:
        assert checks.check_upload(upload, allowed) == reason, upload.filename
        assert upload.stream.tell() == 0
    assert checks.check_upload(FileStorage(io.BytesIO(b"12345"), filename="a.txt"),
                                         allowed, max_bytes=4) == "size"


def test_content_disposition_always_downloads_with_a_safe_name():
    assert "\n" not in downloads.content_disposition("a\r\nSet-Cookie: x.pdf")
    value = downloads.content_disposition('Möte "1";x.pdf')
    assert value.endswith("filename*=UTF-8''M%C3%B6te%20_1_%3Bx.pdf")
    assert 'filename="Mote _1__x.pdf"' in value
