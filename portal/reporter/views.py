"""Reporter routes: parse the form, call the case file, render. No JavaScript needed."""
from __future__ import annotations

import json

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from sqlalchemy.exc import IntegrityError

from crypto import ReceiptFormatError
from crypto.envelope import DEK_BYTES
from crypto.receipt import format_receipt

from .. import case_reading, casefile, csrf, db, form_tokens, sealed_session, security, site_texts
from ..domain.cases import ACKNOWLEDGE_WITHIN_DAYS, FEEDBACK_WITHIN_MONTHS
from ..domain.routing import NoRouteError
from ..domain.taxonomy import AUTHOR_REPORTER, MISCONDUCT, OBSTACLE, TRACKS
from ..security import limiter
from . import bp, submission
from .forms import (
    CategoryForm,
    MeetingForm,
    MisconductForm,
    ObstacleForm,
    PlainForm,
    ReceiptDownloadForm,
    TEXT_MAX,
    ReceiptForm,
    ReplyForm,
)

TRACK_FORMS = {OBSTACLE: ObstacleForm, MISCONDUCT: MisconductForm}
SUBMIT_LIMIT = "20 per hour"
RECEIPT_LIMIT = "10 per 10 minutes"


def _settings():
    return current_app.config["TILLIT"]


@bp.get("/")
def landing():
    return render_template(
        "reporter/landing.html",
        acknowledge_days=ACKNOWLEDGE_WITHIN_DAYS,
        feedback_months=FEEDBACK_WITHIN_MONTHS,
        external=site_texts.external_channels(db.session(), str(get_locale())),
    )


def _track_or_404(track: str) -> str:
    if track not in TRACKS:
        abort(404)
    return track


@bp.get("/report/<track>")
def report_form(track):
    track = _track_or_404(track)
    chooser = CategoryForm(request.args)
    submission.prepare_chooser(chooser, track)
    submitted = "step" in request.args or "category" in request.args
    if not submitted or not chooser.validate():
        return render_template("reporter/choose.html", form=chooser, track=track, show_errors=submitted)
    chain_level = chooser.chain_level.data if "chain_level" in chooser else None
    form = TRACK_FORMS[track](formdata=None, category=chooser.category.data,
                              chain_level=chain_level or "unknown")
    try:
        view = submission.prepare_form(db.session(), form, track)
    except NoRouteError:
        return render_template("reporter/no_route.html"), 503
    form.nonce.data = form_tokens.issue()
    return render_template("reporter/form.html", form=form, track=track, view=view)


@bp.post("/report/<track>")
@csrf.exempt  # checked by the form, so a stale token re-shows the form with its text
def submit_report(track):
    track = _track_or_404(track)
    form = TRACK_FORMS[track]()
    try:
        view = submission.prepare_form(db.session(), form, track)
    except NoRouteError:
        return render_template("reporter/no_route.html"), 503
    token = form.nonce.data
    if not form_tokens.is_well_formed(token):
        form.nonce.data = form_tokens.issue()  # a damaged page: a fresh token, the text kept
        form.validate()
        form.mark_not_sent()
        return render_template("reporter/form.html", form=form, track=track, view=view), 400
    if form_tokens.is_used(db.session(), token):
        # Only the browser that sent the form (same cookie, so the same CSRF
        # token: a double click) may see the receipt held for it.
        if not form.csrf_is_valid():
            form.mark_not_sent()
            return render_template("reporter/form.html", form=form, track=track, view=view), 400
        return _receipt_of_the_first_copy(token)
    valid = form.validate()
    uploads = submission.check_uploads(form.attachments, _settings())
    if valid and uploads is not None and submission.check_channel(form, view):
        if not security.take_one(SUBMIT_LIMIT, "report"):
            form.mark_rate_limited()
            return render_template("reporter/form.html", form=form, track=track, view=view), 429
        try:
            form_tokens.claim(db.session(), token)  # first: a second copy waits here, then fails
            result = json.dumps(submission.submit(db.session(), _settings(), form, track, uploads)).encode()
            _show_receipt(result, form_tokens.hold(db.session(), token, result))
            db.session().commit()
        except IntegrityError:  # the same form, sent twice at once: the other copy made the report
            db.session().rollback()
            return _receipt_of_the_first_copy(token)
        return redirect(url_for("reporter.receipt_page"))
    status = 413 if submission.has_oversize(form.attachments) else 400
    return render_template("reporter/form.html", form=form, track=track, view=view), status


def _show_receipt(result: bytes, handle: str) -> None:
    """Seal the receipt for the receipt page, once; `handle` lets that page
    drop the copy held for a second POST of the same form."""
    sealed_session.start(db.session(), sealed_session.RECEIPT,
                         json.dumps({"result": result.decode(), "held": handle}).encode())


def _receipt_of_the_first_copy(token: str):
    """A form already turned into a report: its receipt if it has not been
    shown yet (a double click), otherwise 'already sent'."""
    result = form_tokens.held(db.session(), token)
    if result is None:
        return render_template("reporter/replayed.html"), 409
    _show_receipt(result, form_tokens.hash_of(token))
    db.session().commit()
    return redirect(url_for("reporter.receipt_page"))


@bp.get("/report/sent")
def receipt_page():
    opened = sealed_session.load(db.session(), sealed_session.RECEIPT, touch=False)
    if opened is None:
        return render_template("reporter/receipt_gone.html")
    # Shown once: the sealed copies are destroyed before the page is rendered.
    sealed = json.loads(opened.secret)
    sealed_session.end(db.session(), sealed_session.RECEIPT)
    form_tokens.release(db.session(), sealed.get("held"))
    db.session().commit()
    result = json.loads(sealed["result"]) if "result" in sealed else sealed  # or sealed before "held" existed
    return render_template("reporter/sent.html", receipt=result["receipt"], files=result["files"], shown_once=True,
                           download_form=ReceiptDownloadForm(formdata=None, receipt=result["receipt"]))


@bp.post("/report/receipt.txt")
def receipt_download():
    form = ReceiptDownloadForm()
    if not form.validate():
        abort(400)
    try:
        receipt = format_receipt(form.receipt.data)
    except ReceiptFormatError:
        abort(400)
    text = _("Receipt code for your report at %(site)s:", site=request.host) + f"\n\n{receipt}\n\n" + \
        _("Keep it secret. Anyone with this code can read the report and the dialogue.") + "\n"
    return current_app.response_class(
        text, mimetype="text/plain",
        headers={"Content-Disposition": 'attachment; filename="tillit-receipt.txt"'},
    )


@bp.route("/follow-up", methods=["GET", "POST"])
@csrf.exempt  # checked by the form, so a stale token re-shows the form with its text
@limiter.limit(RECEIPT_LIMIT, methods=["POST"])
def follow_up():
    if request.method == "GET" and sealed_session.load(db.session(), sealed_session.REPORTER, touch=False):
        return redirect(url_for("reporter.case"))
    form = ReceiptForm()
    denied = False
    if form.validate_on_submit():
        try:
            report, dek = casefile.open_with_receipt(db.session(), _settings(), form.receipt.data)
        except casefile.AccessDenied:
            denied = True
        else:
            # The report id travels sealed with the key, not in the session
            # row: a dump must not show which reports were just looked at.
            sealed_session.start(db.session(), sealed_session.REPORTER, dek + report.id.encode())
            if form.pending_reply.data:
                casefile.post_message(db.session(), report, dek, author=AUTHOR_REPORTER,
                                      body=form.pending_reply.data)
            db.session().commit()
            return redirect(url_for("reporter.case"))
    status = 400 if request.method == "POST" else 200
    return render_template("reporter/follow_up.html", form=form, denied=denied), status


def _open_case():
    opened = sealed_session.load(db.session(), sealed_session.REPORTER)
    if opened is None:
        return None, None, None
    dek, report_id = opened.secret[:DEK_BYTES], opened.secret[DEK_BYTES:].decode()
    report = db.session().get(casefile.Report, report_id)
    if report is None:
        return None, None, None
    return opened, report, dek


def _expired_reply(body: str = ""):
    form = ReceiptForm(formdata=None, pending_reply=body[:TEXT_MAX])
    return render_template("reporter/follow_up.html", form=form, expired=True), 401


@bp.get("/follow-up/case")
def case():
    opened, report, dek = _open_case()
    if opened is None:
        return redirect(url_for("reporter.follow_up"))
    page = submission.case_view(db.session(), report, dek)
    db.session().commit()
    return render_template("reporter/case.html", case=page, seconds_left=opened.seconds_left,
                           reply_form=ReplyForm(formdata=None), meeting_form=MeetingForm(formdata=None),
                           plain_form=PlainForm(formdata=None))


@bp.post("/follow-up/reply")
@csrf.exempt  # checked by the form, so a stale token re-shows the form with its text
def reply():
    form = ReplyForm()
    opened, report, dek = _open_case()
    if opened is None:
        return _expired_reply(form.body.data or "")
    valid = form.validate()
    uploads = submission.check_uploads(form.attachments, _settings())
    status = 413 if submission.has_oversize(form.attachments) else 400
    if valid and uploads is not None:
        if security.take_one(SUBMIT_LIMIT, "reply"):
            submission.reply(db.session(), _settings(), report, dek, form.body.data, uploads)
            db.session().commit()
            return redirect(url_for("reporter.case", _anchor="dialogue"))
        form.mark_rate_limited()
        status = 429
    page = submission.case_view(db.session(), report, dek)
    return render_template("reporter/case.html", case=page, seconds_left=opened.seconds_left,
                           reply_form=form, meeting_form=MeetingForm(formdata=None),
                           plain_form=PlainForm(formdata=None)), status


@bp.post("/follow-up/meeting")
@csrf.exempt  # checked by the form, so a stale token re-shows the form with its text
def request_meeting():
    form = MeetingForm()
    opened, report, dek = _open_case()
    if opened is None:
        return _expired_reply(form.body.data or "")
    if form.validate():
        submission.request_meeting(db.session(), report, dek, form.body.data or "")
        db.session().commit()
        return redirect(url_for("reporter.case", _anchor="dialogue"))
    page = submission.case_view(db.session(), report, dek)
    return render_template("reporter/case.html", case=page, seconds_left=opened.seconds_left,
                           reply_form=ReplyForm(formdata=None), meeting_form=form,
                           plain_form=PlainForm(formdata=None)), 400


@bp.post("/follow-up/minutes/<message_id>/confirm")
def confirm_minutes(message_id):
    opened, report, dek = _open_case()
    if opened is None:
        return _expired_reply()
    if not PlainForm().validate() or not submission.confirm_minutes(db.session(), report, dek, message_id):
        abort(400)
    db.session().commit()
    return redirect(url_for("reporter.case", _anchor="dialogue"))


@bp.post("/follow-up/extend")
def extend():
    if PlainForm().validate() and sealed_session.load(db.session(), sealed_session.REPORTER):
        db.session().commit()
        return redirect(url_for("reporter.case"))
    return redirect(url_for("reporter.follow_up"))


@bp.post("/follow-up/sign-out")
def sign_out():
    if PlainForm().validate():
        sealed_session.end(db.session(), sealed_session.REPORTER)
        db.session().commit()
    return render_template("reporter/signed_out.html")


@bp.get("/follow-up/attachment/<attachment_id>")
def attachment(attachment_id):
    opened, report, dek = _open_case()
    if opened is None:
        return redirect(url_for("reporter.follow_up"))
    return case_reading.download(db.session(), report, dek,
                                 case_reading.attachment_of(db.session(), report, attachment_id))
