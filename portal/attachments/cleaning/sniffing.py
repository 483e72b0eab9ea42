"""What kind of file an upload is (magic bytes first, extension second) and
the media type its content shows; never what the client claimed."""
from __future__ import annotations

import struct

from .names import extension_of

IMAGE, PDF, OFFICE, ODF, OTHER = "image", "pdf", "office", "odf", "other"
OCTET = "application/octet-stream"
IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "jpe", "jfif", "png", "apng", "gif", "webp"})
OFFICE_EXTENSIONS = frozenset({"docx", "docm", "dotx", "dotm", "xlsx", "xlsm", "xltx", "xltm",
                               "pptx", "pptm", "potx", "potm", "ppsx", "ppsm"})
ODF_EXTENSIONS = frozenset({"odt", "ods", "odp", "odg", "odf", "ott", "ots", "otp", "otg"})
TEXT_MEDIA_TYPES = {"txt": "text/plain", "csv": "text/csv", "tsv": "text/tab-separated-values"}
ODF_MIMETYPE_PREFIX = b"application/vnd.oasis.opendocument."


def magic_kind(head: bytes) -> str | None:
    """The kind the first bytes show; "zip" for an archive that names no format."""
    if head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n"):
        return IMAGE
    if head[:6] in (b"GIF87a", b"GIF89a") or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return IMAGE
    if head.startswith(b"PK\x03\x04"):
        if len(head) < 30:
            return "zip"
        # Local header: 30 bytes, the first entry's name, an extra field, then its data.
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        first = head[30:30 + name_len]
        if first == b"mimetype" and head[30 + name_len + extra_len:].startswith(ODF_MIMETYPE_PREFIX):
            return ODF
        if first == b"[Content_Types].xml":
            return OFFICE
        return "zip"
    if b"%PDF-" in head[:1024]:  # the spec tolerates junk before the header
        return PDF
    return None


def detect_kind(filename: str, head: bytes) -> str:
    """"image", "pdf", "office", "odf" or "other": magic bytes first, extension second.

    A zip whose first entry does not identify it is "office"/"odf" only if its
    extension says so; a file without known magic is classified by extension
    (and will fail to parse if it lies).
    """
    head = bytes(head[:4096])
    ext = extension_of(filename)
    kind = magic_kind(head)
    if kind == "zip":
        if ext in OFFICE_EXTENSIONS:
            return OFFICE
        if ext in ODF_EXTENSIONS:
            return ODF
        return OTHER
    if kind is not None:
        return kind
    if ext in IMAGE_EXTENSIONS:
        return IMAGE
    if ext == "pdf":
        return PDF
    if ext in OFFICE_EXTENSIONS:
        return OFFICE
    if ext in ODF_EXTENSIONS:
        return ODF
    return OTHER


def sniffed_media_type(data: bytes) -> str:
    head = data[:4096]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    return OCTET
