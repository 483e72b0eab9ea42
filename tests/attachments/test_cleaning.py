"""Attachment metadata removal (docs/architecture.md, "Data, anonymity and the web rules").

Every fixture is built here, in memory; the canary strings must not survive
cleaning anywhere in the output bytes (or inside any zip entry).
"""
from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo
from pypdf import PdfReader, PdfWriter

from portal.attachments import cleaning as fc
from portal.attachments.cleaning import CleanResult, clean_file, detect_kind, extension_of, safe_filename
from portal.attachments.cleaning import images, safe_zip
from support import run_at_once

CANARY = b"Canary"


# --------------------------------------------------------------------------
# Fixture builders


def _jpeg(size=(8, 8), color=(0, 128, 0), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", **save)
    return out.getvalue()


def _exif_block(orientation: int, thumbnail: bytes) -> bytes:
    """Little-endian TIFF laid out by hand so that IFD1 (the embedded thumbnail)
    exists too, which Pillow's Exif writer does not produce."""

    def entry(tag, typ, count, value):
        return struct.pack("<HHII", tag, typ, count, value)

    def ascii_inline(tag, text):
        return struct.pack("<HHI4s", tag, 2, len(text), text)

    def ifd(entries, next_offset):
        return struct.pack("<H", len(entries)) + b"".join(entries) + struct.pack("<I", next_offset)

    def rationals(values):
        return b"".join(struct.pack("<II", v, 1) for v in values)

    artist = b"Canary Artist\x00"
    ifd0_at = 8
    artist_at = ifd0_at + 2 + 3 * 12 + 4
    gps_at = artist_at + len(artist)
    lat_at = gps_at + 2 + 4 * 12 + 4
    lon_at = lat_at + 24
    ifd1_at = lon_at + 24
    thumb_at = ifd1_at + 2 + 2 * 12 + 4
    ifd0 = ifd([struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0),
                entry(0x013B, 2, len(artist), artist_at),
                entry(0x8825, 4, 1, gps_at)], ifd1_at)
    gps = ifd([ascii_inline(1, b"N\x00"), entry(2, 5, 3, lat_at),
               ascii_inline(3, b"E\x00"), entry(4, 5, 3, lon_at)], 0)
    ifd1 = ifd([entry(0x0201, 4, 1, thumb_at), entry(0x0202, 4, 1, len(thumbnail))], 0)
    tiff = (b"II*\x00" + struct.pack("<I", ifd0_at) + ifd0 + artist + gps
            + rationals((59, 54, 17)) + rationals((10, 45, 3)) + ifd1 + thumbnail)
    return b"Exif\x00\x00" + tiff


def _photo_with_gps(orientation: int = 6) -> bytes:
    # 40x20, red left half, blue right half: orientation 6 turns it upright as 20x40, red on top.
    im = Image.new("RGB", (40, 20), (255, 0, 0))
    im.paste((0, 0, 255), (20, 0, 40, 20))
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    im.save(out, "JPEG", quality=95, exif=_exif_block(orientation, _jpeg()), icc_profile=icc,
            comment=b"Canary comment", xmp=b"<x:xmpmeta>Canary XMP</x:xmpmeta>")
    return out.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_chunk_types(data: bytes) -> list[bytes]:
    types, pos = [], 8
    while pos + 8 <= len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        types.append(data[pos + 4:pos + 8])
        pos += 12 + length
    return types


def _png_claiming(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b""))


def _pdf_by_hand() -> bytes:
    """A one-page PDF with text, document info, XMP, page /PieceInfo and /Metadata,
    a commented annotation and a file identifier: every place an author hides."""
    xmp = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
           b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
           b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>Canary Person'
           b'</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>')
    content = b"BT /F1 12 Tf 20 100 Td (Evidence line) Tj ET q /Fx1 Do Q"
    form = b"0 0 m 10 10 l S"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200]"
        b" /Resources << /Font << /F1 4 0 R >> /XObject << /Fx1 9 0 R >> >>"
        b" /Contents 5 0 R /Annots [8 0 R 11 0 R] /Metadata 6 0 R /LastModified (D:20240501120000Z)"
        b" /PieceInfo << /CanaryApp << /Private (Canary Person private data) >> >> >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % len(xmp) + xmp + b"\nendstream",
        b"<< /Author (Canary Person) /Creator (Canary Writer 9) /Producer (Canary PDF Library)"
        b" /Title (Canary title) /CreationDate (D:20240501120000+02'00') >>",
        b"<< /Type /Annot /Subtype /Text /Rect [10 10 30 30] /Contents (see here) /T (Canary Person)"
        b" /M (D:20240501120000Z) >>",
        # A form XObject with its own private data, held in a separate object.
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /PieceInfo << /App << /Private 10 0 R >> >>"
        b" /Length %d >>\nstream\n" % len(form) + form + b"\nendstream",
        b"(Canary form private data)",
        # An annotation whose author is an object of its own (must not be left orphaned in the output).
        b"<< /Type /Annot /Subtype /Square /Rect [40 40 60 60] /T 12 0 R /CreationDate (D:20240501) >>",
        b"(Canary Person indirect)",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref_at = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R /ID [<43616e617279> <43616e617279>] >>\n"
              % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref_at)
    return out.getvalue()


def _pdf_by_pypdf(**encrypt) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": "Canary Person", "/Subject": "Canary subject"})
    writer.xmp_metadata = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">Canary Person</x:xmpmeta>'
    if encrypt:
        writer.encrypt(**encrypt)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


_DATED = (2024, 5, 1, 12, 34, 56)


def _zip(entries: list[tuple[str, bytes]], stored: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, payload in entries:
            info = zipfile.ZipInfo(name, date_time=_DATED)
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, payload)
    return out.getvalue()


_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OD = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_DOCX_DOCUMENT = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                  b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                  b'<w:body><w:p><w:r><w:t>Evidence body</w:t></w:r></w:p></w:body></w:document>')


def _docx(extra: list[tuple[str, bytes]] = (), document: bytes = _DOCX_DOCUMENT) -> bytes:
    content_types = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="{_CT}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="jpeg" ContentType="image/jpeg"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'wordprocessingml.document.main+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.'
        'core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'extended-properties+xml"/>'
        '<Override PartName="/docProps/custom.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'custom-properties+xml"/>'
        '<Override PartName="/_xmlsignatures/sig1.xml" ContentType="application/vnd.openxmlformats-package.'
        'digital-signature-xmlsignature+xml"/></Types>').encode()
    rels = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_RELS}">'
        f'<Relationship Id="rId3" Type="{_OD}/extended-properties" Target="docProps/app.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
        'core-properties" Target="docProps/core.xml"/>'
        '<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
        'thumbnail" Target="docProps/thumbnail.jpeg"/>'
        f'<Relationship Id="rId1" Type="{_OD}/officeDocument" Target="word/document.xml"/>'
        f'<Relationship Id="rId4" Type="{_OD}/custom-properties" Target="/docProps/custom.xml"/>'
        '<Relationship Id="rId6" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
        'digital-signature/origin" Target="_xmlsignatures/origin.sigs"/>'
        '</Relationships>').encode()
    signature_rels = (
        f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'package/2006/relationships/digital-signature/signature" Target="sig1.xml"/></Relationships>').encode()
    core = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties '
        b'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>Canary title</dc:title>'
        b'<dc:creator>Canary Person</dc:creator><cp:lastModifiedBy>Canary Person</cp:lastModifiedBy>'
        b'<dcterms:created xsi:type="dcterms:W3CDTF">2024-05-01T12:00:00Z</dcterms:created></cp:coreProperties>')
    app = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://schemas.'
        b'openxmlformats.org/officeDocument/2006/extended-properties"><Template>C:\\Users\\Canary\\t.dotm'
        b'</Template><TotalTime>42</TotalTime><Company>Canary Corp</Company><Manager>Canary Boss</Manager>'
        b'</Properties>')
    custom = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://schemas.'
        b'openxmlformats.org/officeDocument/2006/custom-properties"><property name="Owner">Canary</property>'
        b'</Properties>')
    return _zip([("[Content_Types].xml", content_types), ("_rels/.rels", rels),
                 ("word/document.xml", document), ("docProps/core.xml", core), ("docProps/app.xml", app),
                 ("docProps/custom.xml", custom), ("docProps/thumbnail.jpeg", _jpeg(comment=b"Canary")),
                 ("_xmlsignatures/origin.sigs", b""), ("_xmlsignatures/_rels/origin.sigs.rels", signature_rels),
                 ("_xmlsignatures/sig1.xml", b"<Signature><X509Certificate>Canary cert</X509Certificate></Signature>"),
                 *extra])


_ODT_MIME = b"application/vnd.oasis.opendocument.text"


def _odt(manifest_extra: str = "") -> bytes:
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.'
        'opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="Thumbnails/thumbnail.png" manifest:media-type="image/png"/>'
        f'{manifest_extra}</manifest:manifest>').encode()
    meta = (
        b'<?xml version="1.0" encoding="UTF-8"?><office:document-meta '
        b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        b'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.3"><office:meta>'
        b'<meta:initial-creator>Canary Person</meta:initial-creator><dc:creator>Canary Person</dc:creator>'
        b'<meta:creation-date>2024-05-01T12:00:00</meta:creation-date>'
        b'<meta:generator>Canary Office/7.6</meta:generator></office:meta></office:document-meta>')
    content = (
        b'<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        b'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
        b'<office:body><office:text><text:p>Evidence body</text:p></office:text></office:body>'
        b'</office:document-content>')
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, "PNG", pnginfo=_png_info("Canary"))
    return _zip([("mimetype", _ODT_MIME), ("content.xml", content), ("meta.xml", meta),
                 ("Thumbnails/thumbnail.png", png.getvalue()), ("META-INF/manifest.xml", manifest),
                 ("META-INF/documentsignatures.xml", b"<signatures>Canary cert</signatures>")],
                stored=("mimetype",))


def _png_info(author: str) -> PngInfo:
    info = PngInfo()
    info.add_text("Author", author)
    info.add_itxt("Description", f"{author} iTXt", lang="en")
    info.add_text("Comment", f"{author} zTXt", zip=True)
    return info


def _entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _assert_unchanged(result: CleanResult, data: bytes, warning: str) -> None:
    assert result.data == data
    assert result.cleaned is False
    assert result.removed == ()
    assert result.warning == warning


# --------------------------------------------------------------------------
# Images


def test_jpeg_loses_exif_gps_thumbnail_and_is_turned_upright():
    data = _photo_with_gps(orientation=6)
    with Image.open(io.BytesIO(data)) as original:  # the fixture really carries it all
        exif = original.getexif()
        assert exif[0x013B] == "Canary Artist" and exif.get_ifd(0x8825) and exif.get_ifd(-1)
    assert data.count(b"\xff\xd8\xff") == 2  # the photo and its EXIF thumbnail

    result = clean_file("IMG_0001.JPG", data)

    assert (result.kind, result.cleaned, result.warning) == ("image", True, None)
    assert result.media_type == "image/jpeg"
    assert set(result.removed) >= {"exif", "gps", "thumbnail", "xmp", "icc_profile", "comment"}
    assert CANARY not in result.data
    assert b"Exif" not in result.data and b"ICC_PROFILE" not in result.data and b"xap" not in result.data
    assert result.data.count(b"\xff\xd8\xff") == 1
    with Image.open(io.BytesIO(result.data)) as cleaned:
        assert cleaned.format == "JPEG"
        assert len(cleaned.getexif()) == 0
        assert not cleaned.info.get("icc_profile") and not cleaned.info.get("comment")
        assert [m for m, _ in cleaned.applist if m not in ("APP0",)] == []
        assert cleaned.size == (20, 40)  # orientation applied to the pixels
        top, bottom = cleaned.convert("RGB").getpixel((10, 5)), cleaned.convert("RGB").getpixel((10, 35))
        assert top[0] > 200 and top[2] < 60  # red, formerly the left half
        assert bottom[2] > 200 and bottom[0] < 60


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow reports the corrupt EXIF
def test_jpeg_with_broken_exif_is_still_cleaned():
    data = _jpeg(size=(9, 7), exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7fCanary garbage")
    result = clean_file("x.jpg", data)
    assert result.cleaned and "exif" in result.removed
    assert CANARY not in result.data and b"Exif" not in result.data
    with Image.open(io.BytesIO(result.data)) as cleaned:
        assert cleaned.size == (9, 7)


def test_jpeg_without_rotation_keeps_dimensions():
    result = clean_file("p.jpg", _photo_with_gps(orientation=1))
    with Image.open(io.BytesIO(result.data)) as cleaned:
        assert cleaned.size == (40, 20)


def test_png_text_chunks_are_gone_pixels_kept():
    im = Image.new("RGBA", (30, 17), (10, 20, 30, 128))
    im.putpixel((3, 4), (200, 100, 50, 255))
    source = io.BytesIO()
    im.save(source, "PNG", pnginfo=_png_info("Canary Person"))
    data = source.getvalue()
    assert {b"tEXt", b"iTXt", b"zTXt"} <= set(_png_chunk_types(data))

    result = clean_file("shot.png", data)

    assert result.cleaned and result.media_type == "image/png"
    assert "png_text" in result.removed
    assert CANARY not in result.data
    assert not {b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"iCCP", b"tIME"} & set(_png_chunk_types(result.data))
    with Image.open(io.BytesIO(result.data)) as cleaned:
        assert cleaned.size == (30, 17)
        assert cleaned.convert("RGBA").tobytes() == im.tobytes()  # PNG stays lossless


def test_animated_gif_keeps_frames_and_timing_loses_comment():
    frames = [Image.new("RGB", (12, 12), (i * 60, 0, 0)) for i in range(3)]
    source = io.BytesIO()
    frames[0].save(source, "GIF", save_all=True, append_images=frames[1:], duration=[100, 200, 300],
                   loop=0, comment=b"Canary comment")
    result = clean_file("a.gif", source.getvalue())

    assert result.cleaned and "comment" in result.removed and CANARY not in result.data
    with Image.open(io.BytesIO(result.data)) as cleaned:
        assert cleaned.n_frames == 3
        durations = []
        for index in range(3):
            cleaned.seek(index)
            durations.append(cleaned.info["duration"])
        assert durations == [100, 200, 300]
        assert "comment" not in cleaned.info


def test_webp_exif_and_xmp_removed_lossless_stays_lossless():
    source = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(
        source, "WEBP", lossless=True, exif=_exif_block(1, b""), xmp=b"<x:xmpmeta>Canary</x:xmpmeta>")
    result = clean_file("x.webp", source.getvalue())

    assert result.cleaned and {"exif", "gps", "xmp"} <= set(result.removed)
    assert CANARY not in result.data and b"EXIF" not in result.data and b"XMP " not in result.data
    assert b"VP8L" in result.data
    with Image.open(io.BytesIO(result.data)) as cleaned:
        assert cleaned.getpixel((5, 5)) == (1, 2, 3)


def test_animation_beyond_budget_keeps_first_frame(monkeypatch):
    monkeypatch.setattr(images, "ANIMATION_MAX_FRAMES", 2)
    frames = [Image.new("RGB", (8, 8), (i * 80, 0, 0)) for i in range(3)]
    source = io.BytesIO()
    frames[0].save(source, "GIF", save_all=True, append_images=frames[1:])
    result = clean_file("a.gif", source.getvalue())
    assert "animation_frames" in result.removed
    with Image.open(io.BytesIO(result.data)) as cleaned:
        assert getattr(cleaned, "n_frames", 1) == 1


# --------------------------------------------------------------------------
# PDF


def _all_pdf_bytes(data: bytes) -> bytes:
    """Raw bytes plus every decoded stream, so nothing hides behind compression."""
    reader = PdfReader(io.BytesIO(data))
    chunks = [data]
    for number in range(1, int(reader.trailer["/Size"])):
        try:
            obj = reader.get_object(number)
        except Exception:
            continue
        if hasattr(obj, "get_data"):
            chunks.append(obj.get_data())
    return b"".join(chunks)


def test_pdf_loses_info_xmp_page_metadata_annotation_author_and_id():
    data = _pdf_by_hand()
    assert PdfReader(io.BytesIO(data)).metadata.author == "Canary Person"

    result = clean_file("report.pdf", data)

    assert (result.kind, result.cleaned, result.warning, result.media_type) == ("pdf", True, None,
                                                                               "application/pdf")
    assert set(result.removed) >= {"pdf_info", "pdf_xmp", "pdf_page_metadata", "pdf_annot_author"}
    assert CANARY not in _all_pdf_bytes(result.data)
    assert b"pypdf" not in result.data and b"/Producer" not in result.data
    reader = PdfReader(io.BytesIO(result.data))
    assert not reader.metadata
    assert reader.xmp_metadata is None
    assert "/ID" not in reader.trailer and "/Info" not in reader.trailer
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert "Evidence line" in page.extract_text()
    assert not {"/Metadata", "/PieceInfo", "/LastModified"} & set(page.keys())
    annotations = [a.get_object() for a in page["/Annots"]]
    assert annotations[0]["/Contents"] == "see here"
    assert [a["/Subtype"] for a in annotations] == ["/Text", "/Square"]
    assert not [a for a in annotations if {"/T", "/M", "/CreationDate"} & set(a.keys())]
    form = page["/Resources"]["/XObject"]["/Fx1"].get_object()
    assert form.get_data() == b"0 0 m 10 10 l S" and "/PieceInfo" not in form


def test_pdf_made_by_pypdf_writer():
    data = _pdf_by_pypdf()
    assert b"Canary Person" in data
    result = clean_file("x.pdf", data)
    assert result.cleaned and {"pdf_info", "pdf_xmp"} <= set(result.removed)
    assert CANARY not in result.data and b"pypdf" not in result.data
    reader = PdfReader(io.BytesIO(result.data))
    assert len(reader.pages) == 1 and reader.pages[0].mediabox.width == 200


def test_pdf_with_empty_user_password_is_cleaned_and_password_protected_one_is_not():
    opens_freely = _pdf_by_pypdf(user_password="", owner_password="owner", algorithm="AES-128")
    result = clean_file("x.pdf", opens_freely)
    assert result.cleaned and CANARY not in result.data
    assert len(PdfReader(io.BytesIO(result.data)).pages) == 1

    locked = _pdf_by_pypdf(user_password="secret", owner_password="owner", algorithm="AES-128")
    result = clean_file("x.pdf", locked)
    _assert_unchanged(result, locked, "could_not_parse")
    assert result.media_type == "application/octet-stream"


# --------------------------------------------------------------------------
# Office Open XML


def test_docx_properties_custom_and_thumbnail_removed_package_consistent():
    data = _docx()
    assert detect_kind("evidence.docx", data) == "office"

    result = clean_file("evidence.docx", data)

    assert (result.kind, result.cleaned, result.warning) == ("office", True, None)
    assert result.media_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert set(result.removed) == {"office_core", "office_app", "office_custom", "thumbnail", "signature",
                                   "zip_timestamps"}
    entries = _entries(result.data)
    assert list(entries) == ["[Content_Types].xml", "_rels/.rels", "word/document.xml", "docProps/core.xml",
                             "docProps/app.xml"]  # order kept; custom, thumbnail and signature parts gone
    for name, payload in entries.items():
        assert CANARY not in payload, name
    assert entries["word/document.xml"] == _DOCX_DOCUMENT

    core = ElementTree.fromstring(entries["docProps/core.xml"])
    assert core.tag.endswith("}coreProperties") and len(core) == 0
    app = ElementTree.fromstring(entries["docProps/app.xml"])
    assert app.tag.endswith("}Properties") and len(app) == 0

    # Every override and every internal relationship points at an existing part.
    for override in ElementTree.fromstring(entries["[Content_Types].xml"]).iter(f"{{{_CT}}}Override"):
        assert override.get("PartName").lstrip("/") in entries
    targets = [r.get("Target").lstrip("/")
               for r in ElementTree.fromstring(entries["_rels/.rels"]).iter(f"{{{_RELS}}}Relationship")]
    assert sorted(targets) == ["docProps/app.xml", "docProps/core.xml", "word/document.xml"]

    with zipfile.ZipFile(io.BytesIO(result.data)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


_WORKBOOK = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             b'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
             b'xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac">'
             b'<mc:AlternateContent><mc:Choice Requires="x15">'
             b'<x15ac:absPath url="C:\\Users\\' + CANARY + b'\\Documents\\"/>'
             b'</mc:Choice></mc:AlternateContent><sheets><sheet name="Blad1" sheetId="1"/></sheets></workbook>')
_SETTINGS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             b'<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
             b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             b'<w:zoom w:percent="100"/><w:attachedTemplate r:id="rId1"/></w:settings>')
_SETTINGS_RELS = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{_RELS}">'
                  f'<Relationship Id="rId1" Type="{_OD}/attachedTemplate" TargetMode="External" '
                  f'Target="file:///C:/Users/{CANARY.decode()}/Templates/Normal.dotm"/></Relationships>').encode()


def test_office_folder_paths_with_user_names_are_removed():
    data = _docx(extra=[("xl/workbook.xml", _WORKBOOK), ("word/settings.xml", _SETTINGS),
                        ("word/_rels/settings.xml.rels", _SETTINGS_RELS)])
    result = clean_file("evidence.docx", data)
    assert "office_paths" in result.removed
    entries = _entries(result.data)
    for name, payload in entries.items():
        assert CANARY not in payload, name
    workbook = ElementTree.fromstring(entries["xl/workbook.xml"])
    assert [e.get("name") for e in workbook.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet")] \
        == ["Blad1"]
    settings = ElementTree.fromstring(entries["word/settings.xml"])
    assert [e.tag.rsplit("}", 1)[1] for e in settings] == ["zoom"]
    assert len(ElementTree.fromstring(entries["word/_rels/settings.xml.rels"])) == 0


def test_office_zip_without_content_types_but_docx_name_is_not_parsed():
    data = _zip([("word/document.xml", _DOCX_DOCUMENT)])
    result = clean_file("x.docx", data)
    _assert_unchanged(result, data, "could_not_parse")


_ENTITY_BOMB = ('<?xml version="1.0" encoding="{encoding}"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
                '<!ENTITY b "&a;&a;&a;&a;">]><cp:coreProperties xmlns:cp="x">&b;</cp:coreProperties>')


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16"])
def test_office_xml_with_entity_declarations_is_refused(encoding):
    """Also in UTF-16, where a byte search for '<!ENTITY' finds nothing."""
    bomb = _ENTITY_BOMB.format(encoding=encoding).encode(encoding.lower())
    data = _zip([("[Content_Types].xml", b'<Types xmlns="%s"/>' % _CT.encode()), ("docProps/core.xml", bomb)])
    _assert_unchanged(clean_file("x.docx", data), data, "could_not_parse")


def test_office_xml_naming_an_external_dtd_is_refused():
    external = (b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://attacker.example/d.dtd">'
                b'<cp:coreProperties xmlns:cp="x">text</cp:coreProperties>')
    data = _zip([("[Content_Types].xml", b'<Types xmlns="%s"/>' % _CT.encode()), ("docProps/core.xml", external)])
    _assert_unchanged(clean_file("x.docx", data), data, "could_not_parse")


# --------------------------------------------------------------------------
# ODF


def test_odt_meta_and_thumbnails_removed_mimetype_first_and_stored():
    data = _odt()
    assert detect_kind("x.bin", data) == "odf"

    result = clean_file("minutes.odt", data)

    assert (result.kind, result.cleaned, result.warning) == ("odf", True, None)
    assert result.media_type == _ODT_MIME.decode()
    assert set(result.removed) == {"odf_meta", "thumbnail", "signature", "zip_timestamps"}
    with zipfile.ZipFile(io.BytesIO(result.data)) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    assert result.data[30:38 + len(_ODT_MIME)] == b"mimetype" + _ODT_MIME  # readable at a fixed offset
    entries = _entries(result.data)
    assert list(entries) == ["mimetype", "content.xml", "meta.xml", "META-INF/manifest.xml"]
    for name, payload in entries.items():
        assert CANARY not in payload, name
    meta = ElementTree.fromstring(entries["meta.xml"])
    assert meta.tag.endswith("}document-meta") and [len(child) for child in meta] == [0]
    assert b"Evidence body" in entries["content.xml"]
    manifest = ElementTree.fromstring(entries["META-INF/manifest.xml"])
    paths = [e.get("{urn:oasis:names:tc:opendocument:xmlns:manifest:1.0}full-path") for e in manifest]
    assert paths == ["/", "content.xml", "meta.xml"]


def test_password_protected_odt_is_not_touched():
    encrypted = ('<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml">'
                 '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x"/>'
                 '</manifest:file-entry>')
    data = _odt(manifest_extra=encrypted)
    _assert_unchanged(clean_file("x.odt", data), data, "could_not_parse")


# --------------------------------------------------------------------------
# Hostile and unsupported input


def test_truncated_jpeg():
    data = _photo_with_gps()[:400]
    result = clean_file("x.jpg", data)
    _assert_unchanged(result, data, "could_not_parse")
    assert result.kind == "image" and result.media_type == "application/octet-stream"


def test_random_bytes_named_pdf():
    data = random.Random(7).randbytes(4096)
    result = clean_file("x.pdf", data)
    assert result.kind == "pdf"
    _assert_unchanged(result, data, "could_not_parse")


def test_zip_bomb_is_refused_before_decompression():
    data = _zip([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"\x00" * (8 * 1024 * 1024))])
    assert len(data) < 64 * 1024
    _assert_unchanged(clean_file("x.docx", data), data, "could_not_parse")


@pytest.mark.parametrize(("limit", "value"), [("ZIP_MAX_ENTRIES", 3), ("ZIP_MAX_TOTAL_BYTES", 1000)])
def test_archive_limits(monkeypatch, limit, value):
    monkeypatch.setattr(safe_zip, limit, value)
    data = _docx()
    _assert_unchanged(clean_file("x.docx", data), data, "too_large_to_clean")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("size", [(100_000, 100_000), (10_000, 10_000)], ids=["pillow-error", "pillow-warning"])
def test_decompression_bomb_png(size):
    data = _png_claiming(*size)
    result = clean_file("huge.png", data)
    _assert_unchanged(result, data, "could_not_parse")


def _big_png_with_metadata(size=(9_000, 9_000)) -> bytes:
    ihdr = struct.pack(">IIBBBBB", *size, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"tEXt", b"Author\x00Canary Person")
            + _png_chunk(b"iCCP", b"Canary profile\x00\x00" + zlib.compress(b"icc"))
            + _png_chunk(b"eXIf", b"MM\x00*Canary") + _png_chunk(b"tIME", b"\x07\xea\x0c\x07\x01\x02\x03")
            + _png_chunk(b"gAMA", struct.pack(">I", 45455))
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b"") + b"Canary trailer")


def test_a_png_too_large_to_decode_loses_its_metadata_without_decoding(monkeypatch):
    """81 MP in a few hundred bytes: decoding would take gigabytes, so the
    chunks are filtered instead; the compressed picture is kept as it is."""
    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(images, "_reencode", no_decoding)
    data = _big_png_with_metadata()
    result = clean_file("huge.png", data)
    assert (result.cleaned, result.warning, result.media_type) == (True, None, "image/png")
    assert {"png_text", "icc_profile", "exif", "other_metadata"} <= set(result.removed)
    assert CANARY not in result.data
    assert _png_chunk_types(result.data) == [b"IHDR", b"gAMA", b"IDAT", b"IEND"]
    assert _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) in result.data


@pytest.mark.parametrize("damage", ["crc", "truncated", "no-ihdr"])
def test_a_damaged_png_too_large_to_decode_is_kept_with_a_warning(damage):
    data = _big_png_with_metadata()
    if damage == "crc":
        data = data.replace(b"Canary Person", b"Canary Persom")
    elif damage == "truncated":
        data = data[:data.index(b"IEND") - 10]
    else:
        data = data[:8] + data[8 + 25:]  # IHDR removed: the first chunk is text
    result = clean_file("huge.png", data)
    assert (result.cleaned, result.warning) == (False, "could_not_parse")


def test_other_formats_too_large_to_decode_are_refused_as_too_large(monkeypatch):
    monkeypatch.setattr(images, "DECODE_MAX_PIXELS", 100)
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (1, 2, 3)).save(out, "GIF", comment=b"Canary")
    result = clean_file("big.gif", out.getvalue())
    assert (result.cleaned, result.warning) == (False, "too_large_to_clean")


def test_decoding_waits_for_a_free_slot(monkeypatch):
    """At most DECODING_AT_ONCE pictures are decoded at a time in a process,
    so many requests with many files do not multiply the memory."""
    import threading
    import time as clock

    busy, most, lock, full = [0], [0], threading.Lock(), threading.Event()
    real = images._reencode

    def counting(im, data):
        with lock:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
            if busy[0] == images.DECODING_AT_ONCE:
                full.set()
        full.wait(timeout=5)  # hold the slot until every slot is taken
        clock.sleep(0.01)
        try:
            return real(im, data)
        finally:
            with lock:
                busy[0] -= 1

    monkeypatch.setattr(images, "_reencode", counting)
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (9, 9, 9)).save(out, "PNG")
    threads = [threading.Thread(target=clean_file, args=("x.png", out.getvalue())) for _ in range(6)]
    run_at_once(threads)
    assert most[0] == images.DECODING_AT_ONCE


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_stricter_pillow_limit_is_respected(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)  # Pillow would only warn for 100 pixels
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "PNG")
    data = out.getvalue()
    _assert_unchanged(clean_file("x.png", data), data, "could_not_parse")
    # A JPEG that size is not decoded either: its metadata segments are cut out.
    stripped = clean_file("x.jpg", _jpeg(size=(10, 10)))
    assert stripped.cleaned and stripped.data.startswith(b"\xff\xd8") and b"\xff\xe1" not in stripped.data


def test_too_large_to_clean(monkeypatch):
    monkeypatch.setattr(fc, "CLEANABLE_MAX_BYTES", 100)
    data = _photo_with_gps()
    result = clean_file("x.jpg", data)
    _assert_unchanged(result, data, "too_large_to_clean")
    assert result.kind == "image" and result.media_type == "image/jpeg"


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow reports the damaged EXIF it skips
@pytest.mark.parametrize("builder", [_photo_with_gps, _pdf_by_hand, _docx, _odt],
                         ids=["jpeg", "pdf", "docx", "odt"])
def test_damaged_files_never_raise(builder):
    data = builder()
    rng = random.Random(1)
    for cut in (len(data) // 7, len(data) // 3, len(data) - 10):
        assert isinstance(clean_file("damaged", data[:cut]), CleanResult)
    for _ in range(15):
        damaged = bytearray(data)
        for _ in range(8):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        result = clean_file("damaged.bin", bytes(damaged))
        # A flipped size field may also read as "too large"; any refusal must keep the bytes.
        if result.warning:
            assert result.data == bytes(damaged)


def test_plain_text_has_nothing_to_remove():
    result = clean_file("notes.txt", "Meeting notes: 🙂".encode())
    assert (result.kind, result.cleaned, result.warning, result.removed) == ("other", False, None, ())
    assert result.media_type == "text/plain"
    assert clean_file("t.csv", b"a,b\n1,2\n").media_type == "text/csv"


@pytest.mark.parametrize(("name", "data"), [("archive.zip", _zip([("a.txt", b"x")])), ("a.exe", b"MZ\x90\x00"),
                                            ("fake.txt", b"\x00\x01binary")])
def test_other_files_are_kept_with_a_warning(name, data):
    result = clean_file(name, data)
    assert result.kind == "other"
    _assert_unchanged(result, data, "unsupported_type")


# --------------------------------------------------------------------------
# Kinds and names


def test_detect_kind_prefers_magic_bytes():
    png = io.BytesIO()
    Image.new("RGB", (3, 3)).save(png, "PNG")
    assert detect_kind("document.pdf", png.getvalue()) == "image"
    result = clean_file("document.pdf", png.getvalue())
    assert (result.kind, result.media_type, result.cleaned) == ("image", "image/png", True)
    assert result.filename == "document.pdf"

    assert detect_kind("scan.jpg", b"%PDF-1.7\n") == "pdf"
    assert detect_kind("anything", _docx()[:4096]) == "office"
    assert detect_kind("x.xlsx", _zip([("xl/workbook.xml", b"<w/>")])) == "office"
    assert detect_kind("x.zip", _zip([("xl/workbook.xml", b"<w/>")])) == "other"
    assert detect_kind("photo.JPEG", b"") == "image"  # extension only when no magic
    assert detect_kind("notes.txt", b"hello") == "other"


@pytest.mark.parametrize(("raw", "safe"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\canary\\Desktop\\memo.docx", "memo.docx"),
    ("..\\..\\x.pdf", "x.pdf"),
    ("a\x00b\x1fc\x7f.txt", "abc.txt"),
    ("bill\u202egpj.exe", "billgpj.exe"),  # bidi override used to fake the extension
    ("...hidden", "hidden"),
    (".bashrc", "bashrc"),
    ('what?<is>:this|*".pdf', "what__is__this___.pdf"),
    ("tab\tand  spaces .txt", "tab and spaces .txt"),
    ("Cafe\u0301.txt", "Caf\u00e9.txt"),  # NFC
    ("trailing. . ", "trailing"),
    ("CON.txt", "_CON.txt"),
    ("", "file"),
    ("../", "file"),
    ("\x00\x01", "file"),
])
def test_safe_filename(raw, safe):
    assert safe_filename(raw) == safe


def test_safe_filename_long_names_keep_extension():
    name = safe_filename("x" * 300 + ".pdf")
    assert len(name) == 120 and name.endswith("xxx.pdf")
    no_ext = safe_filename("y" * 300)
    assert no_ext == "y" * 120
    odd_ext = safe_filename("z" * 200 + "." + "e" * 40)
    assert len(odd_ext) == 120


@pytest.mark.parametrize(("name", "ext"), [("a.PDF", "pdf"), ("a.tar.gz", "gz"), ("noext", ""),
                                           (".bashrc", ""), ("dir.d/file", ""), ("trail.", ""),
                                           ("C:\\x\\y.DocX", "docx")])
def test_extension_of(name, ext):
    assert extension_of(name) == ext


def test_modules_stay_free_of_flask():
    modules = list(Path(fc.__file__).parent.glob("*.py"))
    assert len(modules) > 5
    for module in modules:
        source = module.read_text(encoding="utf-8").lower()
        assert "import flask" not in source and "from flask" not in source, module.name


def _big_photo(progressive: bool) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "CanaryMake"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (59.0, 19.0, 48.0)
    image = Image.new("RGB", (96, 64), (20, 160, 40))
    image.paste((230, 20, 20), (0, 0, 48, 64))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=92, exif=exif, comment=b"Canary comment", progressive=progressive)
    return out.getvalue() + b"Canary trailer appended by the camera"


@pytest.mark.parametrize("progressive", [False, True])
def test_a_jpeg_too_large_to_decode_loses_its_metadata_losslessly(monkeypatch, progressive):
    monkeypatch.setattr(images, "DECODE_MAX_PIXELS", 100)  # stands for a 100 MP photo
    original = _big_photo(progressive)
    result = clean_file("photo.jpg", original)
    assert (result.cleaned, result.warning, result.media_type) == (True, None, "image/jpeg")
    assert {"exif", "gps", "comment", "extra_images"} <= set(result.removed)
    assert CANARY not in result.data
    with Image.open(io.BytesIO(result.data)) as stripped, Image.open(io.BytesIO(original)) as source:
        assert not stripped.getexif() and "comment" not in stripped.info
        assert stripped.tobytes() == source.tobytes()  # the picture itself, bit for bit


def test_a_damaged_jpeg_too_large_to_decode_is_kept_with_a_warning(monkeypatch):
    monkeypatch.setattr(images, "DECODE_MAX_PIXELS", 100)
    original = _big_photo(False)
    cut = original[:original.index(b"\xff\xda") + 40]  # ends inside the picture
    result = clean_file("photo.jpg", cut)
    assert (result.cleaned, result.warning) == (False, "could_not_parse")


def test_a_jpeg_with_more_scans_than_any_encoder_writes_is_cut_not_decoded(monkeypatch):
    """Decoding costs per scan: a small progressive JPEG repeating a scan
    100,000 times took 39 s (review finding). Past JPEG_MAX_SCANS the file's
    metadata is cut out without decoding."""
    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded")

    original = _big_photo(progressive=True)
    assert original.count(b"\xff\xda") > 1
    monkeypatch.setattr(images, "JPEG_MAX_SCANS", 1)
    monkeypatch.setattr(images, "_reencode", no_decoding)
    result = clean_file("photo.jpg", original)
    assert (result.cleaned, result.warning) == (True, None) and CANARY not in result.data


@pytest.mark.parametrize("hiding_place", ["gAMA", "IEND", "after the stream", "bKGD", "APNG frame"])
def test_nothing_hides_in_the_chunks_a_large_png_keeps(hiding_place):
    """Review finding: text in a kept chunk, after the zlib stream in IDAT or
    inside IEND survived the filter while the reporter was told it was clean."""
    secret = b"Author: Canary Person, GPS 59.3"
    ihdr = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 9_000, 9_000, 8, 6, 0, 0, 0))
    picture = zlib.compress(b"\x00" * 64)
    chunks = {"gAMA": _png_chunk(b"gAMA", struct.pack(">I", 45455) + secret), "IEND": _png_chunk(b"IEND", secret),
              "bKGD": _png_chunk(b"bKGD", b"\x00\x01" + secret)}
    body = [ihdr]
    if hiding_place == "APNG frame":
        body.append(_png_chunk(b"acTL", struct.pack(">II", 1, 0)))
    body.append(chunks.get(hiding_place, b""))
    body.append(_png_chunk(b"IDAT", picture + (secret if hiding_place == "after the stream" else b"")))
    body.append(_png_chunk(b"IEND", b"") if hiding_place != "IEND" else chunks["IEND"])
    data = b"\x89PNG\r\n\x1a\n" + b"".join(body)
    result = clean_file("huge.png", data)
    assert result.cleaned is False and result.warning in ("could_not_parse", "too_large_to_clean")
