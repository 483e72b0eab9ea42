"""Zip-based documents (Office Open XML, ODF): opening an archive only within
limits (size, entries, compression ratio; no encrypted or duplicate entries),
writing entries without dates or extra fields, and the XML helpers the
format cleaners share."""
from __future__ import annotations

import html
import io
import posixpath
import re
import zipfile
from xml.etree import ElementTree

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as DefusedElementTree

from .findings import COULD_NOT_PARSE, TOO_LARGE_TO_CLEAN, Refuse

ZIP_MAX_TOTAL_BYTES = 256 * 1024 * 1024
ZIP_MAX_ENTRIES = 10_000
ZIP_MAX_RATIO = 200
ZIP_RATIO_MIN_BYTES = 1024 * 1024  # small entries cannot be bombs; repetitive XML may compress well

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def open_zip(data: bytes) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """Open and vet an archive; limits use declared sizes, which zipfile enforces
    when reading (output is capped at file_size and the CRC is checked)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise Refuse(COULD_NOT_PARSE) from None
    infos = archive.infolist()
    if len(infos) > ZIP_MAX_ENTRIES or sum(i.file_size for i in infos) > ZIP_MAX_TOTAL_BYTES:
        raise Refuse(TOO_LARGE_TO_CLEAN)
    names = set()
    for info in infos:
        if info.file_size >= ZIP_RATIO_MIN_BYTES and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1):
            raise Refuse(COULD_NOT_PARSE)  # zip bomb
        if info.flag_bits & 0x1:
            raise Refuse(COULD_NOT_PARSE)  # encrypted entry
        if info.filename in names:
            raise Refuse(COULD_NOT_PARSE)  # duplicates: readers may pick the uncleaned one
        names.add(info.filename)
    return archive, infos


def metadata_found(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> bool:
    return bool(archive.comment) or any(
        tuple(i.date_time) != _ZIP_EPOCH or i.extra or i.comment for i in infos)


def write_entry(out: zipfile.ZipFile, name: str, payload: bytes, stored: bool) -> None:
    # Fresh ZipInfo: no dates, extra fields (uid/gid, NTFS times) or comments.
    info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    if name.endswith("/"):
        info.external_attr = 0x10  # MS-DOS directory flag
    out.writestr(info, payload)


def parse_xml(payload: bytes) -> ElementTree.Element:
    # Package XML never needs entity declarations or a DTD; defusedxml
    # refuses both in any encoding (a byte search for "<!ENTITY" missed
    # UTF-16), which rules out entity-expansion bombs and external entities.
    try:
        return DefusedElementTree.fromstring(payload, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        raise Refuse(COULD_NOT_PARSE) from None


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# An empty element, matched with quoted attribute values so ">" inside them is
# fine, with its indentation and line end so no blank lines are left behind.
_EMPTY_ELEMENT = r"[ \t]*<(?:[A-Za-z_][\w.-]*:)?{name}\b(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*?)/>(?:\r?\n)?"
_ATTRIBUTE = re.compile(r"(?P<name>[\w.:-]+)\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)')")


def _attributes(text: str) -> dict[str, str]:
    return {m["name"].rsplit(":", 1)[-1]: html.unescape(m["dq"] if m["dq"] is not None else m["sq"])
            for m in _ATTRIBUTE.finditer(text)}


def drop_elements(payload: bytes, name: str, drop) -> bytes:
    """Remove empty elements `name` whose attributes satisfy drop(attrs); keeps
    the rest of the document byte for byte."""
    text = payload.decode("utf-8")
    pattern = re.compile(_EMPTY_ELEMENT.format(name=re.escape(name)))
    return pattern.sub(lambda m: "" if drop(_attributes(m["attrs"])) else m[0], text).encode("utf-8")


def part_name(target: str, base: str = "") -> str:
    """Normalise a relationship target / part name to a zip entry name."""
    path = target if target.startswith("/") else posixpath.join("/" + base, target)
    return posixpath.normpath(path).lstrip("/")
