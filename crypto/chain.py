"""Hash chains authenticated under a report's data key: each link is an
HMAC over its own fields and the previous link, and a head (the number of
links and the last one) closes the chain. Whoever lacks the key can neither
change a linked field, remove, insert or reorder a link, nor move one to
another report, without the chain failing to verify. Formats: docs/crypto.md, 11.
"""
from __future__ import annotations

import hashlib
import hmac

from . import _aead
from .kdf import LABEL_CHAIN, encode_context, hkdf

MAC_BYTES = 32
GENESIS = bytes(MAC_BYTES)  # the "previous link" of the first one


def chain_key(dek: bytes, *, report_id: str, chain: str) -> bytes:
    """The MAC key of one chain (e.g. "dialogue", "timeline") of one report."""
    _aead.require_ids(report_id=report_id, chain=chain)
    return hkdf(_aead.require_key("dek", dek), LABEL_CHAIN, encode_context(report_id, chain))


def link(key: bytes, previous: bytes, *fields: str | bytes | int) -> bytes:
    """HMAC-SHA256(key, ctx("link", previous, fields...))."""
    return hmac.new(key, encode_context("link", bytes(previous), *fields), hashlib.sha256).digest()


def head(key: bytes, count: int, last: bytes) -> bytes:
    """HMAC-SHA256(key, ctx("head", count, last)): how long the chain is and where it ends."""
    return hmac.new(key, encode_context("head", count, bytes(last)), hashlib.sha256).digest()


def same(expected: bytes, stored: bytes | None) -> bool:
    return stored is not None and hmac.compare_digest(expected, bytes(stored))


def digest(blob: bytes) -> bytes:
    """SHA-256 of a ciphertext, so a link covers it without repeating it."""
    return hashlib.sha256(bytes(blob)).digest()
