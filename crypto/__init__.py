"""Tillit's cryptography: a small, pure library (no Flask, no database).

Every secret the portal keeps goes through here. Byte formats are specified in
docs/crypto.md; every ciphertext or wrapped key starts with FORMAT_VERSION.
"""

# Defined before the imports below so submodules can `from . import FORMAT_VERSION`.
FORMAT_VERSION = 1

from .errors import CryptoError, DecryptionError, ReceiptFormatError  # noqa: E402

__all__ = ["FORMAT_VERSION", "CryptoError", "DecryptionError", "ReceiptFormatError"]
