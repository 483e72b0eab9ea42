"""Argon2id parameters, HKDF labels and the context encoding."""

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import kdf
from crypto.kdf import Argon2Params, argon2id, encode_context, hkdf

SETTINGS = settings(max_examples=60, deadline=None, database=None)
PEPPER = b"p" * 32
SALT = b"s" * 16


def test_production_parameters_meet_design_minimums():
    prod = Argon2Params.PRODUCTION
    assert prod.memory_kib >= 64 * 1024 and prod.iterations >= 3 and prod.lanes == 1
    assert not prod.is_weak


@pytest.mark.parametrize(
    "params", [Argon2Params.TEST, Argon2Params(65535, 3), Argon2Params(65536, 2)]
)
def test_weak_parameters_are_flagged(params):
    assert params.is_weak


def test_stronger_than_production_is_not_weak():
    assert not Argon2Params(2 * 65536, 4, 2).is_weak


@pytest.mark.parametrize("args", [(7, 1, 1), (8, 0, 1), (8, 1, 0), (15, 1, 2), (8.0, 1, 1)])
def test_invalid_parameters_rejected(args):
    with pytest.raises(ValueError):
        Argon2Params(*args)


def test_params_are_frozen():
    with pytest.raises(AttributeError):
        Argon2Params.TEST.memory_kib = 1  # type: ignore[misc]


def test_argon2id_is_deterministic_and_depends_on_every_input():
    base = argon2id(b"secret", SALT, PEPPER, Argon2Params.TEST)
    assert len(base) == 32
    assert base == argon2id(b"secret", SALT, PEPPER, Argon2Params.TEST)
    assert base != argon2id(b"secreT", SALT, PEPPER, Argon2Params.TEST)
    assert base != argon2id(b"secret", b"t" * 16, PEPPER, Argon2Params.TEST)
    assert base != argon2id(b"secret", SALT, b"q" * 32, Argon2Params.TEST)
    assert base != argon2id(b"secret", SALT, PEPPER, Argon2Params(16, 1))
    assert len(argon2id(b"secret", SALT, PEPPER, Argon2Params.TEST, length=64)) == 64


def test_argon2id_requires_salt_and_pepper_sizes():
    with pytest.raises(ValueError):
        argon2id(b"x", b"s" * 15, PEPPER, Argon2Params.TEST)
    with pytest.raises(ValueError):
        argon2id(b"x", SALT, b"p" * 31, Argon2Params.TEST)
    with pytest.raises(TypeError):
        argon2id("x", SALT, PEPPER, Argon2Params.TEST)  # type: ignore[arg-type]


def test_hkdf_labels_separate_and_registry_enforced():
    key = b"k" * 32
    outputs = {hkdf(key, label) for label in kdf.LABELS}
    assert len(outputs) == len(kdf.LABELS)
    assert hkdf(key, "field", b"a") != hkdf(key, "field", b"b")
    assert len(hkdf(key, "field", length=64)) == 64
    with pytest.raises(ValueError):
        hkdf(key, "not-registered")
    with pytest.raises(ValueError):
        hkdf(b"short", "field")


def test_encode_context_known_answer():
    assert encode_context("ab", b"\x00", 1, "é") == (
        b"\x00\x02ab" + b"\x00\x01\x00" + b"\x00\x08" + (1).to_bytes(8, "big") + b"\x00\x02\xc3\xa9"
    )
    assert encode_context() == b""


@pytest.mark.parametrize("bad", [True, 1.5, None, -1, 2**64, "x" * 65536])
def test_encode_context_rejects_bad_parts(bad):
    with pytest.raises((TypeError, ValueError)):
        encode_context(bad)


def _decode(encoded: bytes) -> list[bytes]:
    parts, i = [], 0
    while i < len(encoded):
        (n,) = struct.unpack_from(">H", encoded, i)
        parts.append(encoded[i + 2 : i + 2 + n])
        i += 2 + n
    assert i == len(encoded)
    return parts


parts_strategy = st.lists(st.one_of(st.binary(max_size=40), st.text(max_size=20)), max_size=6)


@SETTINGS
@given(parts_strategy, parts_strategy)
def test_encode_context_is_injective(a, b):
    def as_bytes(parts):
        return [p.encode() if isinstance(p, str) else p for p in parts]

    ea, eb = encode_context(*a), encode_context(*b)
    assert _decode(ea) == as_bytes(a)
    if as_bytes(a) != as_bytes(b):
        assert ea != eb
