"""STREAM attachments: round trips over sizes, and every way to tamper."""

import io
import random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crypto import DecryptionError
from crypto.envelope import new_data_key
from crypto.stream import (
    CHUNK_SIZE,
    HEADER_BYTES,
    SEALED_CHUNK_BYTES,
    StreamDecryptor,
    StreamEncryptor,
    decrypt_chunks,
    decrypt_stream,
    encrypt_stream,
)

SETTINGS = settings(max_examples=20, deadline=None, database=None)
DEK = new_data_key()
IDS = dict(report_id="rep-1", attachment_id="att-1")
MIB = 1024 * 1024


def data_of(size: int) -> bytes:
    # Random content, so that swapped chunks never decrypt to the same bytes.
    return random.Random(size).randbytes(size)


def seal(plaintext: bytes, dek: bytes = DEK, **ids) -> tuple[bytes, list[bytes]]:
    enc = StreamEncryptor(dek, **(ids or IDS))
    chunks = enc.update(plaintext) + enc.finalize()
    return enc.header, chunks


def open_all(header: bytes, chunks, dek: bytes = DEK, **ids) -> bytes:
    return b"".join(decrypt_chunks(dek, header, chunks, **(ids or IDS)))


sizes = st.one_of(
    st.integers(0, 3 * CHUNK_SIZE + 10),
    st.sampled_from([k * CHUNK_SIZE + d for k in range(1, 5) for d in (-1, 0, 1)]),
)


@SETTINGS
@given(sizes)
@example(0)
@example(1)
@example(CHUNK_SIZE - 1)
@example(CHUNK_SIZE)
@example(CHUNK_SIZE + 1)
@example(2 * CHUNK_SIZE)
@example(2 * CHUNK_SIZE + 1)
@example(3 * MIB)
@example(3 * MIB + 1)
def test_chunks_round_trip(size):
    plaintext = data_of(size)
    header, chunks = seal(plaintext)
    assert len(header) == HEADER_BYTES and header[0] == 1
    # Every chunk but the last is full; the last is shorter (maybe empty).
    assert len(chunks) == size // CHUNK_SIZE + 1
    assert all(len(c) == SEALED_CHUNK_BYTES for c in chunks[:-1])
    assert len(chunks[-1]) == size % CHUNK_SIZE + 16
    assert open_all(header, chunks) == plaintext


@SETTINGS
@given(st.integers(0, 3 * CHUNK_SIZE + 10), st.lists(st.integers(0, 2 * CHUNK_SIZE), max_size=8))
@example(2 * CHUNK_SIZE, [CHUNK_SIZE, 0, CHUNK_SIZE])
def test_incremental_updates_any_split(size, cuts):
    plaintext = data_of(size)
    enc = StreamEncryptor(DEK, **IDS)
    chunks, start = [], 0
    for cut in sorted(min(c, size) for c in cuts):
        chunks += enc.update(plaintext[start:cut])
        start = cut
    chunks += enc.update(plaintext[start:])
    chunks += enc.finalize()
    assert enc.plaintext_bytes == size
    assert open_all(enc.header, chunks) == plaintext


@SETTINGS
@given(sizes)
@example(0)
@example(CHUNK_SIZE)
@example(3 * MIB + 1)
def test_framed_stream_round_trip(size):
    plaintext = data_of(size)
    sink = io.BytesIO()
    assert encrypt_stream(DEK, io.BytesIO(plaintext), sink, **IDS) == size
    out = io.BytesIO()
    assert decrypt_stream(DEK, io.BytesIO(sink.getvalue()), out, **IDS) == size
    assert out.getvalue() == plaintext


class Trickle(io.RawIOBase):
    """A reader that returns at most 1000 bytes per read (like a socket)."""

    def __init__(self, data: bytes):
        self._data = memoryview(data)

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), 1000, len(self._data))
        buffer[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


def test_short_reads_are_handled():
    plaintext = data_of(2 * CHUNK_SIZE + 5)
    sink = io.BytesIO()
    encrypt_stream(DEK, Trickle(plaintext), sink, **IDS)
    out = io.BytesIO()
    decrypt_stream(DEK, Trickle(sink.getvalue()), out, **IDS)
    assert out.getvalue() == plaintext


def test_encryptor_misuse():
    enc = StreamEncryptor(DEK, **IDS)
    enc.finalize()
    with pytest.raises(ValueError):
        enc.update(b"x")
    with pytest.raises(ValueError):
        enc.finalize()


def test_random_prefix_per_file():
    assert seal(b"x")[0] != seal(b"x")[0]


# --- tampering ------------------------------------------------------------

THREE = data_of(2 * CHUNK_SIZE + 100)  # three chunks: full, full, short final


def expect_failure(header, chunks, **ids):
    with pytest.raises(DecryptionError):
        open_all(header, chunks, **ids)


@SETTINGS
@given(st.integers(0, 2), st.integers(0, SEALED_CHUNK_BYTES - 1), st.integers(1, 255))
def test_flip_any_byte_of_any_chunk(which, position, mask):
    header, chunks = seal(THREE)
    bad = bytearray(chunks[which])
    bad[position % len(bad)] ^= mask
    chunks[which] = bytes(bad)
    expect_failure(header, chunks)


@SETTINGS
@given(st.integers(0, HEADER_BYTES - 1), st.integers(1, 255))
def test_flip_any_byte_of_header(position, mask):
    header, chunks = seal(THREE)
    bad = bytearray(header)
    bad[position] ^= mask
    expect_failure(bytes(bad), chunks)


@pytest.mark.parametrize(
    "edit",
    [
        lambda c: [c[1], c[0], c[2]],  # swap
        lambda c: [c[0], c[2], c[1]],  # final moved into the middle
        lambda c: c[:-1],  # final dropped (truncation)
        lambda c: c[:1],
        lambda c: [c[0], c[2]],  # middle dropped
        lambda c: c + [c[2]],  # final duplicated
        lambda c: c + [c[0]],  # chunk appended after final
        lambda c: [c[0]] + c,  # chunk duplicated
        lambda c: [],  # nothing at all
    ],
)
def test_reordered_truncated_or_extended(edit):
    header, chunks = seal(THREE)
    expect_failure(header, edit(chunks))


def test_empty_file_truncation():
    header, chunks = seal(b"")
    assert len(chunks) == 1
    expect_failure(header, [])
    expect_failure(header, chunks + chunks)


@pytest.mark.parametrize("other_ids", [IDS, dict(IDS, attachment_id="att-2"), dict(IDS, report_id="rep-2")])
def test_chunk_from_another_file_same_dek(other_ids):
    header, chunks = seal(THREE)
    other_header, other_chunks = seal(data_of(3 * CHUNK_SIZE + 1), **other_ids)
    for i in range(3):
        mixed = list(chunks)
        mixed[i] = other_chunks[i]
        expect_failure(header, mixed)
    # And a whole file under another file's header or ids.
    expect_failure(other_header, chunks)
    if other_ids != IDS:
        expect_failure(header, chunks, **other_ids)


def test_wrong_dek():
    header, chunks = seal(THREE)
    expect_failure(header, chunks, dek=new_data_key())


@pytest.mark.parametrize("header", [b"", b"\x01" * 7, b"\x01" * 9, b"\x02" + b"\x00" * 7])
def test_malformed_header_fails_immediately(header):
    with pytest.raises(DecryptionError):
        decrypt_chunks(DEK, header, [], **IDS)


def test_decryptor_enforces_order_and_poisons_after_failure():
    header, chunks = seal(THREE)
    dec = StreamDecryptor(DEK, header, **IDS)
    with pytest.raises(DecryptionError):
        dec.decrypt_chunk(1, chunks[1], is_last=False)
    # Even the right chunk is refused once a failure was seen.
    with pytest.raises(DecryptionError):
        dec.decrypt_chunk(0, chunks[0], is_last=False)

    dec = StreamDecryptor(DEK, header, **IDS)
    assert dec.decrypt_chunk(0, chunks[0], is_last=False) == THREE[:CHUNK_SIZE]
    with pytest.raises(DecryptionError):
        dec.finalize()  # not finished yet: truncated
    with pytest.raises(DecryptionError):
        dec.decrypt_chunk(1, chunks[1], is_last=True)  # wrong flag


def test_decryptor_refuses_after_final():
    header, chunks = seal(b"abc")
    dec = StreamDecryptor(DEK, header, **IDS)
    assert dec.decrypt_chunk(0, chunks[0], is_last=True) == b"abc"
    assert dec.finished
    dec.finalize()
    with pytest.raises(DecryptionError):
        dec.decrypt_chunk(1, chunks[0], is_last=True)


@SETTINGS
@given(st.data())
def test_framed_file_truncated_anywhere(data):
    sink = io.BytesIO()
    encrypt_stream(DEK, io.BytesIO(data_of(CHUNK_SIZE + 10)), sink, **IDS)
    blob = sink.getvalue()
    cut = data.draw(st.integers(0, len(blob) - 1))
    with pytest.raises(DecryptionError):
        decrypt_stream(DEK, io.BytesIO(blob[:cut]), io.BytesIO(), **IDS)


@SETTINGS
@given(st.data(), st.integers(1, 255))
def test_framed_file_flip_any_byte(data, mask):
    sink = io.BytesIO()
    encrypt_stream(DEK, io.BytesIO(data_of(CHUNK_SIZE + 10)), sink, **IDS)
    bad = bytearray(sink.getvalue())
    bad[data.draw(st.integers(0, len(bad) - 1))] ^= mask
    with pytest.raises(DecryptionError):
        decrypt_stream(DEK, io.BytesIO(bytes(bad)), io.BytesIO(), **IDS)


def test_framed_file_trailing_garbage_and_huge_length():
    sink = io.BytesIO()
    encrypt_stream(DEK, io.BytesIO(b"hello"), sink, **IDS)
    blob = sink.getvalue()
    for extra in (b"\x00", b"\x00\x00\x00\x10" + b"\x00" * 16, b"\xff\xff\xff\xff"):
        with pytest.raises(DecryptionError):
            decrypt_stream(DEK, io.BytesIO(blob + extra), io.BytesIO(), **IDS)
