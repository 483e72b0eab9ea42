"""The one place where attachment content is encrypted and decrypted.

Like casefile.py for text fields: views hand in an upload (a FileStorage whose
stream is an EncryptedSpool, see uploads.py) and get plaintext back only
through iter_attachment(). The database sees the STREAM chunks of each file
under a key derived from the report DEK, and its name, type and size only
inside meta_ct (formats: docs/crypto.md, section 6).

Memory stays flat: files up to file_cleaning.CLEANABLE_MAX_BYTES are read
into memory to remove their metadata; larger ones are streamed through the
encryptor in pieces and their chunks are inserted in small batches with Core
inserts, so neither the ORM session nor Python holds more than a batch.
"""
from __future__ import annotations

import contextlib
import json
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import quote

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crypto import DecryptionError, envelope
from crypto.stream import CHUNK_SIZE, StreamEncryptor, decrypt_chunks

from .domain import file_cleaning
from .models import Attachment, AttachmentChunk, Report, new_id

META_FIELD = "attachment-meta"
WARNING_TOO_LARGE = "too_large_to_clean"
LARGE_FILE_MEDIA_TYPE = "application/octet-stream"  # uncleaned, unsniffed: never shown inline

READ_BYTES = 16 * CHUNK_SIZE  # plaintext read from the upload per step (1 MiB)
INSERT_BATCH = 16  # sealed chunks per INSERT (about 1 MiB)
SELECT_BATCH = 8  # sealed chunks per SELECT when reading back (about 512 KiB)
HEAD_BYTES = 4096  # what file_cleaning.detect_kind looks at

_CHUNKS = AttachmentChunk.__table__
ALL_MESSAGES = ...  # list_attachments(message_id=ALL_MESSAGES): no filter


class AttachmentRejected(Exception):
    """The upload cannot be stored; reason is "type", "size" or "empty"."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class StoredAttachment:
    id: str
    filename: str
    size: int
    cleaned: bool
    removed: tuple[str, ...]
    warning: str | None
    media_type: str = LARGE_FILE_MEDIA_TYPE
    kind: str = "other"
    message_id: str | None = None


def store_attachment(
    session: Session,
    report: Report,
    dek: bytes,
    upload,
    *,
    message_id: str | None = None,
    allowed_types: Iterable[str],
    max_bytes: int | None = None,
    filename: str | None = None,
) -> StoredAttachment:
    """Encrypt one upload into an Attachment of `report` (flushed, not committed).

    `upload` is a werkzeug FileStorage (its stream normally an EncryptedSpool)
    or any binary file-like object; `filename` overrides the upload's name.
    `max_bytes` bounds uploads that did not come through an EncryptedSpool
    (which enforces the limit itself and is then only `oversize`).
    Raises AttachmentRejected("type" | "size" | "empty"); nothing is stored then.
    """
    name = filename if filename is not None else (getattr(upload, "filename", None) or "")
    stream: BinaryIO = getattr(upload, "stream", upload)
    reason = check_upload(upload, allowed_types, max_bytes=max_bytes, filename=name)
    if reason:
        raise AttachmentRejected(reason)
    size = _known_size(stream)

    if size is None or size <= file_cleaning.CLEANABLE_MAX_BYTES:
        # Bounded read: only cleanable files are ever whole in memory.
        data = stream.read(file_cleaning.CLEANABLE_MAX_BYTES + 1)
        if not data:
            raise AttachmentRejected("empty")
        if len(data) <= file_cleaning.CLEANABLE_MAX_BYTES:
            if max_bytes is not None and len(data) > max_bytes:
                raise AttachmentRejected("size")
            result = file_cleaning.clean_file(name, data)
            del data
            meta = _meta(result.filename, result.media_type, len(result.data), result.kind,
                         result.cleaned, result.removed, result.warning)
            # No size check after cleaning: a re-encoded image may grow a little.
            return _encrypt(session, report, dek, message_id, meta, _slices(result.data), None)
        head, pieces = data[:HEAD_BYTES], _chain_pieces(data, stream)
    else:
        head = stream.read(HEAD_BYTES)
        pieces = _chain_pieces(head, stream)
    meta = _meta(file_cleaning.safe_filename(name), LARGE_FILE_MEDIA_TYPE, None,
                 file_cleaning.detect_kind(name, head), False, (), WARNING_TOO_LARGE)
    return _encrypt(session, report, dek, message_id, meta, pieces, max_bytes)


def check_upload(upload, allowed_types: Iterable[str], *, max_bytes: int | None = None,
                 filename: str | None = None) -> str | None:
    """Why store_attachment would reject `upload` ("type", "size", "empty"),
    or None; reads no content, so a form can report every problem first."""
    name = filename if filename is not None else (getattr(upload, "filename", None) or "")
    stream = getattr(upload, "stream", upload)
    size = _known_size(stream)
    if not name and size == 0:
        return "empty"  # a file input left blank
    extension = file_cleaning.extension_of(name)
    if not extension or extension not in {t.strip().lower().lstrip(".") for t in allowed_types}:
        return "type"
    if getattr(stream, "oversize", False) or (size is not None and max_bytes is not None and size > max_bytes):
        return "size"
    if size == 0:
        return "empty"
    return None


def content_disposition(filename: str) -> str:
    """A Content-Disposition header value (RFC 6266) that always downloads:
    an ASCII fallback name plus the exact UTF-8 name in filename*."""
    name = file_cleaning.safe_filename(filename)
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(c if c.isprintable() and c not in '"\\;%' else "_" for c in fallback).strip() or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _known_size(stream) -> int | None:
    """Plaintext size without reading, when the stream can tell."""
    size = getattr(stream, "size", None)  # EncryptedSpool
    if isinstance(size, int):
        return size
    try:
        if stream.seekable():
            position = stream.tell()
            end = stream.seek(0, 2)
            stream.seek(position)
            return end - position
    except (AttributeError, OSError, ValueError):
        pass
    return None


def _slices(data: bytes) -> Iterator[memoryview]:
    view = memoryview(data)
    for offset in range(0, len(view), READ_BYTES):
        yield view[offset:offset + READ_BYTES]


def _chain_pieces(first: bytes, stream: BinaryIO) -> Iterator[bytes]:
    yield from _slices(first)
    while piece := stream.read(READ_BYTES):
        yield piece


def _meta(filename, media_type, size, kind, cleaned, removed, warning) -> dict:
    return {"filename": filename, "media_type": media_type, "size": size, "kind": kind,
            "cleaned": bool(cleaned), "removed": list(removed), "warning": warning}


def _encrypt(session: Session, report: Report, dek: bytes, message_id: str | None, meta: dict,
             pieces: Iterable[bytes], max_bytes: int | None) -> StoredAttachment:
    attachment_id = new_id()
    encryptor = StreamEncryptor(dek, report_id=report.id, attachment_id=attachment_id)
    attachment = Attachment(
        id=attachment_id, report_id=report.id, message_id=message_id,
        meta_ct=b"", stream_header=encryptor.header, chunk_count=0, complete=False,
    )
    session.add(attachment)
    session.flush()  # the chunk rows reference it
    batch: list[dict] = []
    count = 0

    def insert_batch() -> None:
        if batch:
            session.execute(insert(_CHUNKS), batch)
            batch.clear()

    try:
        for piece in pieces:
            if max_bytes is not None and encryptor.plaintext_bytes + len(piece) > max_bytes:
                raise AttachmentRejected("size")
            for sealed in encryptor.update(piece):
                batch.append({"attachment_id": attachment_id, "idx": count, "sealed": sealed})
                count += 1
                if len(batch) >= INSERT_BATCH:
                    insert_batch()
        if encryptor.plaintext_bytes == 0:
            raise AttachmentRejected("empty")
        for sealed in encryptor.finalize():
            batch.append({"attachment_id": attachment_id, "idx": count, "sealed": sealed})
            count += 1
        insert_batch()
    except Exception:
        # A rejected or unreadable upload leaves nothing behind; after a
        # database error the caller rolls back anyway.
        with contextlib.suppress(SQLAlchemyError):
            session.execute(delete(_CHUNKS).where(_CHUNKS.c.attachment_id == attachment_id))
            session.execute(delete(Attachment.__table__).where(Attachment.__table__.c.id == attachment_id))
            session.expunge(attachment)
        raise

    meta["size"] = encryptor.plaintext_bytes
    # message_id is a clear column; sealing it in too means a row moved to
    # another message of the report no longer opens.
    sealed_meta = {**meta, "message_id": message_id}
    attachment.meta_ct = envelope.encrypt_field(
        dek, json.dumps(sealed_meta, ensure_ascii=False).encode(),
        report_id=report.id, row_id=attachment_id, field=META_FIELD,
    )
    attachment.chunk_count = count
    attachment.complete = True
    session.flush()
    return _stored(attachment, meta)


def _stored(attachment: Attachment, meta: dict) -> StoredAttachment:
    return StoredAttachment(
        id=attachment.id, filename=meta["filename"], size=meta["size"], cleaned=meta["cleaned"],
        removed=tuple(meta["removed"]), warning=meta["warning"], media_type=meta["media_type"],
        kind=meta["kind"], message_id=attachment.message_id,
    )


def attachment_meta(report: Report, dek: bytes, attachment: Attachment) -> dict:
    """{filename, media_type, size, kind, cleaned, removed, warning}; DecryptionError if altered."""
    plain = envelope.decrypt_field(
        dek, attachment.meta_ct, report_id=report.id, row_id=attachment.id, field=META_FIELD
    )
    meta = json.loads(plain)
    if meta.pop("message_id", None) != attachment.message_id:
        raise DecryptionError()
    return meta


def iter_attachment(session: Session, report: Report, dek: bytes, attachment: Attachment) -> Iterator[bytes]:
    """The plaintext, chunk by chunk, loading a few chunks at a time.

    Every piece is authentic, but the file is known complete only when the
    iterator ends without DecryptionError: a consumer streaming it onwards
    (a download) must abort on that error, never finish the response.
    The header and completeness flag are checked before the first piece.
    """
    if attachment.report_id != report.id or not attachment.complete:
        raise DecryptionError()
    return decrypt_chunks(
        dek, attachment.stream_header, _sealed_chunks(session, attachment),
        report_id=report.id, attachment_id=attachment.id,
    )


def _sealed_chunks(session: Session, attachment: Attachment) -> Iterator[bytes]:
    # Keyset pages over the (attachment_id, idx) primary key: constant memory.
    expected = 0
    while True:
        rows = session.execute(
            select(_CHUNKS.c.idx, _CHUNKS.c.sealed)
            .where(_CHUNKS.c.attachment_id == attachment.id, _CHUNKS.c.idx >= expected)
            .order_by(_CHUNKS.c.idx)
            .limit(SELECT_BATCH)
        ).all()
        if not rows:
            break
        for idx, sealed in rows:
            if idx != expected:  # a missing row; the STREAM counter would catch it too
                raise DecryptionError()
            yield bytes(sealed)
            expected += 1
        del rows
    if expected != attachment.chunk_count:
        raise DecryptionError()


def list_attachments(session: Session, report: Report, dek: bytes,
                     message_id: str | None = ALL_MESSAGES) -> list[StoredAttachment]:
    """Complete attachments of a report, by file name: all by default, those of
    the report itself with message_id=None, or those of one message."""
    query = select(Attachment).where(Attachment.report_id == report.id, Attachment.complete)
    if message_id is not ALL_MESSAGES:
        query = query.where(Attachment.message_id == message_id if message_id else Attachment.message_id.is_(None))
    stored = [_stored(a, attachment_meta(report, dek, a)) for a in session.scalars(query)]
    return sorted(stored, key=lambda s: (s.message_id or "", s.filename.casefold(), s.id))
