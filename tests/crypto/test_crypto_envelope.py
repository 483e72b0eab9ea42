"""Field encryption, HPKE recipient/escrow wraps and symmetric wraps."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crypto import DecryptionError
from crypto.envelope import (
    decrypt_field,
    encrypt_field,
    new_data_key,
    unwrap_for_escrow,
    unwrap_for_recipient,
    unwrap_symmetric,
    wrap_for_escrow,
    wrap_for_recipient,
    wrap_symmetric,
)
from crypto.keys import generate_keypair

SETTINGS = settings(max_examples=60, deadline=None, database=None)
LOC = dict(report_id="rep-1", row_id="msg-7", field="body")
DEK = new_data_key()
KEK = b"\x42" * 32
A_PRIV, A_PUB = generate_keypair()
B_PRIV, B_PUB = generate_keypair()
ESCROW_PRIV, ESCROW_PUB = generate_keypair()
RCPT = dict(report_id="rep-1", recipient_id="handler-a", key_version=1)


def flip(blob: bytes, position: int, mask: int) -> bytes:
    out = bytearray(blob)
    out[position % len(out)] ^= mask
    return bytes(out)


# --- fields ---------------------------------------------------------------


@SETTINGS
@given(st.binary(max_size=5000))
@example(b"")
def test_field_round_trip(plaintext):
    blob = encrypt_field(DEK, plaintext, **LOC)
    assert len(blob) == 1 + 12 + len(plaintext) + 16
    assert blob[0] == 1
    assert decrypt_field(DEK, blob, **LOC) == plaintext


def test_field_nonces_are_random():
    assert encrypt_field(DEK, b"same", **LOC) != encrypt_field(DEK, b"same", **LOC)


@pytest.mark.parametrize(
    "moved",
    [
        dict(LOC, report_id="rep-2"),
        dict(LOC, row_id="msg-8"),
        dict(LOC, field="title"),
        # Boundaries between parts are unambiguous: shifting a character
        # from one id to the next is a different location.
        dict(LOC, report_id="rep-1m", row_id="sg-7"),
    ],
)
def test_field_cannot_move(moved):
    blob = encrypt_field(DEK, b"secret text", **LOC)
    with pytest.raises(DecryptionError):
        decrypt_field(DEK, blob, **moved)


def test_field_wrong_dek():
    blob = encrypt_field(DEK, b"secret text", **LOC)
    with pytest.raises(DecryptionError):
        decrypt_field(new_data_key(), blob, **LOC)


@SETTINGS
@given(st.binary(max_size=64), st.integers(0, 10**6), st.integers(1, 255))
def test_field_tamper_any_byte(plaintext, position, mask):
    blob = encrypt_field(DEK, plaintext, **LOC)
    with pytest.raises(DecryptionError):
        decrypt_field(DEK, flip(blob, position, mask), **LOC)


def test_field_truncated_or_extended():
    blob = encrypt_field(DEK, b"hello", **LOC)
    for cut in range(len(blob)):
        with pytest.raises(DecryptionError):
            decrypt_field(DEK, blob[:cut], **LOC)
    with pytest.raises(DecryptionError):
        decrypt_field(DEK, blob + b"\x00", **LOC)


@pytest.mark.parametrize("version", [0, 2, 255])
def test_field_unknown_version(version):
    blob = encrypt_field(DEK, b"hello", **LOC)
    with pytest.raises(DecryptionError):
        decrypt_field(DEK, bytes([version]) + blob[1:], **LOC)


def test_field_argument_errors_are_not_decryption_errors():
    with pytest.raises(ValueError):
        encrypt_field(b"short", b"x", **LOC)
    with pytest.raises(TypeError):
        encrypt_field(DEK, b"x", report_id=1, row_id="r", field="f")  # type: ignore[arg-type]


# --- recipients -----------------------------------------------------------


def test_recipient_round_trip_and_layout():
    blob = wrap_for_recipient(DEK, A_PUB, **RCPT)
    assert len(blob) == 1 + 32 + 32 + 16 and blob[0] == 1
    assert unwrap_for_recipient(blob, A_PRIV, **RCPT) == DEK
    # HPKE is randomised: a fresh ephemeral key each time.
    assert wrap_for_recipient(DEK, A_PUB, **RCPT) != blob


@pytest.mark.parametrize(
    "key,params",
    [
        (B_PRIV, RCPT),  # another handler
        (B_PRIV, dict(RCPT, recipient_id="handler-b")),
        (A_PRIV, dict(RCPT, report_id="rep-2")),
        (A_PRIV, dict(RCPT, key_version=2)),
        (A_PRIV, dict(RCPT, recipient_id="handler-b")),
    ],
    ids=["other-key", "other-key-and-id", "other-report", "other-key-version", "other-recipient-id"],
)
def test_recipient_binding(key, params):
    blob = wrap_for_recipient(DEK, A_PUB, **RCPT)
    with pytest.raises(DecryptionError):
        unwrap_for_recipient(blob, key, **params)


@SETTINGS
@given(st.integers(0, 10**6), st.integers(1, 255))
def test_recipient_tamper_any_byte(position, mask):
    blob = wrap_for_recipient(DEK, A_PUB, **RCPT)
    with pytest.raises(DecryptionError):
        unwrap_for_recipient(flip(blob, position, mask), A_PRIV, **RCPT)


@pytest.mark.parametrize(
    "blob",
    [b"", b"\x01", b"\x01" + b"\x00" * 80, b"\x02" + b"\x00" * 80],
    ids=["empty", "version-only", "zeros", "bad-version"],
)
def test_recipient_garbage(blob):
    with pytest.raises(DecryptionError):
        unwrap_for_recipient(blob, A_PRIV, **RCPT)


def test_recipient_truncated():
    blob = wrap_for_recipient(DEK, A_PUB, **RCPT)
    for cut in range(len(blob)):
        with pytest.raises(DecryptionError):
            unwrap_for_recipient(blob[:cut], A_PRIV, **RCPT)


def test_escrow_round_trip_and_separation():
    blob = wrap_for_escrow(DEK, ESCROW_PUB, report_id="rep-1")
    assert unwrap_for_escrow(blob, ESCROW_PRIV, report_id="rep-1") == DEK
    with pytest.raises(DecryptionError):
        unwrap_for_escrow(blob, ESCROW_PRIV, report_id="rep-2")
    with pytest.raises(DecryptionError):
        unwrap_for_escrow(blob, A_PRIV, report_id="rep-1")
    with pytest.raises(DecryptionError):
        unwrap_for_escrow(blob, ESCROW_PRIV, report_id="rep-1", key_version=1)
    # A handler account named "escrow" can never stand in for the escrow key.
    with pytest.raises(DecryptionError):
        unwrap_for_recipient(blob, ESCROW_PRIV, report_id="rep-1", recipient_id="escrow", key_version=0)
    as_recipient = wrap_for_recipient(DEK, ESCROW_PUB, report_id="rep-1", recipient_id="escrow", key_version=0)
    with pytest.raises(DecryptionError):
        unwrap_for_escrow(as_recipient, ESCROW_PRIV, report_id="rep-1")


@SETTINGS
@given(st.integers(0, 10**6), st.integers(1, 255))
def test_escrow_tamper_any_byte(position, mask):
    blob = wrap_for_escrow(DEK, ESCROW_PUB, report_id="rep-1")
    with pytest.raises(DecryptionError):
        unwrap_for_escrow(flip(blob, position, mask), ESCROW_PRIV, report_id="rep-1")


# --- symmetric wraps ------------------------------------------------------


@SETTINGS
@given(st.binary(max_size=200), st.text(min_size=1, max_size=20), st.lists(st.text(max_size=10), max_size=4))
def test_symmetric_round_trip(secret, purpose, context):
    blob = wrap_symmetric(secret, KEK, purpose=purpose, context=tuple(context))
    assert unwrap_symmetric(blob, KEK, purpose=purpose, context=tuple(context)) == secret


@pytest.mark.parametrize(
    "kek,purpose,context",
    [
        (b"\x43" * 32, "receipt", ("rep-1",)),
        (KEK, "handler-key", ("rep-1",)),
        (KEK, "receipt", ("rep-2",)),
        (KEK, "receipt", ()),
        (KEK, "receipt", ("rep-1", "")),
        (KEK, "receipt", ("rep", "-1")),
    ],
    ids=["other-kek", "other-purpose", "other-report", "no-context", "extra-part", "split-part"],
)
def test_symmetric_binding(kek, purpose, context):
    blob = wrap_symmetric(DEK, KEK, purpose="receipt", context=("rep-1",))
    with pytest.raises(DecryptionError):
        unwrap_symmetric(blob, kek, purpose=purpose, context=context)


@SETTINGS
@given(st.integers(0, 10**6), st.integers(1, 255))
def test_symmetric_tamper_any_byte(position, mask):
    blob = wrap_symmetric(DEK, KEK, purpose="receipt", context=("rep-1",))
    with pytest.raises(DecryptionError):
        unwrap_symmetric(flip(blob, position, mask), KEK, purpose="receipt", context=("rep-1",))


def test_symmetric_rejects_str_as_context():
    with pytest.raises(TypeError):
        wrap_symmetric(DEK, KEK, purpose="receipt", context="rep-1")  # type: ignore[arg-type]


def test_memoryview_inputs_from_database_drivers():
    # psycopg returns bytea columns as memoryview: every stored input must work.
    blob = encrypt_field(DEK, b"x", **LOC)
    assert decrypt_field(memoryview(DEK), memoryview(blob), **LOC) == b"x"
    wrapped = wrap_for_recipient(DEK, memoryview(A_PUB), **RCPT)
    assert unwrap_for_recipient(memoryview(wrapped), memoryview(A_PRIV), **RCPT) == DEK
    sym = wrap_symmetric(DEK, KEK, purpose="p", context=("c",))
    assert unwrap_symmetric(memoryview(sym), memoryview(KEK), purpose="p", context=("c",)) == DEK
