"""The trust anchor's signatures: only a pinned key's exact statement verifies."""
import dataclasses
import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from crypto import anchor
from crypto.kdf import encode_context

DAY = dt.date(2026, 12, 2)


@pytest.fixture
def keys():
    return anchor.generate_anchor_key()


def statement(**changes):
    base = anchor.RecipientStatement(user_id="u1", channel_id="c1", public_key=bytes(range(32)), key_version=2,
                                     not_before=DAY, not_after=None, display_name="Anna Lind")
    return dataclasses.replace(base, **changes)


def test_a_signed_statement_verifies_with_the_pinned_key(keys):
    private, public = keys
    signature = anchor.sign_statement(private, statement())
    assert len(signature) == anchor.SIGNED_BYTES and signature[0] == 1
    assert signature[1:9] == anchor.key_id(public)
    assert anchor.verify_statement([public], statement(), signature, on=DAY)


@pytest.mark.parametrize("change", [
    {"user_id": "u2"}, {"channel_id": "c2"}, {"public_key": bytes(32)}, {"key_version": 3},
    {"not_before": DAY - dt.timedelta(days=1)}, {"not_after": DAY + dt.timedelta(days=30)},
])
def test_any_other_statement_does_not_verify(keys, change):
    private, public = keys
    signature = anchor.sign_statement(private, statement())
    assert not anchor.verify_statement([public], statement(**change), signature, on=DAY)


def test_an_unpinned_key_or_a_tampered_signature_does_not_verify(keys):
    private, public = keys
    other_private, other_public = anchor.generate_anchor_key()
    forged = anchor.sign_statement(other_private, statement())
    assert not anchor.verify_statement([public], statement(), forged, on=DAY)
    genuine = anchor.sign_statement(private, statement())
    for index in (0, 1, 20, len(genuine) - 1):
        flipped = bytearray(genuine)
        flipped[index] ^= 1
        assert not anchor.verify_statement([public], statement(), bytes(flipped), on=DAY)
    assert not anchor.verify_statement([public], statement(), genuine[:-1], on=DAY)
    assert not anchor.verify_statement([], statement(), genuine, on=DAY)
    # Rotation: both pinned, either signs.
    assert anchor.verify_statement([other_public, public], statement(), genuine, on=DAY)


def test_a_statement_is_valid_only_in_its_period(keys):
    private, public = keys
    bounded = statement(not_after=DAY + dt.timedelta(days=10))
    signature = anchor.sign_statement(private, bounded)
    assert anchor.verify_statement([public], bounded, signature, on=DAY + dt.timedelta(days=10))
    assert not anchor.verify_statement([public], bounded, signature, on=DAY + dt.timedelta(days=11))
    assert not anchor.verify_statement([public], bounded, signature, on=DAY - dt.timedelta(days=1))


def test_the_format_is_the_documented_one(keys):
    """docs/crypto.md, 10: version || key id || Ed25519 over ctx(label, fields)."""
    private, public = keys
    signed = anchor.sign_statement(private, statement())
    message = encode_context("tillit/v1/recipient-named", "u1", "c1", bytes(range(32)), 2, "2026-12-02", "",
                             "Anna Lind")
    Ed25519PublicKey.from_public_bytes(public).verify(signed[9:], message)  # raises if not
    import hashlib
    assert signed[1:9] == hashlib.sha256(encode_context("tillit/v1/anchor-key-id", public)).digest()[:8]


def test_audit_heads_are_signed_over_every_lane(keys):
    private, public = keys
    heads = [(0, 10, b"a" * 32), (1, 4, b"b" * 32)]
    at = "2026-12-02T20:00:00.000000"
    signature = anchor.sign_audit_head(private, heads, at)
    assert anchor.verify_audit_head([public], list(reversed(heads)), at, signature)
    assert not anchor.verify_audit_head([public], [(0, 10, b"a" * 32), (1, 3, b"b" * 32)], at, signature)
    assert not anchor.verify_audit_head([public], heads[:1], at, signature)
    assert not anchor.verify_audit_head([public], heads, "2026-12-02T19:00:00.000000", signature)  # the time is signed
    # A statement's signature is not a head's, nor the other way round.
    assert not anchor.verify_statement([public], statement(), signature, on=DAY)


def test_fingerprints_are_short_stable_and_differ():
    one, two = anchor.fingerprint(bytes(32)), anchor.fingerprint(bytes(31) + b"\x01")
    assert one == anchor.fingerprint(bytes(32)) and one != two
    assert len(one) == 19 and one.count("-") == 3
    assert set(one.replace("-", "")) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def test_a_private_key_of_the_wrong_size_is_refused():
    with pytest.raises(ValueError):
        anchor.public_key_for(b"\x00" * 31)
