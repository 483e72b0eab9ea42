"""Images (JPEG, PNG, GIF, WebP, also APNG and animated GIF/WebP): decoded and
re-encoded as pixels only, after applying the EXIF orientation, with colours
converted to sRGB when an ICC profile was embedded; frame durations and loop
count of animations are kept. JPEGs and PNGs too large to decode go to
jpeg.py and png.py; other formats that large are refused (the reporter is
told and may send them as they are).

Decoding costs memory and time with the pixel count, not the file size (an
8000 x 8000 PNG of 243 KiB needs about 1 GB), so frames are capped at
DECODE_MAX_PIXELS (less for WebP) and at most DECODING_AT_ONCE images are decoded at a time
in a process: memory stays within their product (docs/benchmarks.md,
bench/cleaning.py), however many requests and files arrive."""
from __future__ import annotations

import io
import struct
import threading

from PIL import Image, ImageOps, ImageSequence

from .findings import (
    ANIMATION_FRAMES,
    COMMENT,
    COULD_NOT_PARSE,
    EXIF,
    EXTRA_IMAGES,
    GPS,
    ICC_PROFILE,
    IPTC,
    OTHER_METADATA,
    PNG_TEXT,
    THUMBNAIL,
    TOO_LARGE_TO_CLEAN,
    XMP,
    Refuse,
)
from .jpeg import strip_jpeg
from .png import strip_png

# Our own limits, independent of the process-wide Image.MAX_IMAGE_PIXELS
# (which another module may relax); both stay below Pillow's default bomb limit.
DECODE_MAX_PIXELS = 24_000_000  # one frame: a 24 MP photo (6000 x 4000) still decodes
# libwebp's encoder needs about twice the memory of the others for a picture.
FORMAT_MAX_PIXELS = {"WEBP": 12_000_000}
ANIMATION_MAX_PIXELS = 24_000_000  # all frames together, beyond that: first frame only
ANIMATION_MAX_FRAMES = 1000
# A progressive JPEG is decoded scan by scan: a small file can repeat a scan
# a hundred thousand times and take minutes (review finding). Cameras and
# encoders write about ten; beyond this the JPEG is not decoded, only cut.
JPEG_MAX_SCANS = 64
DECODING_AT_ONCE = 2
_decoding = threading.BoundedSemaphore(DECODING_AT_ONCE)

FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
MEDIA_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png",
               "GIF": "image/gif", "WEBP": "image/webp"}


def clean_image(data: bytes) -> tuple[bytes, list[str], str]:
    try:
        im = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError:
        raise Refuse(COULD_NOT_PARSE) from None
    with im:
        width, height = im.size
        # Sizes at which Pillow would only warn (DecompressionBombWarning) are not
        # decoded. (warnings.catch_warnings would do it too, but it swaps
        # process-wide state and is not thread-safe under gunicorn threads.)
        limit = min(FORMAT_MAX_PIXELS.get(im.format, DECODE_MAX_PIXELS), DECODE_MAX_PIXELS,
                    Image.MAX_IMAGE_PIXELS or DECODE_MAX_PIXELS)
        if width < 1 or height < 1:
            raise Refuse(COULD_NOT_PARSE)
        too_many_scans = im.format in ("JPEG", "MPO") and data.count(b"\xff\xda") > JPEG_MAX_SCANS
        if width * height > limit or too_many_scans:
            # A photo from a 100 MP phone camera, or a small file that inflates
            # to gigabytes: not decoded, but a JPEG's or PNG's metadata can be
            # cut out without decoding it.
            if im.format in ("JPEG", "MPO"):
                return strip_jpeg(data, _image_metadata(im))
            if im.format == "PNG" and width * height <= (Image.MAX_IMAGE_PIXELS or DECODE_MAX_PIXELS):
                # Beyond Pillow's own bomb limit a PNG is refused, as before:
                # kept intact it would still stall whoever opens it.
                return strip_png(data)
            raise Refuse(COULD_NOT_PARSE if im.format == "PNG" else TOO_LARGE_TO_CLEAN)
        with _decoding:
            return _reencode(im, data)


def _reencode(im: Image.Image, data: bytes) -> tuple[bytes, list[str], str]:
    width, height = im.size
    fmt = im.format or ""
    removed = _image_metadata(im)
    icc = im.info.get("icc_profile")

    n_frames = getattr(im, "n_frames", 1) if getattr(im, "is_animated", False) else 1
    if fmt == "MPO":  # extra JPEGs appended by cameras (previews, depth maps): keep the photo only
        if n_frames > 1:
            removed.append(EXTRA_IMAGES)
        n_frames, fmt = 1, "JPEG"
    if n_frames > 1 and (n_frames > ANIMATION_MAX_FRAMES or n_frames * width * height > ANIMATION_MAX_PIXELS):
        removed.append(ANIMATION_FRAMES)
        n_frames = 1

    frames, durations = [], []
    for index, frame in enumerate(ImageSequence.Iterator(im)):
        if index >= n_frames:
            break
        durations.append(frame.info.get("duration", 0))
        frames.append(_pixels_only(_upright(frame), icc))
    loop = im.info.get("loop")
    im.close()  # the decoded source is no longer needed: free it before encoding

    params: dict = {}
    if fmt == "JPEG":
        frames = [f if f.mode in ("L", "RGB", "CMYK") else f.convert("RGB") for f in frames]
        params = {"quality": 90}
    elif fmt == "PNG":
        params = {}  # not optimize=True: it tries every filter, seconds for a large picture
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
    return out.getvalue(), removed, MEDIA_TYPES[fmt]


def _upright(frame: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a broken EXIF block must not stop the
    cleaning (it is what we want to remove), so then keep the pixels as stored."""
    try:
        return ImageOps.exif_transpose(frame)
    except Exception:
        return frame.copy()


def _pixels_only(frame: Image.Image, icc: bytes | None) -> Image.Image:
    """The frame (a copy of the source's, from _upright) holding pixels and
    palette but none of the source's info dict, which Pillow's savers would
    otherwise write back (comment, ICC, EXIF...). Not copied again: each copy
    of a 24 MP picture is 100 MB."""
    transparency = frame.info.get("transparency")
    if icc:
        frame = _to_srgb(frame, icc)
    frame.info = {} if transparency is None else {"transparency": transparency}
    return frame


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
            add(EXIF)
        if exif.get_ifd(0x8825):
            add(GPS)
        if exif.get_ifd(-1):  # IFD1 holds the embedded thumbnail
            add(THUMBNAIL)
    except Exception:  # a broken EXIF block is still an EXIF block
        if info.get("exif"):
            add(EXIF)
    if info.get("xmp") or info.get("XML:com.adobe.xmp"):
        add(XMP)
    if info.get("photoshop") or info.get("iptc"):
        add(IPTC)
    if info.get("icc_profile"):
        add(ICC_PROFILE)
    if info.get("comment"):
        add(COMMENT)
    for key in getattr(im, "text", None) or {}:
        lowered = str(key).lower()
        if "exif" in lowered:
            add(EXIF)
        elif "iptc" in lowered:
            add(IPTC)
        elif "xmp" in lowered:
            add(XMP)
        else:
            add(PNG_TEXT)
    for marker, payload in getattr(im, "applist", []):  # JPEG segments Pillow does not interpret
        if marker == "APP0" and payload.startswith(b"JFXX\x00"):
            add(THUMBNAIL)
        elif marker == "APP1" and payload.startswith(b"http://ns.adobe.com/"):
            add(XMP)  # also "extended XMP" split over several segments
        elif marker == "APP13":
            add(IPTC)
        elif (marker == "APP1" and not payload.startswith(b"Exif\x00")) or (
                marker == "APP2" and not payload.startswith((b"ICC_PROFILE\x00", b"MPF\x00"))) or (
                marker.startswith("APP") and marker not in ("APP0", "APP1", "APP2", "APP14")):
            add(OTHER_METADATA)  # e.g. FlashPix, APP11 content credentials, vendor blocks
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
