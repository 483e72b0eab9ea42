"""Session secrets split between cookie and server."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import DecryptionError
from crypto.session import open_session_secret, seal_session_secret

SETTINGS = settings(max_examples=50, deadline=None, database=None)
SECRET = b"\x07" * 32


def test_round_trip():
    cookie_key, blob = seal_session_secret(SECRET, session_id="s1", purpose="handler-key")
    assert len(cookie_key) == 32 and SECRET not in blob and cookie_key not in blob
    assert open_session_secret(cookie_key, blob, session_id="s1", purpose="handler-key") == SECRET


def test_fresh_cookie_key_each_time():
    a = seal_session_secret(SECRET, session_id="s1", purpose="handler-key")
    b = seal_session_secret(SECRET, session_id="s1", purpose="handler-key")
    assert a[0] != b[0] and a[1] != b[1]


@pytest.mark.parametrize(
    "change",
    [
        dict(session_id="s2"),
        dict(purpose="reporter-dek"),
        dict(cookie_key=b"\x00" * 32),
        dict(cookie_key=b"short"),
        dict(cookie_key=b""),
        dict(cookie_key="not bytes"),
    ],
)
def test_binding(change):
    cookie_key, blob = seal_session_secret(SECRET, session_id="s1", purpose="handler-key")
    args = dict(cookie_key=cookie_key, session_id="s1", purpose="handler-key") | change
    with pytest.raises(DecryptionError):
        open_session_secret(args.pop("cookie_key"), blob, **args)


def test_blob_from_another_session_with_its_cookie_fails():
    k1, b1 = seal_session_secret(SECRET, session_id="s1", purpose="handler-key")
    k2, b2 = seal_session_secret(SECRET, session_id="s2", purpose="handler-key")
    with pytest.raises(DecryptionError):
        open_session_secret(k1, b2, session_id="s2", purpose="handler-key")
    with pytest.raises(DecryptionError):
        open_session_secret(k2, b1, session_id="s1", purpose="handler-key")


@SETTINGS
@given(st.integers(0, 10**6), st.integers(1, 255))
def test_tamper_any_byte(position, mask):
    cookie_key, blob = seal_session_secret(SECRET, session_id="s1", purpose="handler-key")
    bad = bytearray(blob)
    bad[position % len(bad)] ^= mask
    with pytest.raises(DecryptionError):
        open_session_secret(cookie_key, bytes(bad), session_id="s1", purpose="handler-key")


def test_memoryview_inputs():
    cookie_key, blob = seal_session_secret(SECRET, session_id="s1", purpose="handler-key")
    assert open_session_secret(memoryview(cookie_key), memoryview(blob),
                               session_id="s1", purpose="handler-key") == SECRET
