"""Uploads that are encrypted as they arrive.

Werkzeug's multipart parser writes each uploaded file into a stream from
Request._get_file_stream; by default that is a SpooledTemporaryFile which
rolls over to a plaintext temporary file beyond 500 KiB. TillitRequest
replaces it with an EncryptedSpool: everything written is sealed at once
(STREAM, through reports/sealing.py) under a random key that lives only in
the spool object, so a disk, swap-free temp directory or crash dump of the temp dir
holds only ciphertext. Reading the spool back decrypts chunk by chunk.
"""
from __future__ import annotations

import io
import secrets
import tempfile

from flask import Request, abort
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.utils import cached_property
from werkzeug.wsgi import get_input_stream

from ..reports import sealing
from ..reports.sealing import CHUNK_SIZE, SEALED_CHUNK_BYTES
from . import current_settings

MIB = 1024 * 1024
# Ciphertext beyond this goes to a temporary file (ciphertext only).
SPOOL_MEMORY_BYTES = 1 * MIB
_EPHEMERAL_KEY_BYTES = 32


class EncryptedSpool(io.BufferedIOBase):
    """A write-once, then read, binary file whose storage holds only ciphertext.

    Write phase: write() seals complete 64 KiB chunks into the backing spool.
    The first seek() or read() ends the write phase (the final chunk is sealed
    then), which is what Werkzeug does after the last part of a file: seek(0).

    Read phase: read() decrypts chunk by chunk (one chunk of plaintext in
    memory); seek() is cheap to 0, to the current position and to the end,
    other positions re-decrypt from the start. Tampering with the backing file
    raises crypto.DecryptionError.

    With `limit_bytes`, writing more than that many bytes marks the spool
    `oversize`, drops what was stored and discards the rest, so the request
    still parses (the other form fields survive) and the view can report it.
    """

    def __init__(self, limit_bytes: int | None = None, *, memory_bytes: int = SPOOL_MEMORY_BYTES) -> None:
        super().__init__()
        self.limit_bytes = limit_bytes
        self.oversize = False
        self.size = 0  # plaintext bytes written (counted on even when oversize)
        # Ephemeral: neither key nor ids are stored anywhere, so the spool's
        # ciphertext is unreadable once this object is gone.
        self._key = secrets.token_bytes(_EPHEMERAL_KEY_BYTES)
        self._ids = {"spool_id": secrets.token_hex(16), "file_id": secrets.token_hex(16)}
        self._encryptor = sealing.spool_encryptor(self._key, **self._ids)
        self._header = self._encryptor.header
        self._file = tempfile.SpooledTemporaryFile(max_size=memory_bytes, mode="w+b")
        self._chunk_count = 0
        # Read state.
        self._decryptor = None
        self._next_chunk = 0
        self._plain = memoryview(b"")  # decrypted, not yet returned
        self._pos = 0

    # --- io.IOBase protocol -------------------------------------------------

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed and hasattr(self, "_file"):
            self._file.close()
            self._key = b""
            self._encryptor = self._decryptor = None
            self._plain = memoryview(b"")
        super().close()

    @property
    def writing(self) -> bool:
        return self._encryptor is not None

    # --- write phase ----------------------------------------------------------

    def write(self, data) -> int:
        self._check_open()
        if not self.writing:
            raise io.UnsupportedOperation("EncryptedSpool is read-only once read or seeked")
        n = memoryview(data).nbytes
        self.size += n
        if self.oversize:
            return n
        if self.limit_bytes is not None and self.size > self.limit_bytes:
            self._mark_oversize()
            return n
        for sealed in self._encryptor.update(data):
            self._store(sealed)
        return n

    def _store(self, sealed: bytes) -> None:
        self._file.write(sealed)
        self._chunk_count += 1

    def discard(self) -> None:
        """Drop what was stored, as for an oversize file (the body was cut)."""
        if not self.oversize:
            self._mark_oversize()

    def _mark_oversize(self) -> None:
        # Nothing of an oversize file is kept: free the memory or disk now.
        self.oversize = True
        self._file.close()
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES, mode="w+b")
        self._chunk_count = 0

    def _finish_writing(self) -> None:
        if not self.writing:
            return
        if not self.oversize:
            for sealed in self._encryptor.finalize():
                self._store(sealed)
        self._encryptor = None
        self._restart()

    @property
    def stored_size(self) -> int:
        """Plaintext bytes readable back (0 when oversize)."""
        return 0 if self.oversize else self.size

    # --- read phase -------------------------------------------------------------

    def _restart(self) -> None:
        self._file.seek(0)
        self._decryptor = None
        if not self.oversize:
            self._decryptor = sealing.spool_decryptor(self._key, self._header, **self._ids)
        self._next_chunk = 0
        self._plain = memoryview(b"")
        self._pos = 0

    def _next_plaintext(self) -> bool:
        """Decrypt the next stored chunk into self._plain; False at the end."""
        if self._decryptor is None or self._next_chunk >= self._chunk_count:
            return False
        is_last = self._next_chunk == self._chunk_count - 1
        # Every chunk but the last has a fixed size, so the chunk boundaries in
        # the backing file need no framing.
        sealed = self._file.read(SEALED_CHUNK_BYTES)
        plain = self._decryptor.decrypt_chunk(self._next_chunk, sealed, is_last)
        if is_last:
            self._decryptor.finalize()
        self._next_chunk += 1
        self._plain = memoryview(plain)
        return True

    def read(self, size: int | None = -1) -> bytes:
        self._check_open()
        if self.oversize:
            raise ValueError("upload exceeded its size limit; its content was discarded")
        self._finish_writing()
        if size is None or size < 0:
            size = max(self.size - self._pos, 0)
        # BytesIO grows in place and getvalue() hands over its buffer, so a
        # large read peaks at about its own size, not twice (parts + join).
        out, wanted = io.BytesIO(), size
        while wanted > 0 and self._pos < self.size:
            if not self._plain and not self._next_plaintext():
                break
            piece = self._plain[:wanted]
            self._plain = self._plain[len(piece):]
            out.write(piece)
            wanted -= len(piece)
            self._pos += len(piece)
        if self._pos >= self.size:
            self._verify_end()
        return out.getvalue()

    def _verify_end(self) -> None:
        # The final chunk may be empty (plaintext a multiple of 64 KiB): still
        # authenticate it, so truncation of the backing file is noticed.
        while not self._plain and self._next_plaintext():
            pass

    def read1(self, size: int = -1) -> bytes:
        # At most one chunk, as BufferedIOBase.read1 promises a single "raw" read.
        if size is None or size < 0:
            size = CHUNK_SIZE
        return self.read(min(size, CHUNK_SIZE))

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        self._finish_writing()
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        elif whence == io.SEEK_END:
            target = self.stored_size + offset
        else:
            raise ValueError(f"invalid whence {whence!r}")
        if target < 0:
            raise ValueError("negative seek position")
        if target == self._pos:
            return target
        if target >= self.stored_size:
            # Past the end nothing is read, so nothing needs decrypting.
            self._plain = memoryview(b"")
            self._next_chunk = self._chunk_count
            self._pos = target
            return target
        if target < self._pos:
            self._restart()
        while self._pos < target:
            if not self.read(min(target - self._pos, CHUNK_SIZE)):
                break
        return self._pos

    def tell(self) -> int:
        self._check_open()
        return self.size if self.writing else self._pos

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed EncryptedSpool")


def body_limit(settings) -> int:
    """The largest body read: every file at its limit, plus room for the text."""
    return (settings.max_upload_mib * settings.max_attachments + 1) * MIB


class _CutBody(io.RawIOBase):
    """The first `limit` bytes of a multipart body, then the closing boundary,
    so the parser ends cleanly with the fields that came before the cut (the
    text, which comes before the files in every form here)."""

    def __init__(self, stream, limit: int, boundary: bytes) -> None:
        super().__init__()
        self._stream, self._left = stream, limit
        self._ending = b"\r\n--" + boundary + b"--\r\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._left > 0:
            data = self._stream.read(min(len(view), self._left))
            if data:
                self._left -= len(data)
                view[: len(data)] = data
                return len(data)
            self._left = 0
        piece, self._ending = self._ending[: len(view)], self._ending[len(view):]
        view[: len(piece)] = piece
        return len(piece)


def refuse_nul_in_path(_endpoint, values) -> None:
    """url_value_preprocessor: an id with a NUL in it names nothing (404),
    rather than reaching the database, where PostgreSQL refuses it (500)."""
    if values and any("\x00" in str(value) for value in values.values()):
        abort(404)


def _without_nul(values: ImmutableMultiDict) -> ImmutableMultiDict:
    if not any("\x00" in value for value in values.values()):
        return values
    return ImmutableMultiDict([(key.replace("\x00", ""), value.replace("\x00", ""))
                               for key, value in values.items(multi=True)])


class TillitRequest(Request):
    """Flask's Request, with file uploads spooled encrypted (see EncryptedSpool),
    and a multipart body longer than body_limit cut there: the text typed
    before the files survives and every file is dropped (`body_cut`), so the
    form comes back saying so, without reading the rest.

    NUL characters are taken out of every form field and query value: no
    keyboard types one, and PostgreSQL cannot hold one in a text column, so a
    username with a NUL made a sign-in fail with a 500 instead of a refusal."""

    body_cut = False

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> EncryptedSpool:
        spool = EncryptedSpool(limit_bytes=current_settings().max_upload_mib * MIB)
        self.__dict__.setdefault("_spools", []).append(spool)
        return spool

    def _get_stream_for_parsing(self):
        limit = self.max_content_length
        boundary = self.mimetype_params.get("boundary", "").encode("latin-1", "replace")
        if (self.mimetype != "multipart/form-data" or not boundary or limit is None
                or self.content_length is None or self.content_length <= limit):
            return super()._get_stream_for_parsing()
        self.body_cut = True
        stream = get_input_stream(self.environ, max_content_length=None)
        return io.BufferedReader(_CutBody(stream, limit, boundary))

    def _load_form_data(self) -> None:
        super()._load_form_data()
        self.__dict__["form"] = _without_nul(self.__dict__["form"])
        if self.body_cut:
            for spool in self.__dict__.get("_spools", []):
                spool.discard()

    @cached_property
    def args(self) -> ImmutableMultiDict:
        return _without_nul(super().args)
