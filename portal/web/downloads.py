"""An attachment as a download: always a file to save, never shown inline,
and sent only after the whole file has been checked."""
from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Response, stream_with_context
from sqlalchemy.orm import Session

from crypto import DecryptionError

from ..attachments import store
from ..attachments.cleaning.names import safe_filename
from ..models import Attachment, Report
from . import errors


def content_disposition(filename: str) -> str:
    """A Content-Disposition header value (RFC 6266) that always downloads:
    an ASCII fallback name plus the exact UTF-8 name in filename*."""
    name = safe_filename(filename)
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(c if c.isprintable() and c not in '"\\;%' else "_" for c in fallback).strip() or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def attachment_response(db: Session, report: Report, dek: bytes, attachment: Attachment) -> Response:
    """The file, streamed; the error page if any of it fails its check (what
    the request did before, an audit entry say, is kept)."""
    try:
        meta = store.attachment_meta(report, dek, attachment)
        # Verify the whole file before sending a byte: a tampered chunk must not
        # reach the browser as a silently truncated download.
        for _chunk in store.iter_attachment(db, report, dek, attachment):
            pass
    except DecryptionError:
        return errors.page(500)
    body = stream_with_context(_closing(db, store.iter_attachment(db, report, dek, attachment)))
    return Response(body, mimetype="application/octet-stream", headers={
        "Content-Disposition": content_disposition(meta["filename"]),
        "X-Content-Type-Options": "nosniff",
    })


def _closing(db: Session, chunks):
    """The body is streamed after the request's app context was torn down
    (which closed the request session); reading the chunks reopens that
    session, so close it again when the body ends, or its connection stays
    checked out, idle in a transaction, after every download."""
    try:
        yield from chunks
    finally:
        db.close()
