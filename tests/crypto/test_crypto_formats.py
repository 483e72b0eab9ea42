"""docs/crypto.md describes the bytes: decode what the library stores using
only that document and raw primitives (HMAC-SHA256, AES-GCM, X25519,
Argon2id), with no help from crypto's own helpers."""

import hashlib
import hmac
import io
import struct
import unicodedata

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from crypto import envelope, keys, receipt, session, stream
from crypto.kdf import Argon2Params

PEPPER = b"P" * 32
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


# --- the document's building blocks, written out independently -------------


def ctx(*parts) -> bytes:  # section 2.2
    out = b""
    for p in parts:
        b = p.encode() if isinstance(p, str) else p.to_bytes(8, "big") if isinstance(p, int) else p
        out += len(b).to_bytes(2, "big") + b
    return out


def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:  # RFC 5869
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def hkdf(key: bytes, label: str, context: bytes = b"") -> bytes:  # section 2.3
    prk = hmac.new(b"\x00" * 32, key, hashlib.sha256).digest()
    return hkdf_expand(prk, b"tillit/v1/" + label.encode() + b"\x00" + context, 32)


def argon2id(secret: bytes, salt: bytes) -> bytes:  # section 2.4, TEST parameters
    return Argon2id(salt=salt, length=32, iterations=1, lanes=1, memory_cost=8, secret=PEPPER).derive(secret)


def open_gcm_blob(key: bytes, blob: bytes, ad: bytes) -> bytes:  # section 2.5
    assert blob[0] == 0x01
    nonce, sealed = blob[1:13], blob[13:]
    return AESGCM(key).decrypt(nonce, sealed, ad)


def unwrap(blob: bytes, kek: bytes, purpose: str, *context: str) -> bytes:  # section 2.5
    return open_gcm_blob(hkdf(kek, "wrap", ctx(purpose)), blob, ctx(1, purpose, *context))


def decode_code(text: str, data_chars: int) -> int:  # section 3.1
    digits = [ALPHABET.index(ch) for ch in text.replace("-", "").upper()]
    data, check = digits[:data_chars], digits[data_chars:]
    c = sum((i + 1) * d for i, d in enumerate(data)) % 1021
    assert check == [c >> 5, c & 31]
    value = 0
    for d in data:
        value = value * 32 + d
    return value


# --- HPKE base mode open, straight from RFC 9180 ----------------------------


def labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt or b"\x00" * 32, b"HPKE-v1" + suite_id + label + ikm, hashlib.sha256).digest()


def labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return hkdf_expand(prk, length.to_bytes(2, "big") + b"HPKE-v1" + suite_id + label + info, length)


def hpke_open(sk_raw: bytes, enc: bytes, sealed: bytes, info: bytes) -> bytes:
    sk = X25519PrivateKey.from_private_bytes(sk_raw)
    pk_r = keys.public_key_for(sk_raw)
    # DHKEM(X25519, HKDF-SHA256), RFC 9180 section 4.1
    kem_id = b"KEM" + (0x0020).to_bytes(2, "big")
    dh = sk.exchange(X25519PublicKey.from_public_bytes(enc))
    eae_prk = labeled_extract(kem_id, b"", b"eae_prk", dh)
    shared = labeled_expand(kem_id, eae_prk, b"shared_secret", enc + pk_r, 32)
    # Key schedule, mode_base, RFC 9180 section 5.1
    suite = b"HPKE" + bytes.fromhex("0020" "0001" "0002")
    psk_id_hash = labeled_extract(suite, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(suite, b"", b"info_hash", info)
    context = b"\x00" + psk_id_hash + info_hash
    secret = labeled_extract(suite, shared, b"secret", b"")
    key = labeled_expand(suite, secret, b"key", context, 32)
    base_nonce = labeled_expand(suite, secret, b"base_nonce", context, 12)
    return AESGCM(key).decrypt(base_nonce, sealed, b"")  # sequence 0, empty AAD


# --- the tests ----------------------------------------------------------------


def test_context_encoding_example():
    assert ctx("ab", 1).hex(" ") == "00 02 61 62 00 08 00 00 00 00 00 00 00 01"


def test_field_blob():
    dek = envelope.new_data_key()
    blob = envelope.encrypt_field(dek, b"the boss said", report_id="R", row_id="W", field="body")
    assert len(blob) == 13 + 29
    key = hkdf(dek, "field", ctx("R", "W", "body"))
    assert open_gcm_blob(key, blob, ctx(1, "R", "W", "body")) == b"the boss said"


def test_hpke_recipient_and_escrow_wraps():
    sk, pk = keys.generate_keypair()
    dek = envelope.new_data_key()
    blob = envelope.wrap_for_recipient(dek, pk, report_id="R", recipient_id="U", key_version=3)
    assert len(blob) == 81 and blob[0] == 0x01
    enc, sealed = blob[1:33], blob[33:]
    assert hpke_open(sk, enc, sealed, ctx("tillit/v1/wrap", "R", "U", 3)) == dek

    blob = envelope.wrap_for_escrow(dek, pk, report_id="R")
    assert hpke_open(sk, blob[1:33], blob[33:], ctx("tillit/v1/escrow", "R", 0)) == dek


def test_receipt_and_reporter_wrap():
    text = receipt.new_receipt()
    value = decode_code(text, 30)
    selector = text.replace("-", "")[:8]
    secret = (value & (2**110 - 1)).to_bytes(14, "big")
    parts = receipt.parse_receipt(text)
    assert (parts.selector, parts.secret) == (selector, secret)

    salt, dek = b"s" * 16, envelope.new_data_key()
    blob = receipt.wrap_dek_for_reporter(
        dek, parts.secret, report_id="R", salt=salt, pepper=PEPPER, params=Argon2Params.TEST
    )
    kek = hkdf(argon2id(secret, salt), "receipt-kek")
    assert unwrap(blob, kek, "receipt", "R") == dek


def test_handler_login_and_recovery():
    password = "Lösenord"
    new = keys.create_handler_keys(password, "U", PEPPER, Argon2Params.TEST)
    k_login = argon2id(unicodedata.normalize("NFC", password).encode(), new.salt)
    assert hkdf(k_login, "login-verifier") == new.verifier
    sk = unwrap(new.private_key_wrapped_by_password, hkdf(k_login, "login-kek"), "handler-key", "U")
    assert keys.public_key_for(sk) == new.public_key
    assert len(new.private_key_wrapped_by_password) == 61

    groups = new.recovery_key.split("-")
    assert [len(g) for g in groups] == [6] * 9
    r = decode_code(new.recovery_key, 52).to_bytes(32, "big")
    kek = hkdf(r, "recovery-kek")
    assert unwrap(new.private_key_wrapped_by_recovery, kek, "handler-key-recovery", "U") == sk


def test_session_blob():
    cookie_key, blob = session.seal_session_secret(b"secret", session_id="S", purpose="handler-key")
    assert unwrap(blob, cookie_key, "session", "handler-key", "S") == b"secret"


def test_stream_header_and_chunks():
    dek = envelope.new_data_key()
    plaintext = bytes(range(256)) * 600  # 153600 bytes: 2 full chunks + 22528
    enc = stream.StreamEncryptor(dek, report_id="R", attachment_id="A")
    chunks = enc.update(plaintext) + enc.finalize()
    header = enc.header
    assert len(header) == 8 and header[0] == 0x01
    key = hkdf(dek, "file", ctx("R", "A"))
    out = b""
    for i, sealed in enumerate(chunks):
        last = i == len(chunks) - 1
        nonce = header[1:] + struct.pack(">I", i) + (b"\x01" if last else b"\x00")
        assert len(sealed) == (65536 + 16 if not last else 22528 + 16)
        out += AESGCM(key).decrypt(nonce, sealed, header)
    assert out == plaintext


def test_framed_file():
    dek = envelope.new_data_key()
    plaintext = b"x" * 65536  # exact multiple: a full chunk, then an empty final one
    sink = io.BytesIO()
    stream.encrypt_stream(dek, io.BytesIO(plaintext), sink, report_id="R", attachment_id="A")
    data = sink.getvalue()
    header, rest = data[:8], data[8:]
    frames = []
    while rest:
        (length,) = struct.unpack(">I", rest[:4])
        frames.append(rest[4 : 4 + length])
        rest = rest[4 + length :]
    assert [len(f) for f in frames] == [65552, 16]
    key = hkdf(dek, "file", ctx("R", "A"))
    out = b""
    for i, sealed in enumerate(frames):
        flag = b"\x01" if i == len(frames) - 1 else b"\x00"
        out += AESGCM(key).decrypt(header[1:] + struct.pack(">I", i) + flag, sealed, header)
    assert out == plaintext


def test_examples_in_the_document_are_valid():
    decode_code("933C-4XNZ-RARC-CRS4-5KDD-273N-EFW6-DKFR", 30)
    assert decode_code("0EREG6-RK6VG1-KSNHQ9-S91KKN-DPQDJE-Y6ENPY-NEPGEE-0670FK-ESJRN2", 52) < 2**256


def test_chain_links_and_heads():  # section 11
    from crypto import chain

    dek = bytes(range(32))
    key = hkdf(dek, "chain", ctx("r1", "dialogue"))
    assert chain.chain_key(dek, report_id="r1", chain="dialogue") == key
    first = hmac.new(key, ctx("link", bytes(32), "m1", 1, "reporter", "message", "2026-12-02", "",
                              hashlib.sha256(b"ciphertext").digest()), hashlib.sha256).digest()
    assert chain.link(key, chain.GENESIS, "m1", 1, "reporter", "message", "2026-12-02", "",
                      chain.digest(b"ciphertext")) == first
    assert chain.head(key, 1, first) == hmac.new(key, ctx("head", 1, first), hashlib.sha256).digest()


def test_audit_links():  # section 12
    import datetime as dt
    import json

    from portal.domain.audit_chain import AuditFields, audit_key, keyed_hash, legacy_hash

    key = hkdf(PEPPER, "audit-mac")
    assert audit_key(PEPPER) == key
    at = dt.datetime(2026, 12, 2, 10, 0, 0, 5)
    fields = AuditFields(3, 7, at, "u1", "case.view", "report", "r1", "{}")
    keyed = json.dumps([3, 7, "2026-12-02T10:00:00.000005", "u1", "case.view", "report", "r1", "{}"],
                       separators=(",", ":")).encode()
    assert keyed_hash(key, bytes(32), fields) == hmac.new(key, bytes(32) + keyed, hashlib.sha256).digest()
    legacy = json.dumps([7, "2026-12-02T10:00:00.000005", "u1", "case.view", "report", "r1", "{}"],
                        separators=(",", ":")).encode()
    assert legacy_hash(bytes(32), fields) == hashlib.sha256(bytes(32) + legacy).digest()
