"""Crockford base32 codes for humans: receipts and recovery keys.

A code is some data characters followed by two check characters. Input is
parsed forgivingly (case, separators, O/0, I/L/1) because people copy codes
from paper; the check characters catch typing mistakes before any expensive
or secret-dependent work is done.
"""

from __future__ import annotations

from .errors import ReceiptFormatError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
BITS_PER_CHAR = 5
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}

CHECK_CHARS = 2
# Largest prime below 32**2. Weighted sum mod a prime larger than both every
# weight and every digit difference: any single substituted data character
# and any swap of two adjacent data characters changes the check value.
CHECK_MODULUS = 1021

# Characters dropped when parsing, besides all Unicode whitespace: the ones
# people use (or word processors substitute) to group a code.
_SEPARATORS = frozenset("-_.\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def encode_int(value: int, chars: int) -> str:
    """`value` as exactly `chars` base32 digits, most significant first."""
    if not 0 <= value < 1 << (BITS_PER_CHAR * chars):
        raise ValueError("value does not fit")
    return "".join(
        ALPHABET[(value >> (BITS_PER_CHAR * (chars - 1 - i))) & 31] for i in range(chars)
    )


def decode_int(text: str) -> int:
    """Inverse of encode_int for canonical (upper-case, alphabet-only) text."""
    value = 0
    for ch in text:
        value = (value << BITS_PER_CHAR) | _VALUE[ch]
    return value


def check_chars(data: str) -> str:
    """Two check characters: sum((i+1) * digit_i) mod 1021 over the data digits."""
    total = sum((i + 1) * _VALUE[ch] for i, ch in enumerate(data)) % CHECK_MODULUS
    return encode_int(total, CHECK_CHARS)


def with_check(data: str) -> str:
    return data + check_chars(data)


def normalise(text: str) -> str:
    """Drop separators and whitespace, upper-case, map O->0 and I/L->1.

    Raises ReceiptFormatError("characters") for anything left outside the
    alphabet (including U, which Crockford reserves).
    """
    if not isinstance(text, str):
        raise TypeError("code must be a str")
    kept = "".join(ch for ch in text if not ch.isspace() and ch not in _SEPARATORS)
    # ASCII check before upper(): Unicode case mapping can change lengths
    # (e.g. "ß" -> "SS") or turn odd letters into alphabet ones.
    if not kept.isascii():
        raise ReceiptFormatError("characters")
    canonical = kept.upper().translate(_LOOKALIKES)
    if any(ch not in _VALUE for ch in canonical):
        raise ReceiptFormatError("characters")
    return canonical


def parse_code(text: str, data_chars: int) -> str:
    """Normalise `text` and verify length and check characters.

    Returns the canonical data characters (without the check characters).
    """
    canonical = normalise(text)
    if len(canonical) != data_chars + CHECK_CHARS:
        raise ReceiptFormatError("length")
    data, check = canonical[:data_chars], canonical[data_chars:]
    if check_chars(data) != check:
        raise ReceiptFormatError("checksum")
    return data


def group(canonical: str, size: int, sep: str = "-") -> str:
    """Split into groups of `size` characters for display."""
    return sep.join(canonical[i : i + size] for i in range(0, len(canonical), size))
