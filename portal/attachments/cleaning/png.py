"""PNGs too large to decode within images.DECODE_MAX_PIXELS: every chunk but
those that draw the picture is cut out and the compressed picture is copied
as it is, so the cost is one pass over the file and one inflation of the
picture (its output thrown away as it comes), whatever its pixel count.
Text, EXIF, ICC profile, time and every unknown chunk go, as does anything
after the end chunk; chunk checksums are verified on the way. Nothing can
hide in what is kept (review finding): each kept chunk has the length its
kind allows, and the picture's compressed stream must end exactly where
its last chunk does. Animated PNGs that large are refused."""
from __future__ import annotations

import struct
import zlib

from .findings import COULD_NOT_PARSE, EXIF, ICC_PROFILE, OTHER_METADATA, PNG_TEXT, TOO_LARGE_TO_CLEAN, Refuse

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What is needed to draw the picture and its animation frames (APNG), and
# the colour and transparency hints: none of these says who made the file.
_KEPT = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"sRGB", b"gAMA", b"cHRM", b"sBIT", b"bKGD"}
_NAMED = {b"tEXt": PNG_TEXT, b"zTXt": PNG_TEXT, b"iTXt": PNG_TEXT, b"eXIf": EXIF, b"iCCP": ICC_PROFILE}
_MAX_CHUNK = 2 ** 31 - 1
# The lengths each kept chunk may have (the PNG specification's).
_ALLOWED_LENGTH = {
    b"IHDR": lambda n: n == 13, b"IEND": lambda n: n == 0, b"gAMA": lambda n: n == 4, b"cHRM": lambda n: n == 32,
    b"sRGB": lambda n: n == 1, b"bKGD": lambda n: n in (1, 2, 6), b"sBIT": lambda n: 1 <= n <= 4,
    b"PLTE": lambda n: 3 <= n <= 768 and n % 3 == 0, b"tRNS": lambda n: n <= 256, b"IDAT": lambda n: True,
}
_ANIMATION = {b"acTL", b"fcTL", b"fdAT"}
_INFLATE_PIECE = 1 << 16


def strip_png(data: bytes) -> tuple[bytes, list[str], str]:
    if not data.startswith(SIGNATURE):
        raise Refuse(COULD_NOT_PARSE)
    out, removed, pos, first = [SIGNATURE], [], len(SIGNATURE), True
    picture = _Picture()
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
        if kind in _ANIMATION:
            raise Refuse(TOO_LARGE_TO_CLEAN)  # frames each with a stream of their own: not filtered
        if kind in _KEPT:
            if not _ALLOWED_LENGTH[kind](length):
                raise Refuse(COULD_NOT_PARSE)
            if kind == b"IDAT":
                picture.feed(data[pos + 8:end - 4])
            elif picture.started:
                picture.close()  # the picture's chunks are consecutive
            out.append(data[pos:end])
        else:
            code = _NAMED.get(kind, OTHER_METADATA)
            if code not in removed:
                removed.append(code)
        pos = end
        if kind == b"IEND":
            break
    if not picture.finished:
        raise Refuse(COULD_NOT_PARSE)
    if pos < len(data) and OTHER_METADATA not in removed:
        removed.append(OTHER_METADATA)  # data hidden after the end
    return b"".join(out), removed, "image/png"


class _Picture:
    """The IDAT chunks' zlib stream, inflated piece by piece and thrown away,
    only to see that it ends exactly at the end of the last of them."""

    def __init__(self) -> None:
        self._inflater = zlib.decompressobj()
        self.started = self.finished = False

    def feed(self, chunk: bytes) -> None:
        if self.finished:
            raise Refuse(COULD_NOT_PARSE)  # a second run of IDAT chunks
        self.started = True
        try:
            self._inflater.decompress(chunk, _INFLATE_PIECE)
            while self._inflater.unconsumed_tail:
                self._inflater.decompress(self._inflater.unconsumed_tail, _INFLATE_PIECE)
        except zlib.error:
            raise Refuse(COULD_NOT_PARSE) from None
        if self._inflater.unused_data:
            raise Refuse(COULD_NOT_PARSE)  # bytes after the stream's end, hidden in the picture

    def close(self) -> None:
        if not self._inflater.eof:
            raise Refuse(COULD_NOT_PARSE)
        self.finished = True
