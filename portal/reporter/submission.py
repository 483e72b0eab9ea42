"""What the reporter views ask of the case file: form preparation, upload
checks, submission, replies and the case page. No encryption happens here;
casefile.py and attachment_store.py do all of it."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import format_date, gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import attachment_store, case_reading, casefile, labels
from ..domain import routing
from ..domain.taxonomy import AUTHOR_REPORTER, CATEGORIES, OBSTACLE
from ..models import Message, Unit
from .forms import options

# --- forms ------------------------------------------------------------------

@dataclass
class FormView:
    channel_id: str
    handlers: list
    max_upload_mib: int
    max_attachments: int
    allowed_types: tuple[str, ...]


def category_choices(track: str):
    return options((code, labels.CATEGORIES[track][code]) for code in CATEGORIES[track])


def prepare_chooser(form, track: str) -> None:
    form.category.choices = category_choices(track)
    if track != OBSTACLE:
        del form.chain_level


def prepare_form(db: Session, form, track: str, settings=None) -> FormView:
    from flask import current_app

    settings = settings or current_app.config["TILLIT"]
    form.category.choices = category_choices(track)
    if hasattr(form, "unit"):
        units = db.scalars(select(Unit).where(Unit.active).order_by(Unit.name)).all()
        form.unit.choices = options(((u.id, u.name) for u in units), blank=True)
    category = form.category.data if form.category.data in CATEGORIES[track] else CATEGORIES[track][0]
    chain_level = getattr(form, "chain_level", None)
    channel_id = casefile.route(db, track, category, chain_level.data if chain_level else None)
    handlers = casefile.channel_handlers(db, channel_id)
    form.exclude.choices = options((h.id, h.display_name) for h in handlers)
    if not form.channel_shown.data:
        form.channel_shown.data = channel_id
    return FormView(channel_id, handlers, settings.max_upload_mib, settings.max_attachments,
                    settings.allowed_upload_types)


def check_channel(form, view: FormView) -> bool:
    """The exclusion list must be the one of the channel the report goes to."""
    if form.channel_shown.data != view.channel_id:
        form.channel_shown.data = view.channel_id
        form.exclude.data = []
        form.exclude.errors.append(_("The kind of report you chose goes to other handlers. "
                                     "Check the list of handlers again."))
        return False
    try:
        routing.recipients_after_exclusion([h.id for h in view.handlers], set(form.exclude.data or []))
    except routing.ExclusionError:
        form.exclude.errors.append(_("At least one handler must remain to read your report."))
        return False
    return True


# --- uploads ----------------------------------------------------------------

def _uploads(file_field):
    return [f for f in (file_field.data or []) if getattr(f, "filename", "")]


def has_oversize(file_field) -> bool:
    return any(getattr(f.stream, "oversize", False) for f in _uploads(file_field))


def check_uploads(file_field, settings):
    """The uploads, or None after putting a message on the field for each problem."""
    uploads = _uploads(file_field)
    problems = []
    if len(uploads) > settings.max_attachments:
        problems.append(_("At most %(n)d files can be attached.", n=settings.max_attachments))
    for upload in uploads:
        reason = attachment_store.check_upload(upload, settings.allowed_upload_types)
        if reason == "size":
            problems.append(_("%(name)s is larger than %(mib)d MiB. Choose a smaller file; everything else you wrote is kept.",
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


def _file_summary(stored) -> dict:
    return {"name": stored.filename, "cleaned": stored.cleaned,
            "removed": list(stored.removed), "warning": stored.warning}


# --- submitting and replying --------------------------------------------------

def submit(db: Session, settings, form, track: str, uploads) -> dict:
    answers = {name: getattr(form, name).data or "" for name in form.answer_fields}
    new = casefile.NewReport(
        track=track,
        category=form.category.data,
        answers=answers,
        chain_level=getattr(form, "chain_level", None) and form.chain_level.data,
        principle=(getattr(form, "principle", None) and form.principle.data) or None,
        unit_id=(getattr(form, "unit", None) and form.unit.data) or None,
        time_lost=(getattr(form, "time_lost", None) and form.time_lost.data) or None,
        publish_consent=bool(getattr(form, "publish_consent", None) and form.publish_consent.data),
        excluded_user_ids=set(form.exclude.data or []),
    )
    submitted = casefile.submit(db, settings, new)
    report = db.get(casefile.Report, submitted.report_id)
    dek = submitted.data_key
    files = [_file_summary(attachment_store.store_attachment(
        db, report, dek, upload, allowed_types=settings.allowed_upload_types)) for upload in uploads]
    return {"receipt": submitted.receipt, "files": files}


def reply(db: Session, settings, report, dek: bytes, body: str, uploads) -> None:
    message = casefile.post_message(db, report, dek, author=AUTHOR_REPORTER, body=body)
    for upload in uploads:
        attachment_store.store_attachment(db, report, dek, upload, message_id=message.id,
                                          allowed_types=settings.allowed_upload_types)


def request_meeting(db: Session, report, dek: bytes, body: str) -> None:
    casefile.post_message(db, report, dek, author=AUTHOR_REPORTER, kind="meeting_request",
                          body=body or _("I would like to meet in person."))


def confirm_minutes(db: Session, report, dek: bytes, message_id: str) -> bool:
    """Art. 18(4) of the directive: the reporter may check and confirm the minutes."""
    minutes = db.get(Message, message_id)
    if minutes is None or minutes.report_id != report.id or minutes.kind != "minutes":
        return False
    casefile.post_message(db, report, dek, author=AUTHOR_REPORTER, kind="minutes_confirmed",
                          body=_("I confirm the minutes of %(date)s.", date=format_date(minutes.sent_on, "long")))
    return True


# --- reading back -------------------------------------------------------------

@dataclass
class CaseView:
    report: object
    answers: list
    events: list
    messages: list
    report_files: list = field(default_factory=list)


def case_view(db: Session, report, dek: bytes) -> CaseView:
    files = case_reading.files_by_message(db, report, dek)
    return CaseView(report=report, answers=[(label, text) for _code, label, text in case_reading.answers(report, dek)],
                    events=list(report.events),
                    messages=case_reading.dialogue(db, report, dek, files, side=case_reading.REPORTER_SIDE),
                    report_files=files.get(None, []))
