"""One case: reading it, status changes, closing with an outcome, the
dialogue, internal notes, handing it to a colleague, downloads and export."""
from __future__ import annotations

from flask import abort, current_app, g, redirect, render_template, url_for
from flask_babel import get_locale, gettext as _

from ...domain.cases import TransitionError
from ...domain.taxonomy import STATUS_ACKNOWLEDGED, STATUS_IN_PROGRESS
from ...models import User
from ...models.base import today
from ...reports import access, export as case_export, grants, reading, stories, work
from ...reports.access import OpenCase
from ...staff import sign_in
from ...web import current_settings, db, downloads, sealed_session
from ...web.forms import PlainForm
from ...web.rate_limits import LOGIN_LIMIT, limiter, configured
from ...web.upload_fields import check_uploads, has_oversize
from . import bp
from ...web.staff_access import HANDLER, level
from .forms import CloseForm, ExportForm, GrantForm, NoteForm, ReplyForm, StoryForm

STATUS_ACTIONS = {"acknowledge": STATUS_ACKNOWLEDGED, "start": STATUS_IN_PROGRESS, "reopen": STATUS_IN_PROGRESS}


def _open(report_id: str) -> OpenCase | None:
    """The open case, None when this handler has no key yet; 403 when invisible."""
    try:
        return access.open_for_handler(db.session(), g.staff.user, g.staff.private_key, report_id)
    except access.NotVisible:
        abort(403)
    except access.NoKey:
        return None


def _case_page(report_id: str, status: int = 200, **forms):
    opened = _open(report_id)
    if opened is None:
        report = access.visible_report(db.session(), g.staff.user, report_id)
        return render_template("handler/waiting.html", report=report), 200
    case = reading.handler_case(db.session(), current_settings(), g.staff.user, opened)
    close_form = forms.get("close_form") or CloseForm.for_track(opened.report.track, formdata=None,
                                                                 summary_language=str(get_locale()))
    story = stories.of_report(db.session(), opened.report)
    story_form = forms.get("story_form") or (StoryForm.of(story) if story else None)
    grant_form = forms.get("grant_form") or GrantForm(formdata=None)
    grant_form.user_id.choices = [(u.id, u.display_name) for u in case.colleagues]
    return render_template(
        "handler/case.html", case=case,
        reply_form=forms.get("reply_form") or ReplyForm(formdata=None),
        note_form=forms.get("note_form") or NoteForm(formdata=None),
        close_form=close_form, grant_form=grant_form, story=story, story_form=story_form,
        export_form=forms.get("export_form") or ExportForm(formdata=None),
        error=forms.get("error")), status


def _back_to(report_id: str, anchor: str | None = None):
    return redirect(url_for("handler.case", report_id=report_id, _anchor=anchor))


@bp.get("/case/<report_id>")
@level(HANDLER)
def case(report_id):
    return _case_page(report_id)


@bp.post("/case/<report_id>/status/<action>")
@level(HANDLER)
def change_status(report_id, action):
    if action not in STATUS_ACTIONS:
        abort(404)
    opened = _open(report_id)
    if opened is None or not PlainForm().validate():
        return _case_page(report_id, 400, error=_("The form had expired. Try again."))
    try:
        work.change_status(db.session(), g.staff.user, opened, STATUS_ACTIONS[action])
    except TransitionError:
        return _case_page(report_id, 409, error=_("That step is not possible in the case's current status."))
    return _back_to(report_id)


@bp.post("/case/<report_id>/close")
@level(HANDLER)
def close(report_id):
    opened = _open(report_id)
    if opened is None:
        return _case_page(report_id, 400)
    form = CloseForm.for_track(opened.report.track)
    if not form.validate():
        return _case_page(report_id, 400, close_form=form)
    try:
        story = stories.StoryText(form.summary_title.data or "", form.summary_body.data or "",
                                  form.summary_language.data or str(get_locale()))
        work.close(db.session(), g.staff.user, opened, form.outcome.data, hours_saved=form.hours_saved.data,
                   story=story)
    except TransitionError:
        return _case_page(report_id, 409, close_form=form,
                          error=_("That step is not possible in the case's current status."))
    return _back_to(report_id)


@bp.post("/case/<report_id>/story")
@level(HANDLER)
def edit_story(report_id):
    """The author edits their drafted story until someone decides on it."""
    opened = _open(report_id)
    story = stories.of_report(db.session(), opened.report) if opened else None
    form = StoryForm()
    if story is None:
        return _case_page(report_id, 400)
    if not form.validate():
        return _case_page(report_id, 400, story_form=form)
    try:
        stories.edit_draft(db.session(), g.staff.user, story, form.text())
    except stories.StoryRefused:
        abort(403)
    return _back_to(report_id, "story")


@bp.post("/case/<report_id>/reply")
@level(HANDLER)
def reply(report_id):
    opened = _open(report_id)
    form = ReplyForm()
    if opened is None:
        return _case_page(report_id, 400)
    valid = form.validate()
    uploads = check_uploads(form.attachments, current_settings())
    if not (valid and uploads is not None):
        return _case_page(report_id, 413 if has_oversize(form.attachments) else 400, reply_form=form)
    work.reply(db.session(), current_settings(), g.staff.user, opened, form.kind.data, form.body.data, uploads)
    return _back_to(report_id, "dialogue")


@bp.post("/case/<report_id>/note")
@level(HANDLER)
def note(report_id):
    opened = _open(report_id)
    form = NoteForm()
    if opened is None:
        return _case_page(report_id, 400)
    if not form.validate():
        return _case_page(report_id, 400, note_form=form)
    work.add_note(db.session(), g.staff.user, opened, form.body.data)
    return _back_to(report_id, "notes")


@bp.post("/case/<report_id>/grant")
@level(HANDLER)
def grant(report_id):
    opened = _open(report_id)
    form = GrantForm()
    if opened is None:
        return _case_page(report_id, 400)
    form.user_id.choices = [(u.id, u.display_name)
                            for u in grants.colleagues_without_key(db.session(), current_settings(), opened.report,
                                                                   opened.dek)]
    if not form.validate():
        return _case_page(report_id, 400, grant_form=form)
    try:
        grants.give_access(db.session(), current_settings(), opened.report, g.staff.user, opened.dek,
                           db.session().get(User, form.user_id.data))
    except grants.GrantRefused:
        abort(403)
    return _back_to(report_id)


@bp.get("/case/<report_id>/attachment/<attachment_id>")
@level(HANDLER)
def attachment(report_id, attachment_id):
    opened = _open(report_id)
    if opened is None:
        abort(403)
    try:
        found = reading.attachment_of(db.session(), opened.report, attachment_id)
    except reading.NoSuchAttachment:
        abort(404)
    # The whole file is checked first: its check holds no write lock (the
    # audit row is written after it). Only a real attachment of this case is
    # audited, also when its check fails.
    response = downloads.attachment_response(db.session(), opened.report, opened.dek, found)
    work.audit_download(db.session(), g.staff.user, opened.report, found.id)
    return response


@bp.post("/case/<report_id>/export")
@level(HANDLER)
@limiter.limit(configured(LOGIN_LIMIT))  # a password check: no guessing from a stolen session
def export(report_id):
    opened = _open(report_id)
    form = ExportForm()
    if opened is None:
        abort(403)
    if not form.validate():
        return _case_page(report_id, 400, export_form=form)
    if not sealed_session.recently_reauthenticated(sealed_session.HANDLER):
        if not form.password.data or not sign_in.reauthenticate(db.session(), current_settings(), g.staff.user,
                                                                 form.password.data):
            form.password.errors.append(_("Type your password to confirm the export."))
            return _case_page(report_id, 400, export_form=form)
        sealed_session.mark_reauthenticated(sealed_session.HANDLER)
    case, data = case_export.export_case(db.session(), current_settings(), g.staff.user, opened, fmt=form.format.data,
                                         secrecy_mark=form.secrecy_mark.data or "", exported_on=today())
    if form.format.data == "json":
        return current_app.response_class(case_export.to_json(data), mimetype="application/json", headers={
            "Content-Disposition": f'attachment; filename="case-{opened.report.id}.json"'})
    return render_template("handler/export.html", case=case, data=data)
