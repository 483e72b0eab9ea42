"""Following a report up with its receipt: the case page, the dialogue,
meeting requests, minutes, files, and closing the case again."""
from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from ...reports import access, dialogue, reading
from ...web import current_settings, db, downloads, sealed_session
from ...web.forms import TEXT_MAX, PlainForm, csrf
from ...web.rate_limits import FORM_POST_LIMIT, RECEIPT_LIMIT, SUBMIT_LIMIT, limiter, configured, take_one
from ...web.upload_fields import check_uploads, confirm_uncleanable, has_oversize
from . import bp
from .forms import MeetingForm, ReceiptForm, ReplyForm


@bp.route("/follow-up", methods=["GET", "POST"])
@csrf.exempt  # checked by the form, so a stale token re-shows the form with its text
@limiter.limit(configured(RECEIPT_LIMIT), methods=["POST"])
def follow_up():
    if request.method == "GET" and sealed_session.load(db.session(), sealed_session.REPORTER, touch=False):
        return redirect(url_for("reporter.case"))
    form = ReceiptForm()
    denied = purged = False
    if form.validate_on_submit():
        try:
            case = access.open_with_receipt(db.session(), current_settings(), form.receipt.data)
        except access.AccessDenied:
            denied = True
        except access.Purged:
            purged = True
        else:
            sealed_session.start(db.session(), sealed_session.REPORTER, case.session_payload())
            if form.pending_reply.data:
                dialogue.reporter_reply(db.session(), current_settings(), case, form.pending_reply.data, ())
            return redirect(url_for("reporter.case"))
    status = 400 if request.method == "POST" else 200
    return render_template("reporter/follow_up.html", form=form, denied=denied, purged=purged), status


def _open_case():
    """(the session, the case) of the reporter's sealed session, or (None, None)."""
    opened = sealed_session.load(db.session(), sealed_session.REPORTER)
    case = access.reopen(db.session(), opened.secret) if opened is not None else None
    return (opened, case) if case is not None else (None, None)


def _expired_reply(body: str = ""):
    form = ReceiptForm(formdata=None, pending_reply=body[:TEXT_MAX])
    return render_template("reporter/follow_up.html", form=form, expired=True), 401


def _case_page(opened, case, status=200, *, reply_form=None, meeting_form=None):
    page = reading.reporter_case(db.session(), current_settings(), case)
    return render_template("reporter/case.html", case=page, seconds_left=opened.seconds_left,
                           reply_form=reply_form or ReplyForm(formdata=None),
                           meeting_form=meeting_form or MeetingForm(formdata=None),
                           plain_form=PlainForm(formdata=None)), status


@bp.get("/follow-up/case")
def case():
    opened, case = _open_case()
    if opened is None:
        return redirect(url_for("reporter.follow_up"))
    return _case_page(opened, case)


@bp.post("/follow-up/reply")
@csrf.exempt  # checked by the form, so a stale token re-shows the form with its text
def reply():
    form = ReplyForm()
    opened, case = _open_case()
    if opened is None:
        return _expired_reply(form.body.data or "")
    if not take_one(FORM_POST_LIMIT, "reply-post"):
        form.mark_rate_limited()
        return _case_page(opened, case, 429, reply_form=form)
    valid = form.validate()
    uploads = check_uploads(form.attachments, current_settings())
    status = 413 if has_oversize(form.attachments) else 400
    if valid and uploads is not None and confirm_uncleanable(uploads, form.attachments, form.send_uncleaned.data):
        if take_one(SUBMIT_LIMIT, "reply"):
            dialogue.reporter_reply(db.session(), current_settings(), case, form.body.data, uploads)
            return redirect(url_for("reporter.case", _anchor="dialogue"))
        form.mark_rate_limited()
        status = 429
    return _case_page(opened, case, status, reply_form=form)


@bp.post("/follow-up/meeting")
@csrf.exempt  # checked by the form, so a stale token re-shows the form with its text
def request_meeting():
    form = MeetingForm()
    opened, case = _open_case()
    if opened is None:
        return _expired_reply(form.body.data or "")
    if form.validate():
        dialogue.request_meeting(db.session(), case, form.body.data or "")
        return redirect(url_for("reporter.case", _anchor="dialogue"))
    return _case_page(opened, case, 400, meeting_form=form)


@bp.post("/follow-up/minutes/<message_id>/confirm")
def confirm_minutes(message_id):
    opened, case = _open_case()
    if opened is None:
        return _expired_reply()
    if not PlainForm().validate() or not dialogue.confirm_minutes(db.session(), case, message_id):
        abort(400)
    return redirect(url_for("reporter.case", _anchor="dialogue"))


@bp.post("/follow-up/extend")
def extend():
    if PlainForm().validate() and sealed_session.load(db.session(), sealed_session.REPORTER):
        return redirect(url_for("reporter.case"))
    return redirect(url_for("reporter.follow_up"))


@bp.post("/follow-up/sign-out")
def sign_out():
    if PlainForm().validate():
        sealed_session.end(db.session(), sealed_session.REPORTER)
    return render_template("reporter/signed_out.html")


@bp.get("/follow-up/attachment/<attachment_id>")
def attachment(attachment_id):
    opened, case = _open_case()
    if opened is None:
        return redirect(url_for("reporter.follow_up"))
    try:
        found = reading.attachment_of(db.session(), case.report, attachment_id)
    except reading.NoSuchAttachment:
        abort(404)
    return downloads.attachment_response(db.session(), case.report, case.dek, found)
