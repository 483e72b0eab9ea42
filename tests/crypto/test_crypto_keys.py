"""Handler keys: creation, password unlock, recovery, password change."""

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import DecryptionError, ReceiptFormatError, encoding, keys, receipt
from crypto.envelope import new_data_key, unwrap_for_recipient, wrap_for_recipient
from crypto.kdf import Argon2Params

SETTINGS = settings(max_examples=25, deadline=None, database=None)
PEPPER = b"p" * 32
PARAMS = Argon2Params.TEST
USER = "user-1"


def unlock(new: keys.NewHandlerKeys, password: str, user_id: str = USER) -> bytes:
    return keys.unlock_with_password(
        password,
        user_id=user_id,
        salt=new.salt,
        verifier=new.verifier,
        wrapped_private_key=new.private_key_wrapped_by_password,
        pepper=PEPPER,
        params=PARAMS,
    )


@pytest.fixture(scope="module")
def handler():
    return keys.create_handler_keys("correct horse", USER, PEPPER, PARAMS)


def test_keypair_sizes_and_public_key_for():
    private, public = keys.generate_keypair()
    assert len(private) == 32 and len(public) == 32
    assert keys.public_key_for(private) == public
    assert keys.generate_keypair() != (private, public)


def test_new_salt():
    assert len(keys.new_salt()) == 16 and keys.new_salt() != keys.new_salt()


def test_create_and_unlock(handler):
    private = unlock(handler, "correct horse")
    assert keys.public_key_for(private) == handler.public_key
    # The unlocked key opens DEKs wrapped to the stored public key.
    dek = new_data_key()
    blob = wrap_for_recipient(dek, handler.public_key, report_id="r", recipient_id=USER, key_version=1)
    assert unwrap_for_recipient(blob, private, report_id="r", recipient_id=USER, key_version=1) == dek


def test_secrets_hidden_from_repr(handler):
    text = repr(handler)
    assert handler.recovery_key not in text
    assert repr(handler.verifier) not in text
    material = keys.derive_login("x", handler.salt, PEPPER, PARAMS)
    assert repr(material.kek) not in repr(material)


def test_wrong_password(handler):
    with pytest.raises(DecryptionError):
        unlock(handler, "correct horsE")


def test_wrapped_key_bound_to_user(handler):
    with pytest.raises(DecryptionError):
        unlock(handler, "correct horse", user_id="user-2")


def test_derive_login_splits_one_argon2_output(handler):
    a = keys.derive_login("pw", handler.salt, PEPPER, PARAMS)
    b = keys.derive_login("pw", handler.salt, PEPPER, PARAMS)
    assert a == b and len(a.verifier) == 32 and len(a.kek) == 32 and a.verifier != a.kek
    assert keys.verify_login(a.verifier, b)
    assert not keys.verify_login(a.verifier, keys.derive_login("pw2", handler.salt, PEPPER, PARAMS))
    assert not keys.verify_login(a.verifier, keys.derive_login("pw", keys.new_salt(), PEPPER, PARAMS))
    assert not keys.verify_login(a.verifier, keys.derive_login("pw", handler.salt, b"q" * 32, PARAMS))


def test_password_is_nfc_normalised():
    composed = "caf\u00e9"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    salt = keys.new_salt()
    assert keys.derive_login(composed, salt, PEPPER, PARAMS) == keys.derive_login(
        decomposed, salt, PEPPER, PARAMS
    )


def test_recovery_key_shape(handler):
    text = handler.recovery_key
    assert keys.RECOVERY_KEY_BITS == 256
    groups = text.split("-")
    assert len(groups) == 9 and all(len(g) == 6 for g in groups)
    assert len(keys.parse_recovery_key(text)) == 32


@pytest.mark.parametrize(
    "variant", [lambda t: t, str.lower, lambda t: t.replace("-", ""), lambda t: t.replace("-", " ")]
)
def test_unlock_with_recovery(handler, variant):
    private = keys.unlock_with_recovery(
        variant(handler.recovery_key), user_id=USER, wrapped_by_recovery=handler.private_key_wrapped_by_recovery
    )
    assert keys.public_key_for(private) == handler.public_key


def test_wrong_recovery_key(handler):
    other = keys.create_handler_keys("x", USER, PEPPER, PARAMS).recovery_key
    with pytest.raises(DecryptionError):
        keys.unlock_with_recovery(other, user_id=USER, wrapped_by_recovery=handler.private_key_wrapped_by_recovery)
    with pytest.raises(DecryptionError):
        keys.unlock_with_recovery(
            handler.recovery_key, user_id="user-2", wrapped_by_recovery=handler.private_key_wrapped_by_recovery
        )


def test_mistyped_recovery_key_is_a_format_error(handler):
    canonical = handler.recovery_key.replace("-", "")
    typo = canonical[:10] + ("A" if canonical[10] != "A" else "B") + canonical[11:]
    with pytest.raises(ReceiptFormatError) as info:
        keys.unlock_with_recovery(typo, user_id=USER, wrapped_by_recovery=handler.private_key_wrapped_by_recovery)
    assert info.value.reason == "checksum"
    with pytest.raises(ReceiptFormatError) as info:
        keys.parse_recovery_key(canonical[:-1])
    assert info.value.reason == "length"


def test_recovery_value_above_256_bits_rejected():
    # First character >= "G" (16) would need 257+ bits; only reachable by
    # forging the check characters, but must still not wrap silently.
    data = "G" + "0" * (keys.RECOVERY_DATA_CHARS - 1)
    with pytest.raises(ReceiptFormatError):
        keys.parse_recovery_key(encoding.with_check(data))


def test_password_change(handler):
    private = unlock(handler, "correct horse")
    salt, verifier, wrapped = keys.rewrap_for_new_password(
        private, "new battery", user_id=USER, pepper=PEPPER, params=PARAMS
    )
    assert salt != handler.salt
    changed = keys.NewHandlerKeys(
        salt=salt,
        verifier=verifier,
        public_key=handler.public_key,
        private_key_wrapped_by_password=wrapped,
        private_key_wrapped_by_recovery=handler.private_key_wrapped_by_recovery,
        recovery_key=handler.recovery_key,
    )
    assert unlock(changed, "new battery") == private
    with pytest.raises(DecryptionError):
        unlock(changed, "correct horse")
    # The recovery wrap is untouched and still opens the same key.
    assert keys.unlock_with_recovery(
        handler.recovery_key, user_id=USER, wrapped_by_recovery=handler.private_key_wrapped_by_recovery
    ) == private


def test_new_recovery_wrap(handler):
    private = unlock(handler, "correct horse")
    text, wrapped = keys.new_recovery_wrap(private, user_id=USER)
    assert text != handler.recovery_key
    assert keys.unlock_with_recovery(text, user_id=USER, wrapped_by_recovery=wrapped) == private


@SETTINGS
@given(st.text(max_size=30))
def test_any_password_round_trips(password):
    new = keys.create_handler_keys(password, USER, PEPPER, PARAMS)
    assert keys.public_key_for(unlock(new, password)) == new.public_key


def test_wrong_secrets_are_indistinguishable(handler):
    """Wrong password, wrong recovery key and wrong receipt: same type, same
    message, no chained cause that would reveal which check failed."""
    errors = []
    with pytest.raises(DecryptionError) as e1:
        unlock(handler, "wrong")
    errors.append(e1.value)

    other_recovery = keys.create_handler_keys("x", USER, PEPPER, PARAMS).recovery_key
    with pytest.raises(DecryptionError) as e2:
        keys.unlock_with_recovery(
            other_recovery, user_id=USER, wrapped_by_recovery=handler.private_key_wrapped_by_recovery
        )
    errors.append(e2.value)

    kw = dict(report_id="r", salt=b"s" * 16, pepper=PEPPER, params=PARAMS)
    blob = receipt.wrap_dek_for_reporter(new_data_key(), b"\x01" * 14, **kw)
    with pytest.raises(DecryptionError) as e3:
        receipt.unwrap_dek_for_reporter(blob, b"\x02" * 14, **kw)
    errors.append(e3.value)

    assert {type(e) for e in errors} == {DecryptionError}
    assert len({str(e) for e in errors}) == 1
    assert len({e.args for e in errors}) == 1
    assert all(e.__cause__ is None and e.__suppress_context__ for e in errors if e.__context__)


def test_unlock_accepts_memoryview_columns(handler):
    private = keys.unlock_with_password(
        "correct horse",
        user_id=USER,
        salt=memoryview(handler.salt),
        verifier=memoryview(handler.verifier),
        wrapped_private_key=memoryview(handler.private_key_wrapped_by_password),
        pepper=PEPPER,
        params=PARAMS,
    )
    assert keys.public_key_for(private) == handler.public_key
