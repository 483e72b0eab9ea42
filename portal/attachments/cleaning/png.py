"""PNGs too large to decode within images.DECODE_MAX_PIXELS: every chunk but
those that draw the picture is cut out and the compressed picture is copied
as it is, so the cost is one pass over the file, whatever its pixel count.
Text, EXIF, ICC profile, time and every unknown chunk go, as does anything
after the end chunk; chunk checksums are verified on the way."""
from __future__ import annotations

import struct
import zlib

from .findings import COULD_NOT_PARSE, EXIF, ICC_PROFILE, OTHER_METADATA, PNG_TEXT, Refuse

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What is needed to draw the picture and its animation frames (APNG), and
# the colour and transparency hints: none of these says who made the file.
_KEPT = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"acTL", b"fcTL", b"fdAT",
         b"sRGB", b"gAMA", b"cHRM", b"sBIT", b"bKGD"}
_NAMED = {b"tEXt": PNG_TEXT, b"zTXt": PNG_TEXT, b"iTXt": PNG_TEXT, b"eXIf": EXIF, b"iCCP": ICC_PROFILE}
_MAX_CHUNK = 2 ** 31 - 1


def strip_png(data: bytes) -> tuple[bytes, list[str], str]:
    if not data.startswith(SIGNATURE):
        raise Refuse(COULD_NOT_PARSE)
    out, removed, pos, first = [SIGNATURE], [], len(SIGNATURE), True
    while True:
        if pos + 12 > len(data):
            raise Refuse(COULD_NOT_PARSE)  # cut off before its end chunk
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if length > _MAX_CHUNK or end > len(data):
            raise Refuse(COULD_NOT_PARSE)
        (crc,) = struct.unpack(">I", data[end - 4:end])
        if zlib.crc32(data[pos + 4:end - 4]) != crc:
            raise Refuse(COULD_NOT_PARSE)
        if first != (kind == b"IHDR"):
            raise Refuse(COULD_NOT_PARSE)  # IHDR first, and once
        first = False
        if kind in _KEPT:
            out.append(data[pos:end])
        else:
            code = _NAMED.get(kind, OTHER_METADATA)
            if code not in removed:
                removed.append(code)
        pos = end
        if kind == b"IEND":
            break
    if pos < len(data) and OTHER_METADATA not in removed:
        removed.append(OTHER_METADATA)  # data hidden after the end
    return b"".join(out), removed, "image/png"
