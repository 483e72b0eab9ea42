"""Reporting: the landing page, the privacy notice, the two forms, sending,
and the receipt shown once."""
from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import force_locale, get_locale, gettext as _

from crypto import ReceiptFormatError
from crypto.receipt import format_receipt

from ...domain.cases import ACKNOWLEDGE_WITHIN_DAYS, FEEDBACK_WITHIN_MONTHS
from ...domain.routing import NoRouteError
from ...domain.taxonomy import MISCONDUCT, OBSTACLE, TRACKS
from ...organisation import texts
from ...reports import derivations, form_tokens, submission
from ...reports.submission import ReceiptToShow
from ...web import current_settings, db, sealed_session
from ...web.forms import csrf
from ...web.rate_limits import FORM_POST_LIMIT, SUBMIT_LIMIT, take_one
from ...web.upload_fields import check_uploads, confirm_uncleanable, has_oversize
from . import bp
from .form_setup import check_channel, new_report, prepare_chooser, prepare_form
from .forms import CategoryForm, MisconductForm, ObstacleForm, ReceiptDownloadForm

BUSY_RETRY_SECONDS = 60  # the busy page says: wait a minute

TRACK_FORMS = {OBSTACLE: ObstacleForm, MISCONDUCT: MisconductForm}


@bp.get("/")
def landing():
    language = str(get_locale())
    return render_template(
        "reporter/landing.html",
        acknowledge_days=ACKNOWLEDGE_WITHIN_DAYS,
        feedback_months=FEEDBACK_WITHIN_MONTHS,
        external=texts.external_channels(db.session(), language),
        obstacle_notice=texts.paragraphs(texts.legal_notice(db.session(), OBSTACLE, language)),
    )


@bp.get("/privacy")
def privacy():
    """Readable before anything is sent, without a cookie: ?lang= picks the
    language for this page alone, and the layout's language switch is left
    out (shown_once), since its CSRF token would start a session."""
    language = request.args.get("lang")
    language = language if language in current_app.config["LANGUAGES"] else str(get_locale())
    before = set(session)
    with force_locale(language):
        page = render_template("reporter/privacy.html", shown_once=True,
                               notice=texts.paragraphs(texts.privacy_notice(db.session(), language)))
    for key in set(session) - before:  # the token the layout's language form made, unused here
        session.pop(key)
    session.modified = False
    return page


def _form_page(form, track: str, view, status: int = 200):
    notice = texts.legal_notice(db.session(), track, str(get_locale()))
    return render_template("reporter/form.html", form=form, track=track, view=view,
                           notice=texts.paragraphs(notice)), status


def _track_or_404(track: str) -> str:
    if track not in TRACKS:
        abort(404)
    return track


@bp.get("/report/<track>")
def report_form(track):
    track = _track_or_404(track)
    chooser = CategoryForm(request.args)
    prepare_chooser(chooser, track)
    submitted = "step" in request.args or "category" in request.args
    if not submitted or not chooser.validate():
        return render_template("reporter/choose.html", form=chooser, track=track, show_errors=submitted)
    chain_level = chooser.chain_level.data if "chain_level" in chooser else None
    form = TRACK_FORMS[track](formdata=None, category=chooser.category.data,
                              chain_level=chain_level or "unknown")
    try:
        view = prepare_form(db.session(), current_settings(), form, track)
    except NoRouteError:
        return render_template("reporter/no_route.html"), 503
    form.nonce.data = form_tokens.issue()
    return _form_page(form, track, view)


@bp.post("/report/<track>")
@csrf.exempt  # checked by the form, so a stale token re-shows the form with its text
def submit_report(track):
    track = _track_or_404(track)
    form = TRACK_FORMS[track]()
    try:
        view = prepare_form(db.session(), current_settings(), form, track)
    except NoRouteError:
        return render_template("reporter/no_route.html"), 503

    def again(status):
        return _form_page(form, track, view, status)

    if not take_one(FORM_POST_LIMIT, "report-post"):
        form.mark_rate_limited()
        return again(429)
    token = form.nonce.data
    if not form_tokens.is_well_formed(token):
        form.nonce.data = form_tokens.issue()  # a damaged page: a fresh token, the text kept
        form.validate()
        form.mark_not_sent()
        return again(400)
    if form_tokens.is_used(db.session(), token):
        # Only the browser that sent the form (same cookie, so the same CSRF
        # token: a double click) may see the receipt held for it.
        if not form.csrf_is_valid():
            form.mark_not_sent()
            return again(400)
        return _receipt_of_the_first_copy(token)
    valid = form.validate()
    uploads = check_uploads(form.attachments, current_settings())
    if not (valid and uploads is not None and check_channel(form, view)):
        return again(413 if has_oversize(form.attachments) else 400)
    if not confirm_uncleanable(uploads, form.attachments, form.send_uncleaned.data):
        return again(400)
    try:
        # Counted only once an Argon2id slot is free: a busy refusal costs the reporter nothing.
        shown = submission.submit_once(db.session(), current_settings(), token, new_report(form, track), uploads,
                                       admit=lambda: take_one(SUBMIT_LIMIT, "report"))
    except derivations.NotAdmitted:
        form.mark_rate_limited()
        return again(429)
    except derivations.Busy:
        form.mark_busy()
        page, status = again(503)
        return page, status, {"Retry-After": str(BUSY_RETRY_SECONDS)}
    if shown is None:  # the same form, sent twice at once: the other copy made the report
        return _receipt_of_the_first_copy(token)
    return _show_receipt(shown)


def _show_receipt(shown: ReceiptToShow):
    """Seal the receipt for the receipt page, which shows it once."""
    sealed_session.start(db.session(), sealed_session.RECEIPT, shown.to_bytes())
    return redirect(url_for("reporter.receipt_page"))


def _receipt_of_the_first_copy(token: str):
    """A form already turned into a report: its receipt if it has not been
    shown yet (a double click), otherwise 'already sent'."""
    shown = submission.held_receipt(db.session(), token)
    if shown is None:
        return render_template("reporter/replayed.html"), 409
    return _show_receipt(shown)


@bp.get("/report/sent")
def receipt_page():
    opened = sealed_session.load(db.session(), sealed_session.RECEIPT, touch=False)
    if opened is None:
        return render_template("reporter/receipt_gone.html")
    # Shown once: the sealed copies are destroyed before the page is rendered.
    shown = ReceiptToShow.from_bytes(opened.secret)
    sealed_session.end(db.session(), sealed_session.RECEIPT)
    form_tokens.release(db.session(), shown.held)
    receipt = shown.sent.receipt
    return render_template("reporter/sent.html", receipt=receipt, files=list(shown.sent.files), shown_once=True,
                           download_form=ReceiptDownloadForm(formdata=None, receipt=receipt))


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
    name = _("tillit-receipt")  # in the reader's language, so the file says what it is
    return current_app.response_class(
        text, mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{name}.txt"'},
    )
