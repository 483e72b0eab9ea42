"""Attachments: chunked AEAD in the STREAM style (Hoang, Reyhanitabar,
Rogaway, Vizár 2015), constant memory for any size.

Per-file key = HKDF(DEK, "file", encode_context(report_id, attachment_id)).
Header = FORMAT_VERSION (1) || random nonce prefix (7)                = 8 bytes.
Chunk i: nonce = prefix (7) || i as u32 big-endian (4) || last flag (1),
         sealed = AES-256-GCM(key, nonce, plaintext_i, ad=header).
Every chunk but the last holds exactly CHUNK_SIZE plaintext bytes; the last
(flag 1) holds 0 to CHUNK_SIZE-1 bytes, so it is empty when the plaintext is
empty or an exact multiple of CHUNK_SIZE. The counter catches reordering and
dropped middle chunks, the flag catches truncation and appended chunks, the
per-file key and random prefix catch chunks taken from another file.
"""

from __future__ import annotations

import secrets
import struct
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import FORMAT_VERSION, _aead
from .errors import DecryptionError
from .kdf import LABEL_FILE, encode_context, hkdf

CHUNK_SIZE = 64 * 1024
TAG_BYTES = 16
SEALED_CHUNK_BYTES = CHUNK_SIZE + TAG_BYTES  # size of every non-final sealed chunk
PREFIX_BYTES = 7
HEADER_BYTES = 1 + PREFIX_BYTES
MAX_CHUNKS = 2**32  # the counter is 32 bits: at most 256 TiB per file
FRAME_LENGTH = struct.Struct(">I")  # framed file format: u32 length before each chunk


def _file_key(dek: bytes, report_id: str, attachment_id: str) -> bytes:
    _aead.require_ids(report_id=report_id, attachment_id=attachment_id)
    dek = _aead.require_key("dek", dek)
    return hkdf(dek, LABEL_FILE, encode_context(report_id, attachment_id))


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


class StreamEncryptor:
    """Incremental encryption: feed bytes with update(), end with finalize().

    Store `header` once and every returned sealed chunk in order; the chunk
    index is its position. Buffers at most one chunk of plaintext.
    """

    def __init__(self, dek: bytes, *, report_id: str, attachment_id: str) -> None:
        self._aead = AESGCM(_file_key(dek, report_id, attachment_id))
        self._prefix = secrets.token_bytes(PREFIX_BYTES)
        self.header = bytes([FORMAT_VERSION]) + self._prefix
        self._buffer = bytearray()
        self._index = 0
        self._finalized = False
        self.plaintext_bytes = 0

    def _seal(self, chunk, last: bool) -> bytes:
        if self._index >= MAX_CHUNKS:
            raise ValueError("file too large for a 32-bit chunk counter")
        sealed = self._aead.encrypt(_nonce(self._prefix, self._index, last), chunk, self.header)
        self._index += 1
        return sealed

    def update(self, data: bytes) -> list[bytes]:
        """Sealed chunks completed by `data` (possibly none)."""
        if self._finalized:
            raise ValueError("update() after finalize()")
        view = memoryview(data).cast("B")
        self.plaintext_bytes += len(view)
        out = []
        # A full chunk is sealed as non-final as soon as it is complete, which
        # is why the final chunk is always shorter than CHUNK_SIZE (maybe empty).
        if self._buffer:
            need = CHUNK_SIZE - len(self._buffer)
            self._buffer += view[:need]
            view = view[need:]
            if len(self._buffer) < CHUNK_SIZE:
                return out
            out.append(self._seal(self._buffer, last=False))
            self._buffer = bytearray()
        # Whole chunks straight from the caller's buffer: no copies.
        while len(view) >= CHUNK_SIZE:
            out.append(self._seal(view[:CHUNK_SIZE], last=False))
            view = view[CHUNK_SIZE:]
        self._buffer += view
        return out

    def finalize(self) -> list[bytes]:
        """The final chunk (flag 1), as a one-element list."""
        if self._finalized:
            raise ValueError("finalize() called twice")
        self._finalized = True
        last = self._seal(self._buffer, last=True)
        self._buffer = bytearray()
        return [last]


class StreamDecryptor:
    """Decrypts chunks strictly in order; fails for good after any error."""

    def __init__(self, dek: bytes, header: bytes, *, report_id: str, attachment_id: str) -> None:
        self._aead = AESGCM(_file_key(dek, report_id, attachment_id))
        header = _aead.require_blob(header)
        if len(header) != HEADER_BYTES or header[0] != FORMAT_VERSION:
            raise DecryptionError()
        self._header = header
        self._prefix = header[1:]
        self._next = 0
        self._finished = False
        self._failed = False

    @property
    def finished(self) -> bool:
        """True once the final chunk has been authenticated."""
        return self._finished

    def decrypt_chunk(self, index: int, sealed: bytes, is_last: bool) -> bytes:
        try:
            if self._failed or self._finished or index != self._next or index >= MAX_CHUNKS:
                raise DecryptionError()
            sealed = _aead.require_blob(sealed)
            # Sizes are fixed by the format, so check them before the AEAD.
            if is_last:
                ok_size = TAG_BYTES <= len(sealed) < SEALED_CHUNK_BYTES
            else:
                ok_size = len(sealed) == SEALED_CHUNK_BYTES
            if not ok_size:
                raise DecryptionError()
            try:
                plain = self._aead.decrypt(_nonce(self._prefix, index, is_last), sealed, self._header)
            except Exception:
                raise DecryptionError() from None
        except DecryptionError:
            self._failed = True
            raise
        self._next += 1
        self._finished = is_last
        return plain

    def finalize(self) -> None:
        """Raise DecryptionError unless the final chunk was seen (truncation)."""
        if self._failed or not self._finished:
            raise DecryptionError()


def _decrypt_all(decryptor: StreamDecryptor, chunks: Iterable[bytes]) -> Iterator[bytes]:
    # One chunk of look-ahead tells whether the current chunk must be the
    # last one: a dropped final chunk then fails (its predecessor carries
    # flag 0) and so does an appended one (the real final carries flag 1).
    iterator = iter(chunks)
    try:
        current = next(iterator)
    except StopIteration:
        raise DecryptionError() from None  # even an empty file has a final chunk
    index = 0
    for following in iterator:
        yield decryptor.decrypt_chunk(index, current, is_last=False)
        current, index = following, index + 1
    last = decryptor.decrypt_chunk(index, current, is_last=True)
    decryptor.finalize()
    if last:
        yield last


def decrypt_chunks(
    dek: bytes, header: bytes, chunks: Iterable[bytes], *, report_id: str, attachment_id: str
) -> Iterator[bytes]:
    """Plaintext pieces of `chunks` (in stored order), verified one by one.

    Every piece yielded is authentic and in place, but completeness is known
    only when the iterator ends without DecryptionError: a consumer that
    streams pieces onwards must abort (and discard) on that error.
    The header is checked at once, before iteration starts.
    """
    decryptor = StreamDecryptor(dek, header, report_id=report_id, attachment_id=attachment_id)
    return _decrypt_all(decryptor, chunks)


# --- framed file format: header || (u32 length || sealed chunk)* ---------------


def _write_all(writer: BinaryIO, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = writer.write(view)
        if written is None:  # non-blocking raw stream with no room
            raise BlockingIOError("writer would block")
        view = view[written:]


def _read_exact(reader: BinaryIO, size: int) -> bytes:
    """Up to `size` bytes; fewer only at end of stream (handles short reads)."""
    parts, remaining = [], size
    while remaining:
        data = reader.read(remaining)
        if not data:
            break
        parts.append(data)
        remaining -= len(data)
    return b"".join(parts)


def _read_frames(reader: BinaryIO) -> Iterator[bytes]:
    while True:
        prefix = _read_exact(reader, FRAME_LENGTH.size)
        if not prefix:
            return
        if len(prefix) != FRAME_LENGTH.size:
            raise DecryptionError()
        (length,) = FRAME_LENGTH.unpack(prefix)
        # Bound the length before reading so a corrupt prefix cannot make us
        # allocate gigabytes.
        if not TAG_BYTES <= length <= SEALED_CHUNK_BYTES:
            raise DecryptionError()
        sealed = _read_exact(reader, length)
        if len(sealed) != length:
            raise DecryptionError()
        yield sealed


def encrypt_stream(
    dek: bytes, reader: BinaryIO, writer: BinaryIO, *, report_id: str, attachment_id: str
) -> int:
    """Encrypt everything `reader` yields into the framed format on `writer`.

    Returns the number of plaintext bytes read.
    """
    encryptor = StreamEncryptor(dek, report_id=report_id, attachment_id=attachment_id)
    _write_all(writer, encryptor.header)
    while True:
        data = reader.read(CHUNK_SIZE)
        if not data:
            break
        for sealed in encryptor.update(data):
            _write_all(writer, FRAME_LENGTH.pack(len(sealed)) + sealed)
    for sealed in encryptor.finalize():
        _write_all(writer, FRAME_LENGTH.pack(len(sealed)) + sealed)
    return encryptor.plaintext_bytes


def decrypt_stream(
    dek: bytes, reader: BinaryIO, writer: BinaryIO, *, report_id: str, attachment_id: str
) -> int:
    """Decrypt the framed format from `reader` onto `writer`.

    Returns the number of plaintext bytes written. On DecryptionError the
    writer may already hold a verified prefix of the plaintext: discard it.
    """
    header = _read_exact(reader, HEADER_BYTES)
    decryptor = StreamDecryptor(dek, header, report_id=report_id, attachment_id=attachment_id)
    total = 0
    for plain in _decrypt_all(decryptor, _read_frames(reader)):
        _write_all(writer, plain)
        total += len(plain)
    return total
