"""Remove identifying metadata from uploaded attachments before encryption.

DESIGN.md, "Anonymity rules": attachment metadata is removed where the format
allows (images, PDF, Office/ODF documents); other files are accepted with a
plain warning, and the reporter is told what was cleaned.

Everything happens in memory on the plaintext bytes of one file; nothing is
written to disk and nothing here raises on hostile input.

Meaning of a :class:`CleanResult`:

* ``cleaned=True``: the file was rewritten by this module. The rewrite keeps
  only what is listed below for its format, so anything else the original held
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

What each format keeps:

* JPEGs over IMAGE_MAX_PIXELS (100 MP phone photos) are not decoded: their
  metadata segments (every APPn but JFIF and Adobe, comments) are cut out and
  the compressed picture is copied as it is, up to its end marker; the EXIF
  orientation goes with the EXIF block.
* images (JPEG, PNG, GIF, WebP, also APNG and animated GIF/WebP): pixels only,
  after applying the EXIF orientation; colours are converted to sRGB when an
  ICC profile was embedded (the profile itself can name devices). Frame
  durations and loop count of animations are kept.
* PDF: the pages (content, resources, annotations) in a new file without the
  document information dictionary, XMP, page/XObject /Metadata, /PieceInfo,
  /LastModified, page thumbnails, annotation authors/dates, and without any
  document-level parts (outlines, attachments, forms dictionary, scripts) and
  without a file identifier.
* Office Open XML: every part but the document properties (core.xml and
  app.xml become empty documents, custom.xml goes), the thumbnail and digital
  signatures (they hold the signer's certificate and would be invalid anyway);
  [Content_Types].xml and _rels/.rels lose the references to removed parts.
  The folder paths in xl/workbook.xml (absPath) and Word's attached template
  (word/settings.xml and its relationship) are removed: they hold user names.
* ODF: every entry but meta.xml (emptied), Thumbnails/ and
  META-INF/*signatures.xml; the manifest loses the removed entries and
  "mimetype" stays first and stored. Password-protected ODF is not touched.
* For both zip formats all entry dates, extra fields and the archive comment
  are reset.

Not cleaned (inside the document content, beyond container metadata): names
and dates in tracked changes and comments, Word revision-session ids (rsid),
printer settings, customXml items, ODF settings.xml, and the metadata of images
embedded inside documents or PDFs. The reporter must still be told that the
content itself may identify them.
"""
from __future__ import annotations

import html
import io
import posixpath
import re
import struct
import unicodedata
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

from PIL import Image, ImageOps, ImageSequence
from pypdf import PasswordType, PdfReader, PdfWriter
from pypdf.generic import IndirectObject

CLEANABLE_MAX_BYTES = 64 * 1024 * 1024  # larger files are not re-encoded (kept in memory otherwise)

# Images: our own limits, independent of the process-wide Image.MAX_IMAGE_PIXELS
# (which another module may relax); both stay below Pillow's default bomb limit.
IMAGE_MAX_PIXELS = 64 * 1024 * 1024  # one frame; a 48 MP photo still fits
ANIMATION_MAX_PIXELS = 64 * 1024 * 1024  # all frames together, beyond that: first frame only
ANIMATION_MAX_FRAMES = 1000

# Zip-based documents.
ZIP_MAX_TOTAL_BYTES = 256 * 1024 * 1024
ZIP_MAX_ENTRIES = 10_000
ZIP_MAX_RATIO = 200
ZIP_RATIO_MIN_BYTES = 1024 * 1024  # small entries cannot be bombs; repetitive XML may compress well

MAX_FILENAME_CHARS = 120

_IMAGE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
_IMAGE_MEDIA_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png",
                      "GIF": "image/gif", "WEBP": "image/webp"}
_IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "jpe", "jfif", "png", "apng", "gif", "webp"})
_OFFICE_EXTENSIONS = frozenset({"docx", "docm", "dotx", "dotm", "xlsx", "xlsm", "xltx", "xltm",
                                "pptx", "pptm", "potx", "potm", "ppsx", "ppsm"})
_ODF_EXTENSIONS = frozenset({"odt", "ods", "odp", "odg", "odf", "ott", "ots", "otp", "otg"})
_TEXT_MEDIA_TYPES = {"txt": "text/plain", "csv": "text/csv", "tsv": "text/tab-separated-values"}
_OCTET = "application/octet-stream"

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_ODF_MIMETYPE_PREFIX = b"application/vnd.oasis.opendocument."
_ODF_SIGNATURES = frozenset({"META-INF/documentsignatures.xml", "META-INF/macrosignatures.xml"})

_EMPTY_CORE_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    b'<cp:coreProperties'
    b' xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
    b' xmlns:dc="http://purl.org/dc/elements/1.1/"'
    b' xmlns:dcterms="http://purl.org/dc/terms/"'
    b' xmlns:dcmitype="http://purl.org/dc/dcmitype/"'
    b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
)
_EMPTY_APP_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    b'<Properties'
    b' xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
    b' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"/>'
)
_EMPTY_ODF_META = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<office:document-meta'
    ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' office:version="{version}"><office:meta/></office:document-meta>'
)


@dataclass(frozen=True)
class CleanResult:
    data: bytes
    kind: str  # "image", "pdf", "office", "odf", "other"
    cleaned: bool  # rewritten by the cleaner (see module docstring)
    removed: tuple[str, ...]  # codes of the metadata found and removed
    warning: str | None  # "unsupported_type", "too_large_to_clean", "could_not_parse"
    media_type: str  # from sniffed content, never from the client
    filename: str  # safe_filename() of the client-given name


class _Refuse(Exception):
    """Cleaning is not possible; carry the warning code."""

    def __init__(self, warning: str) -> None:
        super().__init__(warning)
        self.warning = warning


# --------------------------------------------------------------------------
# Names and kinds


def extension_of(name: str) -> str:
    """Lower-case extension without the dot, "" if none (".bashrc" has none)."""
    base = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = base.rpartition(".")
    if not dot or not stem.strip("."):
        return ""
    return ext.strip().lower()


_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(10)} | {f"LPT{i}" for i in range(10)}
)


def safe_filename(name: str) -> str:
    """A name that is safe to store and to offer for download.

    Directories are dropped (both separators), control and format characters
    (including bidi overrides used to fake extensions) are removed, characters
    reserved on common file systems become "_", leading dots and trailing dots
    or spaces go, and the result is NFC, at most 120 characters with the
    extension kept. Falls back to "file".
    """
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    out = []
    for ch in name:
        category = unicodedata.category(ch)
        if ch in "\t\n\r\v\f":
            out.append(" ")
        elif category[0] == "C" or category in ("Zl", "Zp"):
            continue
        elif ch in '<>:"|?*':
            out.append("_")
        elif category == "Zs":
            out.append(" ")
        else:
            out.append(ch)
    name = re.sub(r" {2,}", " ", "".join(out)).strip(" .")
    if name.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_RESERVED:
        name = "_" + name
    if len(name) > MAX_FILENAME_CHARS:
        ext = extension_of(name)
        if ext and len(ext) <= 16 and ext.isalnum():
            suffix = name[-(len(ext) + 1):]
            stem = name[: MAX_FILENAME_CHARS - len(suffix)].rstrip(" .")
            name = (stem or "file") + suffix
        else:
            name = name[:MAX_FILENAME_CHARS].rstrip(" .")
    return name or "file"


def _magic_kind(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image"
    if head[:6] in (b"GIF87a", b"GIF89a") or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if head.startswith(b"PK\x03\x04"):
        if len(head) < 30:
            return "zip"
        # Local header: 30 bytes, the first entry's name, an extra field, then its data.
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        first = head[30:30 + name_len]
        if first == b"mimetype" and head[30 + name_len + extra_len:].startswith(_ODF_MIMETYPE_PREFIX):
            return "odf"
        if first == b"[Content_Types].xml":
            return "office"
        return "zip"
    if b"%PDF-" in head[:1024]:  # the spec tolerates junk before the header
        return "pdf"
    return None


def detect_kind(filename: str, head: bytes) -> str:
    """"image", "pdf", "office", "odf" or "other": magic bytes first, extension second.

    A zip whose first entry does not identify it is "office"/"odf" only if its
    extension says so; a file without known magic is classified by extension
    (and will fail to parse if it lies).
    """
    head = bytes(head[:4096])
    ext = extension_of(filename)
    kind = _magic_kind(head)
    if kind == "zip":
        if ext in _OFFICE_EXTENSIONS:
            return "office"
        if ext in _ODF_EXTENSIONS:
            return "odf"
        return "other"
    if kind is not None:
        return kind
    if ext in _IMAGE_EXTENSIONS:
        return "image"
    if ext == "pdf":
        return "pdf"
    if ext in _OFFICE_EXTENSIONS:
        return "office"
    if ext in _ODF_EXTENSIONS:
        return "odf"
    return "other"


# --------------------------------------------------------------------------
# Entry point


def clean_file(filename: str, data: bytes) -> CleanResult:
    """Clean one uploaded file; never raises on hostile input (see module docstring)."""
    data = bytes(data)
    stored_name = safe_filename(filename)
    kind = detect_kind(filename, data[:4096])

    def unchanged(warning: str | None, media_type: str) -> CleanResult:
        return CleanResult(data, kind, False, (), warning, media_type, stored_name)

    if kind == "other":
        ext = extension_of(filename)
        if ext in _TEXT_MEDIA_TYPES and b"\x00" not in data[:65536] and _magic_kind(data[:4096]) is None:
            return unchanged(None, _TEXT_MEDIA_TYPES[ext])
        return unchanged("unsupported_type", "application/zip" if data.startswith(b"PK\x03\x04") else _OCTET)
    if len(data) > CLEANABLE_MAX_BYTES:
        return unchanged("too_large_to_clean", _sniffed_media_type(data))

    cleaner = {"image": _clean_image, "pdf": _clean_pdf, "office": _clean_office, "odf": _clean_odf}[kind]
    try:
        cleaned, removed, media_type = cleaner(data)
    except _Refuse as refusal:
        media_type = _OCTET if refusal.warning == "could_not_parse" else _sniffed_media_type(data)
        return unchanged(refusal.warning, media_type)
    except Exception:  # hostile input may break any parser in any way
        return unchanged("could_not_parse", _OCTET)
    return CleanResult(cleaned, kind, True, tuple(removed), None, media_type, stored_name)


def _sniffed_media_type(data: bytes) -> str:
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
    return _OCTET


# --------------------------------------------------------------------------
# Images


def _clean_image(data: bytes) -> tuple[bytes, list[str], str]:
    try:
        im = Image.open(io.BytesIO(data), formats=_IMAGE_FORMATS)
    except Image.DecompressionBombError:
        raise _Refuse("could_not_parse") from None
    with im:
        width, height = im.size
        # Sizes at which Pillow would only warn (DecompressionBombWarning) are not
        # decoded. (warnings.catch_warnings would do it too, but it swaps
        # process-wide state and is not thread-safe under gunicorn threads.)
        limit = min(IMAGE_MAX_PIXELS, Image.MAX_IMAGE_PIXELS or IMAGE_MAX_PIXELS)
        if width < 1 or height < 1:
            raise _Refuse("could_not_parse")
        if width * height > limit:
            # A photo from a 100 MP phone camera: too large to decode safely,
            # but a JPEG's metadata can be cut out without decoding it.
            if im.format in ("JPEG", "MPO"):
                return _strip_jpeg(data, _image_metadata(im))
            raise _Refuse("could_not_parse")
        return _reencode(im, data)


# JPEG markers: APP0 (JFIF) and APP14 (Adobe: how to read the colours) are kept;
# every other APPn (EXIF, XMP, ICC, IPTC, maker data) and comments go.
_JPEG_KEPT_APP = (0xE0, 0xEE)
_JPEG_SOS, _JPEG_EOI, _JPEG_COM = 0xDA, 0xD9, 0xFE


def _strip_jpeg(data: bytes, removed: list[str]) -> tuple[bytes, list[str], str]:
    """The JPEG without metadata segments, the compressed picture copied as
    it is (no decoding, so any size costs one copy of the file). Ends at the
    picture's end: what cameras append after it (previews, depth maps,
    trailers) is dropped."""
    out, pos, size = [b"\xff\xd8"], 2, len(data)
    if not data.startswith(b"\xff\xd8"):
        raise _Refuse("could_not_parse")
    in_scan = False
    while pos < size:
        if in_scan:
            # Entropy-coded data: an FF there is followed by 00 (stuffing) or
            # a restart marker; anything else is the next marker.
            marker_at = pos
            while True:
                marker_at = data.find(b"\xff", marker_at)
                if marker_at < 0 or marker_at + 1 >= size:
                    raise _Refuse("could_not_parse")
                following = data[marker_at + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    marker_at += 1
                    continue
                break
            out.append(data[pos:marker_at])
            pos = marker_at
        if data[pos] != 0xFF or pos + 1 >= size:
            raise _Refuse("could_not_parse")
        while pos + 2 < size and data[pos + 1] == 0xFF:  # fill bytes before a marker
            pos += 1
        marker = data[pos + 1]
        if marker == _JPEG_EOI:
            out.append(b"\xff\xd9")
            if data[pos + 2:].strip(b"\x00"):
                removed.append("extra_images")
            return b"".join(out), removed, "image/jpeg"
        if pos + 4 > size:
            raise _Refuse("could_not_parse")
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > size:
            raise _Refuse("could_not_parse")
        metadata = (0xE0 <= marker <= 0xEF and marker not in _JPEG_KEPT_APP) or marker == _JPEG_COM
        if not metadata:
            out.append(data[pos:end])
        elif marker == _JPEG_COM and "comment" not in removed:
            removed.append("comment")
        elif marker != _JPEG_COM and not removed:
            removed.append("other_metadata")
        in_scan = marker == _JPEG_SOS
        pos = end
    raise _Refuse("could_not_parse")


def _reencode(im: Image.Image, data: bytes) -> tuple[bytes, list[str], str]:
    width, height = im.size
    fmt = im.format or ""
    removed = _image_metadata(im)
    icc = im.info.get("icc_profile")

    n_frames = getattr(im, "n_frames", 1) if getattr(im, "is_animated", False) else 1
    if fmt == "MPO":  # extra JPEGs appended by cameras (previews, depth maps): keep the photo only
        if n_frames > 1:
            removed.append("extra_images")
        n_frames, fmt = 1, "JPEG"
    if n_frames > 1 and (n_frames > ANIMATION_MAX_FRAMES or n_frames * width * height > ANIMATION_MAX_PIXELS):
        removed.append("animation_frames")
        n_frames = 1

    frames, durations = [], []
    for index, frame in enumerate(ImageSequence.Iterator(im)):
        if index >= n_frames:
            break
        durations.append(frame.info.get("duration", 0))
        frames.append(_pixels_only(_upright(frame), icc))
    loop = im.info.get("loop")

    params: dict = {}
    if fmt == "JPEG":
        frames = [f if f.mode in ("L", "RGB", "CMYK") else f.convert("RGB") for f in frames]
        params = {"quality": 90}
    elif fmt == "PNG":
        params = {"optimize": True}
    elif fmt == "WEBP":
        params = {"lossless": True} if _webp_is_lossless(data) else {"quality": 90}
    if len(frames) > 1:
        params.update(save_all=True, append_images=frames[1:], duration=durations)
        if loop is not None:
            params["loop"] = loop
        if fmt == "GIF" and any(f.mode in ("RGBA", "LA", "PA") or "transparency" in f.info for f in frames):
            params["disposal"] = 2  # frames are full pictures: clear before drawing the next one
    elif fmt == "GIF" and loop is not None:
        params["loop"] = loop

    out = io.BytesIO()
    frames[0].save(out, format=fmt, **params)
    return out.getvalue(), removed, _IMAGE_MEDIA_TYPES[fmt]


def _upright(frame: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a broken EXIF block must not stop the
    cleaning (it is what we want to remove), so then keep the pixels as stored."""
    try:
        return ImageOps.exif_transpose(frame)
    except Exception:
        return frame.copy()


def _pixels_only(frame: Image.Image, icc: bytes | None) -> Image.Image:
    """A copy holding pixels (and palette) but none of the source's info dict,
    which Pillow's savers would otherwise write back (comment, ICC, EXIF...)."""
    if icc:
        frame = _to_srgb(frame, icc)
    clean = frame.copy()
    transparency = frame.info.get("transparency")
    clean.info = {} if transparency is None else {"transparency": transparency}
    return clean


def _to_srgb(frame: Image.Image, icc: bytes) -> Image.Image:
    """Apply the embedded ICC profile so the picture keeps its colours without it;
    on any trouble the profile is simply dropped."""
    out_mode = {"RGB": "RGB", "RGBA": "RGBA", "CMYK": "RGB"}.get(frame.mode)
    if out_mode is None:
        return frame
    try:
        from PIL import ImageCms

        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        target = ImageCms.createProfile("sRGB")
        return ImageCms.profileToProfile(frame, source, target, outputMode=out_mode) or frame
    except Exception:
        return frame


def _image_metadata(im: Image.Image) -> list[str]:
    """Codes of the metadata the source image carries (for the reporter)."""
    info = im.info
    found: list[str] = []

    def add(code: str) -> None:
        if code not in found:
            found.append(code)

    try:
        exif = im.getexif()
        if len(exif) or info.get("exif"):
            add("exif")
        if exif.get_ifd(0x8825):
            add("gps")
        if exif.get_ifd(-1):  # IFD1 holds the embedded thumbnail
            add("thumbnail")
    except Exception:  # a broken EXIF block is still an EXIF block
        if info.get("exif"):
            add("exif")
    if info.get("xmp") or info.get("XML:com.adobe.xmp"):
        add("xmp")
    if info.get("photoshop") or info.get("iptc"):
        add("iptc")
    if info.get("icc_profile"):
        add("icc_profile")
    if info.get("comment"):
        add("comment")
    for key in getattr(im, "text", None) or {}:
        lowered = str(key).lower()
        if "exif" in lowered:
            add("exif")
        elif "iptc" in lowered:
            add("iptc")
        elif "xmp" in lowered:
            add("xmp")
        else:
            add("png_text")
    for marker, payload in getattr(im, "applist", []):  # JPEG segments Pillow does not interpret
        if marker == "APP0" and payload.startswith(b"JFXX\x00"):
            add("thumbnail")
        elif marker == "APP1" and payload.startswith(b"http://ns.adobe.com/"):
            add("xmp")  # also "extended XMP" split over several segments
        elif marker == "APP13":
            add("iptc")
        elif (marker == "APP1" and not payload.startswith(b"Exif\x00")) or (
                marker == "APP2" and not payload.startswith((b"ICC_PROFILE\x00", b"MPF\x00"))) or (
                marker.startswith("APP") and marker not in ("APP0", "APP1", "APP2", "APP14")):
            add("other_metadata")  # e.g. FlashPix, APP11 content credentials, vendor blocks
    return found


def _webp_is_lossless(data: bytes) -> bool:
    """Whether the first frame's bitstream is VP8L, so we do not add lossy artefacts."""
    return _first_webp_bitstream(io.BytesIO(data)) == b"VP8L"


def _first_webp_bitstream(fp: io.BytesIO) -> bytes:
    """Walk the RIFF chunks (VP8X, ICCP, ANIM, EXIF...) to the first bitstream."""
    fp.seek(12)
    for _ in range(64):
        header = fp.read(8)
        if len(header) < 8:
            return b""
        fourcc, size = header[:4], struct.unpack("<I", header[4:])[0]
        if fourcc in (b"VP8 ", b"VP8L"):
            return fourcc
        if fourcc == b"ANMF":
            fp.read(16)  # frame header; bitstream chunks follow (ALPH first when lossy + alpha)
            return b"VP8L" if b"VP8L" in fp.read(8) else b"VP8 "
        fp.seek(size + (size & 1), 1)
    return b""


# --------------------------------------------------------------------------
# PDF


def _clean_pdf(data: bytes) -> tuple[bytes, list[str], str]:
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise _Refuse("could_not_parse")  # needs a password we do not have

    removed: list[str] = []
    info = reader.trailer.get("/Info")
    info = info.get_object() if info is not None else None
    if isinstance(info, dict) and len(info):
        removed.append("pdf_info")
    root = reader.trailer["/Root"].get_object()
    if "/Metadata" in root:
        removed.append("pdf_xmp")
    names = root.get("/Names")
    if names is not None and "/EmbeddedFiles" in names.get_object():
        removed.append("pdf_attachments")

    writer = PdfWriter()  # only pages are copied: no catalog extras, no /ID
    writer.metadata = None  # drops the /Producer pypdf info the writer starts with
    for page in reader.pages:
        for code in _pdf_page_findings(page):
            if code not in removed:
                removed.append(code)
        # Excluded keys are skipped at every depth of the copy (forms, images...).
        new_page = writer.add_page(page, excluded_keys=_PDF_DROPPED_KEYS)
        if _scrub_pdf_annotations(new_page) and "pdf_annot_author" not in removed:
            removed.append("pdf_annot_author")
    if not writer.pages:
        raise _Refuse("could_not_parse")
    _drop_unreachable(writer)

    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), removed, "application/pdf"


_PDF_PRIVATE_KEYS = ("/Metadata", "/PieceInfo", "/LastModified")
_PDF_DROPPED_KEYS = (*_PDF_PRIVATE_KEYS, "/Thumb")
_PDF_ANNOTATION_KEYS = ("/T", "/M", "/CreationDate")  # author and dates of comments


def _pdf_page_findings(page) -> list[str]:
    """What the source page carries, for the reporter (read-only walk)."""
    codes = []
    if any(key in page for key in _PDF_PRIVATE_KEYS) or _pdf_xobjects_carry_metadata(page.get("/Resources")):
        codes.append("pdf_page_metadata")
    if "/Thumb" in page:
        codes.append("thumbnail")
    return codes


def _pdf_xobjects_carry_metadata(resources, depth: int = 0) -> bool:
    if resources is None or depth > 16:
        return False
    resources = resources.get_object()
    xobjects = resources.get("/XObject") if isinstance(resources, dict) else None
    if xobjects is None or not isinstance(xobjects.get_object(), dict):
        return False
    for ref in xobjects.get_object().values():
        xobject = ref.get_object()
        if isinstance(xobject, dict) and (any(key in xobject for key in _PDF_PRIVATE_KEYS)
                                          or _pdf_xobjects_carry_metadata(xobject.get("/Resources"), depth + 1)):
            return True
    return False


def _scrub_pdf_annotations(page) -> bool:
    found = False
    annots = page.get("/Annots")
    for ref in (annots.get_object() if annots is not None else None) or []:
        annot = ref.get_object()
        if not isinstance(annot, dict) or annot.get("/Subtype") in ("/Widget", "/Link"):
            continue  # a widget's /T is its form field name, not an author
        for key in _PDF_ANNOTATION_KEYS:
            if key in annot:
                del annot[key]
                found = True
    return found


def _drop_unreachable(writer: PdfWriter) -> None:
    """Mark and sweep from the catalog: objects cloned and then unlinked (an
    annotation author stored as its own object, say) must not be written.
    Relies on pypdf's writer keeping its objects in ``_objects``; a change
    there fails closed (AttributeError -> could_not_parse) and the tests notice."""
    objects = writer._objects
    root = writer.root_object
    reachable = {root.indirect_reference.idnum}
    stack: list = [root]
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if obj.pdf is not writer or obj.idnum in reachable:
                continue
            reachable.add(obj.idnum)
            obj = objects[obj.idnum - 1]
        if isinstance(obj, dict):  # includes streams
            stack.extend(dict.values(obj))  # raw values: references stay unresolved
        elif isinstance(obj, list):
            stack.extend(list.__iter__(obj))
    for index in range(len(objects)):
        if index + 1 not in reachable:
            objects[index] = None


# --------------------------------------------------------------------------
# Zip-based documents


def _open_zip(data: bytes) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """Open and vet an archive; limits use declared sizes, which zipfile enforces
    when reading (output is capped at file_size and the CRC is checked)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise _Refuse("could_not_parse") from None
    infos = archive.infolist()
    if len(infos) > ZIP_MAX_ENTRIES or sum(i.file_size for i in infos) > ZIP_MAX_TOTAL_BYTES:
        raise _Refuse("too_large_to_clean")
    names = set()
    for info in infos:
        if info.file_size >= ZIP_RATIO_MIN_BYTES and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1):
            raise _Refuse("could_not_parse")  # zip bomb
        if info.flag_bits & 0x1:
            raise _Refuse("could_not_parse")  # encrypted entry
        if info.filename in names:
            raise _Refuse("could_not_parse")  # duplicates: readers may pick the uncleaned one
        names.add(info.filename)
    return archive, infos


def _zip_metadata_found(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> bool:
    return bool(archive.comment) or any(
        tuple(i.date_time) != _ZIP_EPOCH or i.extra or i.comment for i in infos)


def _write_entry(out: zipfile.ZipFile, name: str, payload: bytes, stored: bool) -> None:
    # Fresh ZipInfo: no dates, extra fields (uid/gid, NTFS times) or comments.
    info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    if name.endswith("/"):
        info.external_attr = 0x10  # MS-DOS directory flag
    out.writestr(info, payload)


def _parse_xml(payload: bytes) -> ElementTree.Element:
    # Package XML never needs entity declarations; refusing them rules out
    # entity-expansion bombs whatever the expat version.
    if b"<!ENTITY" in payload:
        raise _Refuse("could_not_parse")
    try:
        return ElementTree.fromstring(payload)
    except ElementTree.ParseError:
        raise _Refuse("could_not_parse") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# An empty element, matched with quoted attribute values so ">" inside them is
# fine, with its indentation and line end so no blank lines are left behind.
_EMPTY_ELEMENT = r"[ \t]*<(?:[A-Za-z_][\w.-]*:)?{name}\b(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*?)/>(?:\r?\n)?"
_ATTRIBUTE = re.compile(r"(?P<name>[\w.:-]+)\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)')")


def _attributes(text: str) -> dict[str, str]:
    return {m["name"].rsplit(":", 1)[-1]: html.unescape(m["dq"] if m["dq"] is not None else m["sq"])
            for m in _ATTRIBUTE.finditer(text)}


def _drop_elements(payload: bytes, name: str, drop) -> bytes:
    """Remove empty elements `name` whose attributes satisfy drop(attrs); keeps
    the rest of the document byte for byte."""
    text = payload.decode("utf-8")
    pattern = re.compile(_EMPTY_ELEMENT.format(name=re.escape(name)))
    return pattern.sub(lambda m: "" if drop(_attributes(m["attrs"])) else m[0], text).encode("utf-8")


def _part_name(target: str, base: str = "") -> str:
    """Normalise a relationship target / part name to a zip entry name."""
    path = target if target.startswith("/") else posixpath.join("/" + base, target)
    return posixpath.normpath(path).lstrip("/")


_REL_CORE = "/metadata/core-properties"
_REL_APP = "/extended-properties"
_REL_CUSTOM = "/custom-properties"
_REL_THUMBNAIL = "/metadata/thumbnail"
_REL_SIGNATURE = "/digital-signature/origin"

# Paths of the author's folders (C:\\Users\\<name>\\...): where Excel saved the
# workbook, and the template a Word document was made from (an element and
# its external relationship).
_PATH_ELEMENTS = (
    ("xl/workbook.xml", "absPath", lambda attrs: True),
    ("word/settings.xml", "attachedTemplate", lambda attrs: True),
    ("word/_rels/settings.xml.rels", "Relationship",
     lambda attrs: attrs.get("Type", "").endswith("/attachedTemplate")),
)

_OFFICE_MEDIA_TYPES = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "application/vnd.ms-word.document.macroEnabled.12"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.ms-excel.sheet.macroEnabled.12"),
    "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation",
             "application/vnd.ms-powerpoint.presentation.macroEnabled.12"),
}


def _clean_office(data: bytes) -> tuple[bytes, list[str], str]:
    archive, infos = _open_zip(data)
    names = [i.filename for i in infos]
    if "[Content_Types].xml" not in names:
        raise _Refuse("could_not_parse")
    content_types = archive.read("[Content_Types].xml")
    _parse_xml(content_types)

    core, app, custom, thumbs = {"docProps/core.xml"}, {"docProps/app.xml"}, {"docProps/custom.xml"}, set()
    signatures = {n for n in names if n.lower().startswith("_xmlsignatures/")}
    root_rels = archive.read("_rels/.rels") if "_rels/.rels" in names else None
    main_part = ""
    if root_rels is not None:
        for rel in _parse_xml(root_rels):
            if _local(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
                continue
            rel_type, part = rel.get("Type", ""), _part_name(rel.get("Target", ""))
            if rel_type.endswith(_REL_CORE):
                core.add(part)
            elif rel_type.endswith(_REL_APP):
                app.add(part)
            elif rel_type.endswith(_REL_CUSTOM):
                custom.add(part)
            elif rel_type.endswith(_REL_THUMBNAIL):
                thumbs.add(part)
            elif rel_type.endswith(_REL_SIGNATURE):
                signatures.add(part)
            elif rel_type.endswith("/officeDocument"):
                main_part = part
    thumbs |= {n for n in names if n.lower().startswith("docprops/thumbnail")}

    present = set(names)
    removed: list[str] = []
    replace: dict[str, bytes] = {}
    for part in sorted(core & present):
        if len(_parse_xml(archive.read(part))) and "office_core" not in removed:
            removed.append("office_core")
        replace[part] = _EMPTY_CORE_XML
    for part in sorted(app & present):
        if len(_parse_xml(archive.read(part))) and "office_app" not in removed:
            removed.append("office_app")
        replace[part] = _EMPTY_APP_XML
    for part, name, drop_if in _PATH_ELEMENTS:
        if part in present:
            original = archive.read(part)
            edited = _drop_elements(original, name, drop_if)
            if edited != original:
                _parse_xml(edited)
                replace[part] = edited
                if "office_paths" not in removed:
                    removed.append("office_paths")
    # Signatures carry the signer's certificate and would be broken by our edits anyway.
    drop = (custom | thumbs | signatures) & present
    for parts, code in ((custom, "office_custom"), (thumbs, "thumbnail"), (signatures, "signature")):
        if parts & present:
            removed.append(code)
    # A removed part's own relationships go with it.
    drop |= {posixpath.join(posixpath.dirname(p), "_rels", posixpath.basename(p) + ".rels") for p in drop} & present

    if drop:
        dropped = {d.lower() for d in drop}
        replace["[Content_Types].xml"] = _drop_elements(
            content_types, "Override", lambda a: _part_name(a.get("PartName", "")).lower() in dropped)
        if root_rels is not None:
            replace["_rels/.rels"] = _drop_elements(
                root_rels, "Relationship",
                lambda a: a.get("TargetMode") != "External" and _part_name(a.get("Target", "")).lower() in dropped)
        _check_no_dangling(replace, root_rels is not None, dropped)
    if _zip_metadata_found(archive, infos):
        removed.append("zip_timestamps")

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in infos:
            if info.filename in drop:
                continue
            payload = replace.get(info.filename)
            if payload is None:
                payload = archive.read(info)
            _write_entry(target, info.filename, payload, info.compress_type == zipfile.ZIP_STORED)

    family = next((prefix for prefix in _OFFICE_MEDIA_TYPES if main_part.startswith(prefix)), None)
    media_type = _OCTET
    if family:
        macro = b"macroEnabled" in content_types
        media_type = _OFFICE_MEDIA_TYPES[family][1 if macro else 0]
    return out.getvalue(), removed, media_type


def _check_no_dangling(replace: dict[str, bytes], has_rels: bool, dropped: set[str]) -> None:
    """The text edits must leave well-formed XML without references to removed parts."""
    for element in _parse_xml(replace["[Content_Types].xml"]):
        if _part_name(element.get("PartName", "/")).lower() in dropped:
            raise _Refuse("could_not_parse")
    if has_rels:
        for element in _parse_xml(replace["_rels/.rels"]):
            if element.get("TargetMode") != "External" and _part_name(element.get("Target", "")).lower() in dropped:
                raise _Refuse("could_not_parse")


def _clean_odf(data: bytes) -> tuple[bytes, list[str], str]:
    archive, infos = _open_zip(data)
    names = [i.filename for i in infos]
    if "mimetype" not in names:
        raise _Refuse("could_not_parse")
    mimetype = archive.read("mimetype")
    if not mimetype.startswith(_ODF_MIMETYPE_PREFIX) or not re.fullmatch(rb"[a-z0-9.+-]+/[a-z0-9.+-]+", mimetype):
        raise _Refuse("could_not_parse")

    removed: list[str] = []
    replace: dict[str, bytes] = {}
    if "META-INF/manifest.xml" in names:
        manifest = archive.read("META-INF/manifest.xml")
        manifest_root = _parse_xml(manifest)
        if any(_local(e.tag) == "encryption-data" for e in manifest_root.iter()):
            raise _Refuse("could_not_parse")  # password-protected: meta.xml is encrypted too
    else:
        manifest = None
    if "meta.xml" in names:
        meta = archive.read("meta.xml")
        meta_root = _parse_xml(meta)
        if any(len(child) for child in meta_root):
            removed.append("odf_meta")
        version = meta_root.get("{urn:oasis:names:tc:opendocument:xmlns:office:1.0}version", "1.2")
        if not re.fullmatch(r"[0-9.]{1,8}", version):
            version = "1.2"
        replace["meta.xml"] = _EMPTY_ODF_META.format(version=version).encode("utf-8")

    thumbs = {n for n in names if n.startswith("Thumbnails/")}
    # Signatures carry the signer's certificate and would be broken by our edits anyway.
    signatures = {n for n in names if n in _ODF_SIGNATURES}
    drop = thumbs | signatures
    for parts, code in ((thumbs, "thumbnail"), (signatures, "signature")):
        if parts:
            removed.append(code)

    def dropped(path: str) -> bool:
        return path.startswith("Thumbnails/") or path in drop

    if drop and manifest is not None:
        replace["META-INF/manifest.xml"] = _drop_elements(
            manifest, "file-entry", lambda a: dropped(a.get("full-path", "")))
        for element in _parse_xml(replace["META-INF/manifest.xml"]).iter():
            if _local(element.tag) == "file-entry" and any(
                    dropped(value) for key, value in element.attrib.items() if _local(key) == "full-path"):
                raise _Refuse("could_not_parse")
    if _zip_metadata_found(archive, infos):
        removed.append("zip_timestamps")

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        # ODF: "mimetype" first and stored, so its content sits at a fixed offset.
        _write_entry(target, "mimetype", mimetype, stored=True)
        for info in infos:
            if info.filename == "mimetype" or info.filename in drop:
                continue
            payload = replace.get(info.filename)
            if payload is None:
                payload = archive.read(info)
            _write_entry(target, info.filename, payload, info.compress_type == zipfile.ZIP_STORED)
    return out.getvalue(), removed, mimetype.decode("ascii")
