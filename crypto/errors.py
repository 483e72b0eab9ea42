"""Exceptions raised by the crypto package."""

# One fixed message: a wrong password, a wrong recovery key, a wrong receipt
# and a tampered blob must be indistinguishable to whoever sees the error.
_GENERIC_MESSAGE = "decryption failed"

RECEIPT_FORMAT_REASONS = frozenset({"length", "checksum", "characters"})


class CryptoError(Exception):
    """Base class of every error this package raises on purpose."""


class DecryptionError(CryptoError):
    """Any authentication or decryption failure, whatever the cause.

    The constructor ignores its arguments so that no call site can leak the
    cause through the message; raise it `from None` so the chained lower-level
    exception does not leak it through tracebacks either.
    """

    def __init__(self, *_args: object) -> None:
        super().__init__(_GENERIC_MESSAGE)


class ReceiptFormatError(CryptoError, ValueError):
    """A receipt or recovery key that cannot be a valid code (typing mistake).

    `reason` is one of "length", "checksum", "characters"; the UI translates it.
    Reporting the reason is safe: it depends only on what the user typed, never
    on any stored secret.
    """

    def __init__(self, reason: str) -> None:
        if reason not in RECEIPT_FORMAT_REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        self.reason = reason
        super().__init__(f"malformed code ({reason})")
