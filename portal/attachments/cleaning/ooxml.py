"""Office Open XML (docx, xlsx, pptx and their macro and template variants):
every part but the document properties (core.xml and app.xml become empty
documents, custom.xml goes), the thumbnail and digital signatures (they hold
the signer's certificate and would be invalid anyway); [Content_Types].xml
and _rels/.rels lose the references to removed parts. The folder paths in
xl/workbook.xml (absPath) and Word's attached template (word/settings.xml and
its relationship) are removed: they hold user names."""
from __future__ import annotations

import io
import posixpath
import zipfile

from .findings import (
    COULD_NOT_PARSE,
    OFFICE_APP,
    OFFICE_CORE,
    OFFICE_CUSTOM,
    OFFICE_PATHS,
    SIGNATURE,
    THUMBNAIL,
    ZIP_TIMESTAMPS,
    Refuse,
)
from .safe_zip import drop_elements, local_name, metadata_found, open_zip, parse_xml, part_name, write_entry
from .sniffing import OCTET

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


def clean_office(data: bytes) -> tuple[bytes, list[str], str]:
    archive, infos = open_zip(data)
    names = [i.filename for i in infos]
    if "[Content_Types].xml" not in names:
        raise Refuse(COULD_NOT_PARSE)
    content_types = archive.read("[Content_Types].xml")
    parse_xml(content_types)

    core, app, custom, thumbs = {"docProps/core.xml"}, {"docProps/app.xml"}, {"docProps/custom.xml"}, set()
    signatures = {n for n in names if n.lower().startswith("_xmlsignatures/")}
    root_rels = archive.read("_rels/.rels") if "_rels/.rels" in names else None
    main_part = ""
    if root_rels is not None:
        for rel in parse_xml(root_rels):
            if local_name(rel.tag) != "Relationship" or rel.get("TargetMode") == "External":
                continue
            rel_type, part = rel.get("Type", ""), part_name(rel.get("Target", ""))
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
        if len(parse_xml(archive.read(part))) and OFFICE_CORE not in removed:
            removed.append(OFFICE_CORE)
        replace[part] = _EMPTY_CORE_XML
    for part in sorted(app & present):
        if len(parse_xml(archive.read(part))) and OFFICE_APP not in removed:
            removed.append(OFFICE_APP)
        replace[part] = _EMPTY_APP_XML
    for part, name, drop_if in _PATH_ELEMENTS:
        if part in present:
            original = archive.read(part)
            edited = drop_elements(original, name, drop_if)
            if edited != original:
                parse_xml(edited)
                replace[part] = edited
                if OFFICE_PATHS not in removed:
                    removed.append(OFFICE_PATHS)
    # Signatures carry the signer's certificate and would be broken by our edits anyway.
    drop = (custom | thumbs | signatures) & present
    for parts, code in ((custom, OFFICE_CUSTOM), (thumbs, THUMBNAIL), (signatures, SIGNATURE)):
        if parts & present:
            removed.append(code)
    # A removed part's own relationships go with it.
    drop |= {posixpath.join(posixpath.dirname(p), "_rels", posixpath.basename(p) + ".rels") for p in drop} & present

    if drop:
        dropped = {d.lower() for d in drop}
        replace["[Content_Types].xml"] = drop_elements(
            content_types, "Override", lambda a: part_name(a.get("PartName", "")).lower() in dropped)
        if root_rels is not None:
            replace["_rels/.rels"] = drop_elements(
                root_rels, "Relationship",
                lambda a: a.get("TargetMode") != "External" and part_name(a.get("Target", "")).lower() in dropped)
        _check_no_dangling(replace, root_rels is not None, dropped)
    if metadata_found(archive, infos):
        removed.append(ZIP_TIMESTAMPS)

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in infos:
            if info.filename in drop:
                continue
            payload = replace.get(info.filename)
            if payload is None:
                payload = archive.read(info)
            write_entry(target, info.filename, payload, info.compress_type == zipfile.ZIP_STORED)

    family = next((prefix for prefix in _OFFICE_MEDIA_TYPES if main_part.startswith(prefix)), None)
    media_type = OCTET
    if family:
        macro = b"macroEnabled" in content_types
        media_type = _OFFICE_MEDIA_TYPES[family][1 if macro else 0]
    return out.getvalue(), removed, media_type


def _check_no_dangling(replace: dict[str, bytes], has_rels: bool, dropped: set[str]) -> None:
    """The text edits must leave well-formed XML without references to removed parts."""
    for element in parse_xml(replace["[Content_Types].xml"]):
        if part_name(element.get("PartName", "/")).lower() in dropped:
            raise Refuse(COULD_NOT_PARSE)
    if has_rels:
        for element in parse_xml(replace["_rels/.rels"]):
            if element.get("TargetMode") != "External" and part_name(element.get("Target", "")).lower() in dropped:
                raise Refuse(COULD_NOT_PARSE)
