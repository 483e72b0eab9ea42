"""Receipts: format, forgiving parsing, checksum, entropy, reporter key wrap."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crypto import DecryptionError, ReceiptFormatError, encoding, receipt
from crypto.envelope import new_data_key
from crypto.kdf import Argon2Params

SETTINGS = settings(max_examples=60, deadline=None, database=None)
PEPPER = b"p" * 32
SALT = b"s" * 16

receipt_values = st.integers(0, 2 ** (receipt.SELECTOR_BITS + receipt.SECRET_BITS) - 1)


def make_receipt(value: int) -> str:
    data = encoding.encode_int(value, receipt.DATA_CHARS)
    return receipt.format_receipt(encoding.with_check(data))


def test_spec_constants():
    assert receipt.SECRET_BITS >= 100
    assert receipt.SELECTOR_CHARS == 8 and receipt.SECRET_CHARS == 22
    assert receipt.RECEIPT_CHARS == 32
    assert encoding.ALPHABET == "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def test_new_receipt_shape():
    text = receipt.new_receipt()
    groups = text.split("-")
    assert len(groups) == 8 and all(len(g) == 4 for g in groups)
    assert set(text.replace("-", "")) <= set(encoding.ALPHABET)
    parts = receipt.parse_receipt(text)
    assert len(parts.selector) == 8 and len(parts.secret) == 14
    assert parts.secret[0] < 64  # 110 bits in 14 bytes: top 2 bits zero


def test_receipts_are_distinct():
    made = [receipt.new_receipt() for _ in range(1000)]
    assert len(set(made)) == 1000
    assert len({receipt.parse_receipt(r).secret for r in made}) == 1000


def test_secret_hidden_from_repr():
    parts = receipt.parse_receipt(receipt.new_receipt())
    assert parts.secret.hex() not in repr(parts) and repr(parts.secret) not in repr(parts)


@SETTINGS
@given(receipt_values)
@example(0)
@example(2**150 - 1)
def test_parse_format_round_trip(value):
    text = make_receipt(value)
    parts = receipt.parse_receipt(text)
    assert encoding.decode_int(parts.selector) == value >> 110
    assert int.from_bytes(parts.secret, "big") == value & (2**110 - 1)
    assert receipt.format_receipt(text.replace("-", "")) == text


# A receipt with both 0 and 1 in it, so the look-alike mappings are exercised.
KNOWN = make_receipt(encoding.decode_int("01" * 15))


@pytest.mark.parametrize(
    "variant",
    [
        lambda t: t.lower(),
        lambda t: t.replace("-", " "),
        lambda t: t.replace("-", ""),
        lambda t: t.replace("-", "_"),
        lambda t: t.replace("-", "."),
        lambda t: t.replace("-", "\u2013"),  # en dash from a word processor
        lambda t: "  " + t.replace("-", "\t") + "\n",
        lambda t: t.replace("-", "\u00a0"),  # non-breaking space
        lambda t: t.replace("0", "O"),
        lambda t: t.replace("0", "o"),
        lambda t: t.replace("1", "I"),
        lambda t: t.replace("1", "i"),
        lambda t: t.replace("1", "L"),
        lambda t: t.replace("1", "l").lower().replace("-", ""),
        lambda t: " ".join(t.replace("-", "")),
    ],
)
def test_forgiving_variants_parse_to_same_parts(variant):
    assert "0" in KNOWN and "1" in KNOWN
    assert receipt.parse_receipt(variant(KNOWN)) == receipt.parse_receipt(KNOWN)


@SETTINGS
@given(receipt_values, st.data())
def test_random_forgiving_variants(value, data):
    text = make_receipt(value)
    lookalike = {"0": "Oo", "1": "IiLl"}
    out = []
    for ch in text:
        if ch == "-":
            ch = data.draw(st.sampled_from(["-", "", " ", "  ", "_", "."]))
        elif ch in lookalike:
            ch = data.draw(st.sampled_from(ch + lookalike[ch]))
        elif data.draw(st.booleans()):
            ch = ch.lower()
        out.append(ch)
    assert receipt.parse_receipt("".join(out)) == receipt.parse_receipt(text)


@pytest.mark.parametrize(
    "text",
    [KNOWN[:-1], KNOWN + "0", "", "----", KNOWN.replace("-", "")[:31], KNOWN + KNOWN],
)
def test_wrong_length(text):
    with pytest.raises(ReceiptFormatError) as info:
        receipt.parse_receipt(text)
    assert info.value.reason == "length"


@pytest.mark.parametrize("bad", ["U", "u", "*", "ß", "é", "Ｏ", "+", ",", "/"])
def test_invalid_characters(bad):
    text = KNOWN[:5] + bad + KNOWN[6:]
    with pytest.raises(ReceiptFormatError) as info:
        receipt.parse_receipt(text)
    assert info.value.reason == "characters"
    assert isinstance(info.value, ValueError)


@SETTINGS
@given(receipt_values, st.integers(0, 31), st.integers(1, 31))
def test_any_single_substitution_fails_checksum(value, position, delta):
    canonical = make_receipt(value).replace("-", "")
    old = encoding.ALPHABET.index(canonical[position])
    changed = canonical[:position] + encoding.ALPHABET[(old + delta) % 32] + canonical[position + 1 :]
    with pytest.raises(ReceiptFormatError) as info:
        receipt.parse_receipt(changed)
    assert info.value.reason == "checksum"


@SETTINGS
@given(receipt_values, st.integers(0, 28))
def test_any_adjacent_swap_in_data_fails_checksum(value, position):
    canonical = make_receipt(value).replace("-", "")
    a, b = canonical[position], canonical[position + 1]
    if a == b:
        return
    swapped = canonical[:position] + b + a + canonical[position + 2 :]
    with pytest.raises(ReceiptFormatError) as info:
        receipt.parse_receipt(swapped)
    assert info.value.reason == "checksum"


def test_reporter_wrap_round_trip_and_wrong_secret():
    dek = new_data_key()
    parts = receipt.parse_receipt(receipt.new_receipt())
    kw = dict(salt=SALT, pepper=PEPPER, params=Argon2Params.TEST)
    blob = receipt.wrap_dek_for_reporter(dek, parts.secret, report_id="r1", **kw)
    assert receipt.unwrap_dek_for_reporter(blob, parts.secret, report_id="r1", **kw) == dek
    other = receipt.parse_receipt(receipt.new_receipt())
    with pytest.raises(DecryptionError):
        receipt.unwrap_dek_for_reporter(blob, other.secret, report_id="r1", **kw)
    with pytest.raises(DecryptionError):
        receipt.unwrap_dek_for_reporter(blob, parts.secret, report_id="r2", **kw)
    with pytest.raises(DecryptionError):
        receipt.unwrap_dek_for_reporter(
            blob, parts.secret, report_id="r1", salt=b"t" * 16, pepper=PEPPER,
            params=Argon2Params.TEST,
        )
    with pytest.raises(DecryptionError):
        receipt.unwrap_dek_for_reporter(
            blob, parts.secret, report_id="r1", salt=SALT, pepper=b"q" * 32,
            params=Argon2Params.TEST,
        )


def test_reporter_key_is_32_bytes_and_depends_on_secret():
    a = receipt.reporter_key(b"\x01" * 14, SALT, PEPPER, Argon2Params.TEST)
    b = receipt.reporter_key(b"\x02" * 14, SALT, PEPPER, Argon2Params.TEST)
    assert len(a) == 32 and a != b
