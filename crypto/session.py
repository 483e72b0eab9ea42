"""Server-side session secrets split between the database and the cookie.

The unlocked secret (a handler's private key, a reporter's DEK) is stored
server-side only encrypted under a random key that lives only in the
client's cookie: a database dump alone or a cookie alone decrypts nothing.
"""

from __future__ import annotations

import secrets

from . import _aead
from .envelope import unwrap_symmetric, wrap_symmetric
from .errors import DecryptionError

COOKIE_KEY_BYTES = 32
WRAP_PURPOSE = "session"


def seal_session_secret(secret: bytes, *, session_id: str, purpose: str) -> tuple[bytes, bytes]:
    """(cookie_key, sealed_blob). Put cookie_key only in the (HttpOnly) cookie
    and sealed_blob only in the server-side session store. `purpose` (e.g.
    "handler-key", "reporter-dek") keeps one kind of secret from being opened
    as another; session_id keeps a blob from being moved to another session."""
    cookie_key = secrets.token_bytes(COOKIE_KEY_BYTES)
    return cookie_key, seal_under_key(secret, cookie_key, session_id=session_id, purpose=purpose)


def seal_under_key(secret: bytes, client_key: bytes, *, session_id: str, purpose: str) -> bytes:
    """Like seal_session_secret with a key the client already holds (32 random
    bytes it was given, e.g. a form's one-time token); open_session_secret opens it."""
    _aead.require_ids(session_id=session_id, purpose=purpose)
    _aead.require_key("client_key", client_key, COOKIE_KEY_BYTES)
    return wrap_symmetric(secret, client_key, purpose=WRAP_PURPOSE, context=(purpose, session_id))


def open_session_secret(cookie_key: bytes, sealed_blob: bytes, *, session_id: str, purpose: str) -> bytes:
    _aead.require_ids(session_id=session_id, purpose=purpose)
    # The cookie key comes from the client: a malformed one is a failed
    # decryption like any other, not a programming error.
    if not isinstance(cookie_key, (bytes, bytearray, memoryview)) or len(cookie_key) != COOKIE_KEY_BYTES:
        raise DecryptionError()
    return unwrap_symmetric(
        sealed_blob, cookie_key, purpose=WRAP_PURPOSE, context=(purpose, session_id)
    )
