"""PDF: the pages (content, resources, annotations) copied into a new file
without the document information dictionary, XMP, page and XObject
/Metadata, /PieceInfo, /LastModified, page thumbnails, annotation authors and
dates, and without any document-level parts (outlines, attachments, forms
dictionary, scripts) or a file identifier."""
from __future__ import annotations

import io

from pypdf import PasswordType, PdfReader, PdfWriter
from pypdf.generic import IndirectObject

from .findings import (
    COULD_NOT_PARSE,
    PDF_ANNOT_AUTHOR,
    PDF_ATTACHMENTS,
    PDF_INFO,
    PDF_PAGE_METADATA,
    PDF_XMP,
    THUMBNAIL,
    Refuse,
)


def clean_pdf(data: bytes) -> tuple[bytes, list[str], str]:
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise Refuse(COULD_NOT_PARSE)  # needs a password we do not have

    removed: list[str] = []
    info = reader.trailer.get("/Info")
    info = info.get_object() if info is not None else None
    if isinstance(info, dict) and len(info):
        removed.append(PDF_INFO)
    root = reader.trailer["/Root"].get_object()
    if "/Metadata" in root:
        removed.append(PDF_XMP)
    names = root.get("/Names")
    if names is not None and "/EmbeddedFiles" in names.get_object():
        removed.append(PDF_ATTACHMENTS)

    writer = PdfWriter()  # only pages are copied: no catalog extras, no /ID
    writer.metadata = None  # drops the /Producer pypdf info the writer starts with
    for page in reader.pages:
        for code in _pdf_page_findings(page):
            if code not in removed:
                removed.append(code)
        # Excluded keys are skipped at every depth of the copy (forms, images...).
        new_page = writer.add_page(page, excluded_keys=_PDF_DROPPED_KEYS)
        if _scrub_pdf_annotations(new_page) and PDF_ANNOT_AUTHOR not in removed:
            removed.append(PDF_ANNOT_AUTHOR)
    if not writer.pages:
        raise Refuse(COULD_NOT_PARSE)
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
        codes.append(PDF_PAGE_METADATA)
    if "/Thumb" in page:
        codes.append(THUMBNAIL)
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
