"""File fields of the reporter's and the handler's forms: what was uploaded,
and a translated message on the field for every file that cannot be stored
(checked before anything is stored, so the form comes back with all of them)."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from config import Settings

from ..attachments import cleaning
from ..attachments.checks import check_upload
from . import labels


def _uploads(file_field):
    return [f for f in (file_field.data or []) if getattr(f, "filename", "")]


def _body_cut() -> bool:
    return getattr(request, "body_cut", False)


def has_oversize(file_field) -> bool:
    return _body_cut() or any(getattr(f.stream, "oversize", False) for f in _uploads(file_field))


def check_uploads(file_field, settings: Settings):
    """The uploads, or None after putting a message on the field for each problem."""
    uploads = _uploads(file_field)
    problems = []
    if _body_cut():
        # The files were dropped unread: one message for all, none per file.
        file_field.errors = list(file_field.errors) + [
            _("The files you chose are larger than %(mib)d MiB together, so none was kept. Choose fewer or "
              "smaller files; everything else you wrote is kept.",
              mib=settings.max_upload_mib * settings.max_attachments)]
        return None
    if len(uploads) > settings.max_attachments:
        problems.append(_("At most %(n)d files can be attached.", n=settings.max_attachments))
    for upload in uploads:
        reason = check_upload(upload, settings.allowed_upload_types)
        if reason == "size":
            problems.append(_("%(name)s is larger than %(mib)d MiB. "
                              "Choose a smaller file; everything else you wrote is kept.",
                              name=upload.filename, mib=settings.max_upload_mib))
        elif reason == "type":
            problems.append(_("%(name)s is not a file type this portal accepts. Accepted: %(types)s.",
                              name=upload.filename, types=", ".join(settings.allowed_upload_types)))
        elif reason == "empty":
            problems.append(_("%(name)s is empty.", name=upload.filename))
    if problems:
        file_field.errors = list(file_field.errors) + problems
        return None
    return uploads


def cleaning_warning(upload) -> str | None:
    """Why this file would be sent with its metadata (a CLEANING_WARNINGS
    code), or None if it can be cleaned or is plain text. The file is
    cleaned here, and the result stored as it is (cleaned_on_trial)."""
    stream = upload.stream
    start = stream.tell()
    data = stream.read(cleaning.CLEANABLE_MAX_BYTES + 1)
    stream.seek(start)
    if len(data) > cleaning.CLEANABLE_MAX_BYTES:
        return "too_large_to_clean"
    result = cleaning.clean_file(upload.filename, data)
    # Kept for store_attachment: each file is cleaned once, and before the
    # report's write transaction, which would otherwise hold every other
    # writer back while a hostile picture is decoded (review finding).
    upload.cleaned_on_trial = result
    return result.warning


def confirm_uncleanable(uploads, file_field, confirmed: bool) -> bool:
    """Whether the uploads may be sent: yes if every file can be cleaned or
    the sender has ticked that files which cannot may go as they are; else a
    message on the field for each such file, so the sender learns it before
    anything is sent and can leave the file out."""
    problems = []
    for upload in uploads:
        warning = cleaning_warning(upload)
        if warning:
            problems.append(_("%(name)s: %(why)s To send it anyway, choose it again and tick the box under the "
                              "files; or send without it.", name=upload.filename,
                              why=labels.CLEANING_WARNINGS.get(warning, "")))
    if problems and not confirmed:
        file_field.errors = list(file_field.errors) + problems
        return False
    return True
