"""Whether an upload can be stored at all: its type, size and emptiness,
decided without reading its content, so a form can name every problem first."""
from __future__ import annotations

from collections.abc import Iterable

from .cleaning.names import extension_of

TYPE, SIZE, EMPTY = "type", "size", "empty"


def check_upload(upload, allowed_types: Iterable[str], *, max_bytes: int | None = None,
                 filename: str | None = None) -> str | None:
    """Why store_attachment would reject `upload` ("type", "size", "empty"), or None."""
    name = filename if filename is not None else (getattr(upload, "filename", None) or "")
    stream = getattr(upload, "stream", upload)
    size = known_size(stream)
    if not name and size == 0:
        return EMPTY  # a file input left blank
    extension = extension_of(name)
    if not extension or extension not in {t.strip().lower().lstrip(".") for t in allowed_types}:
        return TYPE
    if getattr(stream, "oversize", False) or (size is not None and max_bytes is not None and size > max_bytes):
        return SIZE
    if size == 0:
        return EMPTY
    return None


def known_size(stream) -> int | None:
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
