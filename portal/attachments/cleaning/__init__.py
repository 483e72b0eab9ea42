"""Remove identifying metadata from uploaded attachments before encryption.

Attachment metadata is removed where the format allows (images, PDF,
Office/ODF documents); other files are accepted with a plain warning, and the
reporter is told what was cleaned (docs/architecture.md, "Data, anonymity and the web rules").

Everything happens in memory on the plaintext bytes of one file; nothing is
written to disk and nothing here raises on hostile input.

Meaning of a :class:`CleanResult`:

* ``cleaned=True``: the file was rewritten by this module. The rewrite keeps
  only what its format's module lists, so anything else the original held
  (unknown segments, trailing data, ...) is gone too. ``removed`` names the
  metadata that was actually found, so it may be empty: "rewritten, nothing
  identifying found".
* ``cleaned=False, warning=None``: plain text (.txt, .csv, .tsv without NUL
  bytes). Text has no metadata container, so there is nothing to remove; the
  reporter should still be reminded that the *content* may identify them.
* ``cleaned=False, warning=...``: returned byte-for-byte unchanged.
  ``"unsupported_type"``: we do not know how to clean this format.
  ``"too_large_to_clean"``: over :data:`CLEANABLE_MAX_BYTES` or the archive
  limits. ``"could_not_parse"``: malformed, hostile (decompression/zip bomb) or
  password-protected; served as ``application/octet-stream``.

What each format keeps is said in its module: images.py (and jpeg.py and
png.py for pictures too large to decode), pdf.py, ooxml.py, odf.py; safe_zip.py holds the
archive limits both zip formats share, and resets every entry date, extra
field and the archive comment.

Not cleaned (inside the document content, beyond container metadata): names
and dates in tracked changes and comments, Word revision-session ids (rsid),
printer settings, customXml items, ODF settings.xml, and the metadata of images
embedded inside documents or PDFs. The reporter must still be told that the
content itself may identify them.
"""
from __future__ import annotations

from dataclasses import dataclass

from .findings import COULD_NOT_PARSE, TOO_LARGE_TO_CLEAN, UNSUPPORTED_TYPE, Refuse
from .images import clean_image
from .names import extension_of, safe_filename
from .odf import clean_odf
from .ooxml import clean_office
from .pdf import clean_pdf
from .sniffing import (
    IMAGE,
    ODF,
    OCTET,
    OFFICE,
    OTHER,
    PDF,
    TEXT_MEDIA_TYPES,
    detect_kind,
    magic_kind,
    sniffed_media_type,
)

__all__ = ["CLEANABLE_MAX_BYTES", "CleanResult", "clean_file", "detect_kind", "extension_of", "safe_filename"]

CLEANABLE_MAX_BYTES = 64 * 1024 * 1024  # larger files are not re-encoded (kept in memory otherwise)
_CLEANERS = {IMAGE: clean_image, PDF: clean_pdf, OFFICE: clean_office, ODF: clean_odf}


@dataclass(frozen=True)
class CleanResult:
    data: bytes
    kind: str  # "image", "pdf", "office", "odf", "other"
    cleaned: bool  # rewritten by the cleaner (see module docstring)
    removed: tuple[str, ...]  # codes of the metadata found and removed (findings.REMOVED)
    warning: str | None  # findings.WARNINGS
    media_type: str  # from sniffed content, never from the client
    filename: str  # safe_filename() of the client-given name


def clean_file(filename: str, data: bytes) -> CleanResult:
    """Clean one uploaded file; never raises on hostile input (see module docstring)."""
    data = bytes(data)
    stored_name = safe_filename(filename)
    kind = detect_kind(filename, data[:4096])

    def unchanged(warning: str | None, media_type: str) -> CleanResult:
        return CleanResult(data, kind, False, (), warning, media_type, stored_name)

    if kind == OTHER:
        ext = extension_of(filename)
        if ext in TEXT_MEDIA_TYPES and b"\x00" not in data[:65536] and magic_kind(data[:4096]) is None:
            return unchanged(None, TEXT_MEDIA_TYPES[ext])
        return unchanged(UNSUPPORTED_TYPE, "application/zip" if data.startswith(b"PK\x03\x04") else OCTET)
    if len(data) > CLEANABLE_MAX_BYTES:
        return unchanged(TOO_LARGE_TO_CLEAN, sniffed_media_type(data))

    try:
        cleaned, removed, media_type = _CLEANERS[kind](data)
    except Refuse as refusal:
        media_type = OCTET if refusal.warning == COULD_NOT_PARSE else sniffed_media_type(data)
        return unchanged(refusal.warning, media_type)
    except Exception:  # hostile input may break any parser in any way
        return unchanged(COULD_NOT_PARSE, OCTET)
    return CleanResult(cleaned, kind, True, tuple(removed), None, media_type, stored_name)
