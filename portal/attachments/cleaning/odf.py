"""OpenDocument (odt, ods, odp, odg and templates): every entry but meta.xml
(emptied), Thumbnails/ and META-INF/*signatures.xml; the manifest loses the
removed entries and "mimetype" stays first and stored. Password-protected
documents are not touched."""
from __future__ import annotations

import io
import re
import zipfile

from .findings import COULD_NOT_PARSE, ODF_META, SIGNATURE, THUMBNAIL, ZIP_TIMESTAMPS, Refuse
from .safe_zip import drop_elements, local_name, metadata_found, open_zip, parse_xml, write_entry
from .sniffing import ODF_MIMETYPE_PREFIX

_ODF_SIGNATURES = frozenset({"META-INF/documentsignatures.xml", "META-INF/macrosignatures.xml"})
_EMPTY_ODF_META = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<office:document-meta'
    ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' office:version="{version}"><office:meta/></office:document-meta>'
)


def clean_odf(data: bytes) -> tuple[bytes, list[str], str]:
    archive, infos = open_zip(data)
    names = [i.filename for i in infos]
    if "mimetype" not in names:
        raise Refuse(COULD_NOT_PARSE)
    mimetype = archive.read("mimetype")
    if not mimetype.startswith(ODF_MIMETYPE_PREFIX) or not re.fullmatch(rb"[a-z0-9.+-]+/[a-z0-9.+-]+", mimetype):
        raise Refuse(COULD_NOT_PARSE)

    removed: list[str] = []
    replace: dict[str, bytes] = {}
    if "META-INF/manifest.xml" in names:
        manifest = archive.read("META-INF/manifest.xml")
        manifest_root = parse_xml(manifest)
        if any(local_name(e.tag) == "encryption-data" for e in manifest_root.iter()):
            raise Refuse(COULD_NOT_PARSE)  # password-protected: meta.xml is encrypted too
    else:
        manifest = None
    if "meta.xml" in names:
        meta = archive.read("meta.xml")
        meta_root = parse_xml(meta)
        if any(len(child) for child in meta_root):
            removed.append(ODF_META)
        version = meta_root.get("{urn:oasis:names:tc:opendocument:xmlns:office:1.0}version", "1.2")
        if not re.fullmatch(r"[0-9.]{1,8}", version):
            version = "1.2"
        replace["meta.xml"] = _EMPTY_ODF_META.format(version=version).encode("utf-8")

    thumbs = {n for n in names if n.startswith("Thumbnails/")}
    # Signatures carry the signer's certificate and would be broken by our edits anyway.
    signatures = {n for n in names if n in _ODF_SIGNATURES}
    drop = thumbs | signatures
    for parts, code in ((thumbs, THUMBNAIL), (signatures, SIGNATURE)):
        if parts:
            removed.append(code)

    def dropped(path: str) -> bool:
        return path.startswith("Thumbnails/") or path in drop

    if drop and manifest is not None:
        replace["META-INF/manifest.xml"] = drop_elements(
            manifest, "file-entry", lambda a: dropped(a.get("full-path", "")))
        for element in parse_xml(replace["META-INF/manifest.xml"]).iter():
            if local_name(element.tag) == "file-entry" and any(
                    dropped(value) for key, value in element.attrib.items() if local_name(key) == "full-path"):
                raise Refuse(COULD_NOT_PARSE)
    if metadata_found(archive, infos):
        removed.append(ZIP_TIMESTAMPS)

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        # ODF: "mimetype" first and stored, so its content sits at a fixed offset.
        write_entry(target, "mimetype", mimetype, stored=True)
        for info in infos:
            if info.filename == "mimetype" or info.filename in drop:
                continue
            payload = replace.get(info.filename)
            if payload is None:
                payload = archive.read(info)
            write_entry(target, info.filename, payload, info.compress_type == zipfile.ZIP_STORED)
    return out.getvalue(), removed, mimetype.decode("ascii")
