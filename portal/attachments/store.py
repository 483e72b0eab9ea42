"""Attachments of a report: cleaned of metadata, then stored encrypted.

Services hand in an upload (a FileStorage whose stream is an EncryptedSpool,
see web/upload_spool.py) and get plaintext back only through
iter_attachment(). The database sees the STREAM chunks of each file under a
key derived from the report DEK, and its name, type and size only inside
meta_ct (formats: docs/crypto.md, section 6); reports/sealing.py does the
encryption.

Memory stays flat: files up to cleaning.CLEANABLE_MAX_BYTES are read
into memory to remove their metadata; larger ones are streamed through the
encryptor in pieces and their chunks are inserted in small batches with Core
inserts, so neither the ORM session nor Python holds more than a batch.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crypto import DecryptionError

from ..models import Attachment, AttachmentChunk, Report, new_id
from ..reports import sealing
from ..reports.sealing import CHUNK_SIZE
from . import cleaning
from .checks import EMPTY, SIZE, check_upload, known_size
from .cleaning.findings import TOO_LARGE_TO_CLEAN
LARGE_FILE_MEDIA_TYPE = "application/octet-stream"  # uncleaned, unsniffed: never shown inline

READ_BYTES = 16 * CHUNK_SIZE  # plaintext read from the upload per step (1 MiB)
INSERT_BATCH = 16  # sealed chunks per INSERT (about 1 MiB)
SELECT_BATCH = 8  # sealed chunks per SELECT when reading back (about 512 KiB)
HEAD_BYTES = 4096  # what cleaning.detect_kind looks at

_CHUNKS = AttachmentChunk.__table__


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
    size = known_size(stream)

    trial = getattr(upload, "cleaned_on_trial", None)
    if isinstance(trial, cleaning.CleanResult) and trial.filename == cleaning.safe_filename(name):
        # Cleaned already, before the transaction (web/upload_fields.cleaning_warning).
        return _store_cleaned(session, report, dek, message_id, trial)
    if size is None or size <= cleaning.CLEANABLE_MAX_BYTES:
        # Bounded read: only cleanable files are ever whole in memory.
        data = stream.read(cleaning.CLEANABLE_MAX_BYTES + 1)
        if not data:
            raise AttachmentRejected(EMPTY)
        if len(data) <= cleaning.CLEANABLE_MAX_BYTES:
            if max_bytes is not None and len(data) > max_bytes:
                raise AttachmentRejected(SIZE)
            result = cleaning.clean_file(name, data)
            del data
            return _store_cleaned(session, report, dek, message_id, result)
        head, pieces = data[:HEAD_BYTES], _chain_pieces(data, stream)
    else:
        head = stream.read(HEAD_BYTES)
        pieces = _chain_pieces(head, stream)
    meta = _meta(cleaning.safe_filename(name), LARGE_FILE_MEDIA_TYPE, None,
                 cleaning.detect_kind(name, head), False, (), TOO_LARGE_TO_CLEAN)
    return _encrypt(session, report, dek, message_id, meta, pieces, max_bytes)


def _store_cleaned(session: Session, report: Report, dek: bytes, message_id: str | None,
                   result: cleaning.CleanResult) -> StoredAttachment:
    meta = _meta(result.filename, result.media_type, len(result.data), result.kind,
                 result.cleaned, result.removed, result.warning)
    # No size check after cleaning: a re-encoded image may grow a little.
    return _encrypt(session, report, dek, message_id, meta, _slices(result.data), None)


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
    encryptor = sealing.attachment_encryptor(dek, report_id=report.id, attachment_id=attachment_id)
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
                raise AttachmentRejected(SIZE)
            for sealed in encryptor.update(piece):
                batch.append({"attachment_id": attachment_id, "idx": count, "sealed": sealed})
                count += 1
                if len(batch) >= INSERT_BATCH:
                    insert_batch()
        if encryptor.plaintext_bytes == 0:
            raise AttachmentRejected(EMPTY)
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
    attachment.meta_ct = sealing.seal_attachment_meta(dek, sealed_meta, report_id=report.id,
                                                      attachment_id=attachment_id)
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
    meta = sealing.open_attachment_meta(dek, attachment.meta_ct, report_id=report.id, attachment_id=attachment.id)
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
    return sealing.open_attachment_chunks(dek, attachment.stream_header, _sealed_chunks(session, attachment),
                                          report_id=report.id, attachment_id=attachment.id)


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
