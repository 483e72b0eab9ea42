"""The one place in portal/ that encrypts and decrypts report content.

Answers, dialogue messages, internal notes, attachment metadata and
attachment bytes are sealed and opened here, under the report's data key
(DEK), with crypto.envelope's field encryption and crypto.stream's STREAM;
the upload spool's transient encryption goes through here too. No other
module of portal/ imports those functions (tests/unit/test_import_rules.py).

Every field blob is bound to its place by a label in its associated data
(docs/crypto.md, 2.5). The labels are declared below, once, as the exact
strings stored data was written with: renaming a form field, a code's Python
name or a column changes none of them, and changing one would make every
stored blob with it unreadable (tests/integration/test_stored_data_stays_readable.py).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from types import MappingProxyType

from crypto import DecryptionError, envelope
from crypto.stream import CHUNK_SIZE, SEALED_CHUNK_BYTES, StreamDecryptor, StreamEncryptor, decrypt_chunks

from ..domain.taxonomy import (
    ANSWER_CHANGE,
    ANSWER_CONTACT,
    ANSWER_EVIDENCE,
    ANSWER_TODAY,
    ANSWER_WHAT,
    ANSWER_WHEN,
    ANSWER_WHO,
)

__all__ = ["CHUNK_SIZE", "SEALED_CHUNK_BYTES"]

# --- field labels (never change a value) ----------------------------------------

ANSWER_LABELS = MappingProxyType({
    ANSWER_TODAY: "answer:today",
    ANSWER_CHANGE: "answer:change",
    ANSWER_WHAT: "answer:what",
    ANSWER_WHEN: "answer:when",
    ANSWER_WHO: "answer:who",
    ANSWER_EVIDENCE: "answer:evidence",
    ANSWER_CONTACT: "answer:contact",
})
# Answers of reports whose dialogue and timeline are chained (reports/chains.py).
# A report's answers carry one generation or the other, so whether a report
# must have intact chains is told by ciphertexts nobody can rewrite without
# its key, not by a column a database writer could flip.
CHAINED_ANSWER_LABELS = MappingProxyType({code: f"answer2:{code}" for code in ANSWER_LABELS})
MESSAGE_LABEL = "message"
NOTE_LABEL = "note"
ATTACHMENT_META_LABEL = "attachment-meta"
MANIFEST_LABEL = "manifest"  # row id: the report's own id
FIELD_LABELS = (*ANSWER_LABELS.values(), *CHAINED_ANSWER_LABELS.values(), MESSAGE_LABEL, NOTE_LABEL,
                ATTACHMENT_META_LABEL, MANIFEST_LABEL)


def _seal(dek: bytes, text: str, report_id: str, row_id: str, label: str) -> bytes:
    return envelope.encrypt_field(dek, text.encode(), report_id=report_id, row_id=row_id, field=label)


def _open(dek: bytes, blob: bytes, report_id: str, row_id: str, label: str) -> str:
    return envelope.decrypt_field(dek, blob, report_id=report_id, row_id=row_id, field=label).decode()


# --- text fields ----------------------------------------------------------------

def seal_answer(dek: bytes, text: str, *, report_id: str, answer_id: str, code: str) -> bytes:
    return _seal(dek, text, report_id, answer_id, CHAINED_ANSWER_LABELS[code])


def open_answer(dek: bytes, blob: bytes, *, report_id: str, answer_id: str, code: str) -> tuple[str, bool]:
    """(text, whether the report is chained). DecryptionError if the blob was
    altered, moved, or stored under another answer."""
    try:
        return _open(dek, blob, report_id, answer_id, CHAINED_ANSWER_LABELS[code]), True
    except DecryptionError:
        return _open(dek, blob, report_id, answer_id, ANSWER_LABELS[code]), False


def seal_message(dek: bytes, text: str, *, report_id: str, message_id: str) -> bytes:
    return _seal(dek, text, report_id, message_id, MESSAGE_LABEL)


def open_message(dek: bytes, blob: bytes, *, report_id: str, message_id: str) -> str:
    return _open(dek, blob, report_id, message_id, MESSAGE_LABEL)


def seal_note(dek: bytes, text: str, *, report_id: str, note_id: str) -> bytes:
    return _seal(dek, text, report_id, note_id, NOTE_LABEL)


def open_note(dek: bytes, blob: bytes, *, report_id: str, note_id: str) -> str:
    return _open(dek, blob, report_id, note_id, NOTE_LABEL)


def seal_manifest(dek: bytes, manifest: dict, *, report_id: str) -> bytes:
    """What the report was when sent (reports/manifest.py), as one JSON field blob."""
    return _seal(dek, json.dumps(manifest, sort_keys=True), report_id, report_id, MANIFEST_LABEL)


def open_manifest(dek: bytes, blob: bytes, *, report_id: str) -> dict:
    return json.loads(_open(dek, blob, report_id, report_id, MANIFEST_LABEL))


# --- attachments ------------------------------------------------------------------

def seal_attachment_meta(dek: bytes, meta: dict, *, report_id: str, attachment_id: str) -> bytes:
    """A file's name, type, size and cleaning report, as one JSON field blob."""
    return _seal(dek, json.dumps(meta, ensure_ascii=False), report_id, attachment_id, ATTACHMENT_META_LABEL)


def open_attachment_meta(dek: bytes, blob: bytes, *, report_id: str, attachment_id: str) -> dict:
    return json.loads(_open(dek, blob, report_id, attachment_id, ATTACHMENT_META_LABEL))


def attachment_encryptor(dek: bytes, *, report_id: str, attachment_id: str) -> StreamEncryptor:
    """STREAM under the file key derived from the DEK (docs/crypto.md, 6)."""
    return StreamEncryptor(dek, report_id=report_id, attachment_id=attachment_id)


def open_attachment_chunks(dek: bytes, header: bytes, sealed_chunks: Iterable[bytes], *, report_id: str,
                           attachment_id: str) -> Iterator[bytes]:
    """The plaintext chunk by chunk; DecryptionError on tampering, reordering or truncation."""
    return decrypt_chunks(dek, header, sealed_chunks, report_id=report_id, attachment_id=attachment_id)


# --- the upload spool (transient, under a key that lives only in memory) --------------

def spool_encryptor(key: bytes, *, spool_id: str, file_id: str) -> StreamEncryptor:
    return StreamEncryptor(key, report_id=spool_id, attachment_id=file_id)


def spool_decryptor(key: bytes, header: bytes, *, spool_id: str, file_id: str) -> StreamDecryptor:
    return StreamDecryptor(key, header, report_id=spool_id, attachment_id=file_id)
