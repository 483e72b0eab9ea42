"""crypto/ is a pure library: importing it pulls in no web or database code."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
import crypto, crypto.encoding, crypto.envelope, crypto.errors, crypto.kdf
import crypto.keys, crypto.receipt, crypto.session, crypto.stream, crypto.totp, crypto.anchor, crypto.anchor_tool
bad = sorted(m for m in sys.modules if m.split('.')[0] in {'portal', 'flask', 'sqlalchemy', 'werkzeug', 'config'})
assert not bad, bad
print('ok')
"""


def test_crypto_imports_nothing_from_the_app():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_public_api_names():
    import crypto
    from crypto import envelope, kdf, keys, receipt, session, stream

    assert crypto.FORMAT_VERSION == 1
    assert issubclass(crypto.DecryptionError, crypto.CryptoError)
    assert issubclass(crypto.ReceiptFormatError, crypto.CryptoError)
    assert issubclass(crypto.ReceiptFormatError, ValueError)
    for module, names in {
        kdf: ["Argon2Params", "argon2id", "hkdf", "encode_context"],
        receipt: ["new_receipt", "parse_receipt", "format_receipt", "reporter_key", "ReceiptParts"],
        envelope: [
            "new_data_key", "encrypt_field", "decrypt_field", "wrap_for_recipient",
            "unwrap_for_recipient", "wrap_for_escrow", "unwrap_for_escrow",
            "wrap_symmetric", "unwrap_symmetric",
        ],
        keys: [
            "generate_keypair", "LoginMaterial", "derive_login", "verify_login", "new_salt",
            "create_handler_keys", "unlock_with_password", "unlock_with_recovery",
            "rewrap_for_new_password",
        ],
        stream: ["StreamEncryptor", "StreamDecryptor", "decrypt_chunks", "encrypt_stream", "decrypt_stream"],
        session: ["seal_session_secret", "open_session_secret"],
    }.items():
        for name in names:
            assert hasattr(module, name), f"{module.__name__}.{name}"
