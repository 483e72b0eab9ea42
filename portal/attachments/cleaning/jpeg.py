"""JPEGs too large to decode (100 MP phone photos): their metadata segments
(every APPn but JFIF and Adobe, comments) are cut out and the compressed
picture is copied as it is, up to its end marker; the EXIF orientation goes
with the EXIF block."""
from __future__ import annotations

from .findings import COMMENT, COULD_NOT_PARSE, EXTRA_IMAGES, OTHER_METADATA, Refuse

# JPEG markers: APP0 (JFIF) and APP14 (Adobe: how to read the colours) are kept;
# every other APPn (EXIF, XMP, ICC, IPTC, maker data) and comments go.
_JPEG_KEPT_APP = (0xE0, 0xEE)
_JPEG_SOS, _JPEG_EOI, _JPEG_COM = 0xDA, 0xD9, 0xFE


def strip_jpeg(data: bytes, removed: list[str]) -> tuple[bytes, list[str], str]:
    """The JPEG without metadata segments, the compressed picture copied as
    it is (no decoding, so any size costs one copy of the file). Ends at the
    picture's end: what cameras append after it (previews, depth maps,
    trailers) is dropped."""
    out, pos, size = [b"\xff\xd8"], 2, len(data)
    if not data.startswith(b"\xff\xd8"):
        raise Refuse(COULD_NOT_PARSE)
    in_scan = False
    while pos < size:
        if in_scan:
            # Entropy-coded data: an FF there is followed by 00 (stuffing) or
            # a restart marker; anything else is the next marker.
            marker_at = pos
            while True:
                marker_at = data.find(b"\xff", marker_at)
                if marker_at < 0 or marker_at + 1 >= size:
                    raise Refuse(COULD_NOT_PARSE)
                following = data[marker_at + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    marker_at += 1
                    continue
                break
            out.append(data[pos:marker_at])
            pos = marker_at
        if data[pos] != 0xFF or pos + 1 >= size:
            raise Refuse(COULD_NOT_PARSE)
        while pos + 2 < size and data[pos + 1] == 0xFF:  # fill bytes before a marker
            pos += 1
        marker = data[pos + 1]
        if marker == _JPEG_EOI:
            out.append(b"\xff\xd9")
            if data[pos + 2:].strip(b"\x00"):
                removed.append(EXTRA_IMAGES)
            return b"".join(out), removed, "image/jpeg"
        if pos + 4 > size:
            raise Refuse(COULD_NOT_PARSE)
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > size:
            raise Refuse(COULD_NOT_PARSE)
        metadata = (0xE0 <= marker <= 0xEF and marker not in _JPEG_KEPT_APP) or marker == _JPEG_COM
        if not metadata:
            out.append(data[pos:end])
        elif marker == _JPEG_COM and COMMENT not in removed:
            removed.append(COMMENT)
        elif marker != _JPEG_COM and not removed:
            removed.append(OTHER_METADATA)
        in_scan = marker == _JPEG_SOS
        pos = end
    raise Refuse(COULD_NOT_PARSE)
