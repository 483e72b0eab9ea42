"""Staff routes: sign-in, account, inbox and case work. Each view parses the
form, calls the domain (staff_auth, inbox, case_work, grants, case_export)
and renders; access levels are declared per view (access.py, default deny)."""
from __future__ import annotations

from flask import abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from crypto import totp

from .. import case_export, case_reading, case_work, db, grants, inbox, sealed_session, staff_auth
from ..domain.cases import TransitionError
from ..domain.passwords import PasswordPolicyError
from ..domain.taxonomy import STATUS_ACKNOWLEDGED, STATUS_IN_PROGRESS
from ..models import User
from ..models.base import today
from ..reporter.submission import check_uploads, has_oversize
from ..security import is_safe_local_path, limiter
from . import access, bp
from .access import HANDLER, PUBLIC, STAFF, level
from .forms import (
    CloseForm,
    EnrolForm,
    FirstEnrolForm,
    ExportForm,
    GrantForm,
    LoginForm,
    NoteForm,
    PasswordChangeForm,
    PlainForm,
    RecoverForm,
    ReplyForm,
)
from .qr import qr_svg

LOGIN_LIMIT = "10 per minute"
GLOBAL_LOGIN_LIMIT = "300 per minute"
POLICY_MESSAGES = {
    "too_short": lambda: _("The password must have at least 12 characters."),
    "too_long": lambda: _("The password is too long."),
    "common": lambda: _("That password is too common or too easy to guess. Choose another."),
}

bp.before_request(access.enforce)


@bp.context_processor
def staff_forms():
    return {"plain_form": PlainForm(formdata=None)}


def _settings():
    return current_app.config["TILLIT"]


def _login_failed_message():
    return _("The username, password or code is wrong, or the account is locked for a while. Try again.")


def _start_staff_session(unlocked: staff_auth.Unlocked) -> None:
    # A new session id and nothing carried over from before sign-in.
    session.clear()
    sealed_session.start(db.session(), sealed_session.HANDLER, unlocked.private_key, user_id=unlocked.user.id)
    if unlocked.user.is_handler:
        grants.fulfil_pending(db.session(), unlocked.user, unlocked.private_key)


def _home_for(user: User) -> str:
    return url_for("handler.inbox") if user.is_handler else url_for("handler.account")


# --- sign-in ------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@level(PUBLIC)
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
@limiter.limit(GLOBAL_LOGIN_LIMIT, methods=["POST"], key_func=lambda: "all-staff-logins")
def login():
    form = LoginForm(next=request.args.get("next", ""))
    failed = False
    if form.validate_on_submit():
        try:
            unlocked = staff_auth.login(db.session(), _settings(), form.username.data, form.password.data,
                                        form.code.data or "")
        except staff_auth.LoginFailed:
            failed = True
            db.session().commit()  # the failure counts towards the lock
        else:
            if unlocked.needs_enrolment:
                return _begin_enrolment(unlocked)
            _start_staff_session(unlocked)
            db.session().commit()
            target = form.next.data if is_safe_local_path(form.next.data) else _home_for(unlocked.user)
            return redirect(target)
    form.password.data = ""
    form.code.data = ""
    status = 400 if request.method == "POST" else 200
    return render_template("handler/login.html", form=form,
                           failed_message=_login_failed_message() if failed else None), status


def _begin_enrolment(unlocked: staff_auth.Unlocked):
    session.clear()
    pending = staff_auth.start_enrolment(unlocked)
    sealed_session.start(db.session(), sealed_session.ENROL, pending.to_bytes(unlocked.private_key),
                         user_id=unlocked.user.id)
    db.session().commit()
    return redirect(url_for("handler.enrol"))


@bp.route("/enrol", methods=["GET", "POST"])
@level(PUBLIC)
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def enrol():
    opened = sealed_session.load(db.session(), sealed_session.ENROL)
    user = db.session().get(User, opened.row.user_id) if opened else None
    if user is None:
        return redirect(url_for("handler.login"))
    try:
        private_key, pending = staff_auth.PendingEnrolment.from_bytes(opened.secret)
    except ValueError:  # sealed by an older version: start again from the sign-in
        sealed_session.end(db.session(), sealed_session.ENROL)
        db.session().commit()
        return redirect(url_for("handler.login"))
    first = pending.new_private_key is not None
    form = FirstEnrolForm() if first else EnrolForm()
    wrong_code = False
    if form.validate_on_submit():
        try:
            signed_in_key = staff_auth.confirm_enrolment(
                db.session(), _settings(), user, private_key, pending, form.code.data,
                form.new_password.data if first else None)
        except PasswordPolicyError as error:
            form.new_password.errors.append(POLICY_MESSAGES[error.reason]())
        except staff_auth.PasswordNotChanged:
            form.new_password.errors.append(_("Choose a password of your own, not the one you were given."))
        else:
            if signed_in_key is not None:
                sealed_session.end(db.session(), sealed_session.ENROL)
                _start_staff_session(staff_auth.Unlocked(user, signed_in_key))
                db.session().commit()
                return redirect(_home_for(user))
            wrong_code = True
    if first:
        form.new_password.data = form.new_password_again.data = ""
    db.session().commit()
    uri = totp.provisioning_uri(pending.totp_secret, account=user.username,
                                issuer=current_app.config["TILLIT"].organisation_name or "Tillit")
    status = 400 if request.method == "POST" else 200
    return render_template("handler/enrol.html", form=form, user=user, qr=qr_svg(uri),
                           secret=totp.base32_secret(pending.totp_secret), recovery_key=pending.recovery_key,
                           wrong_code=wrong_code), status


@bp.route("/recover", methods=["GET", "POST"])
@level(PUBLIC)
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
@limiter.limit(GLOBAL_LOGIN_LIMIT, methods=["POST"], key_func=lambda: "all-staff-logins")
def recover():
    form = RecoverForm()
    failed = False
    if form.validate_on_submit():
        try:
            unlocked = staff_auth.recover(db.session(), _settings(), form.username.data, form.recovery_key.data,
                                          form.new_password.data)
        except PasswordPolicyError as error:
            form.new_password.errors.append(POLICY_MESSAGES[error.reason]())
        except staff_auth.LoginFailed:
            failed = True
            db.session().commit()
        else:
            return _begin_enrolment(unlocked)
    form.new_password.data = form.new_password_again.data = ""
    status = 400 if request.method == "POST" else 200
    return render_template("handler/recover.html", form=form,
                           failed_message=_("The username or recovery key is wrong. Try again.") if failed else None), status


@bp.post("/logout")
@level(STAFF)
def logout():
    if PlainForm().validate():
        sealed_session.end(db.session(), sealed_session.HANDLER)
        db.session().commit()
        session.clear()
    response = redirect(url_for("handler.login", signed_out=1))
    # The browser drops cookies, storage and any cached case page.
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@bp.post("/extend")
@level(STAFF)
def extend():
    db.session().commit()
    target = request.form.get("next", "")
    return redirect(target if is_safe_local_path(target) else _home_for(g.staff.user))


# --- own account --------------------------------------------------------------

@bp.route("/account", methods=["GET", "POST"])
@level(STAFF)
@limiter.limit(LOGIN_LIMIT, methods=["POST"])  # a password check: no guessing from a stolen session
def account():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            staff_auth.change_password(db.session(), _settings(), g.staff.user, form.current_password.data,
                                       form.new_password.data)
        except PasswordPolicyError as error:
            form.new_password.errors.append(POLICY_MESSAGES[error.reason]())
        except staff_auth.LoginFailed:
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            db.session().commit()
            session.clear()
            return redirect(url_for("handler.login", password_changed=1))
    db.session().commit()
    for f in (form.current_password, form.new_password, form.new_password_again):
        f.data = ""
    status = 400 if request.method == "POST" else 200
    return render_template("handler/account.html", form=form), status


# --- inbox ----------------------------------------------------------------------

@bp.get("/", endpoint="inbox")
@level(HANDLER)
def inbox_index():
    filters = inbox.InboxFilter.parse(request.args)
    page = inbox.inbox_page(db.session(), g.staff.user, filters, today())
    db.session().commit()
    return render_template("handler/inbox.html", page=page, filters=filters)


# --- one case -----------------------------------------------------------------

def _open(report_id: str) -> case_work.OpenCase | None:
    """The open case, None when this handler has no key yet; 403 when invisible."""
    try:
        return case_work.open_case(db.session(), g.staff.user, g.staff.private_key, report_id)
    except case_work.NotVisible:
        abort(403)
    except case_work.NoKey:
        return None


def _case_page(report_id: str, status: int = 200, **forms):
    opened = _open(report_id)
    if opened is None:
        report = case_work.find(db.session(), g.staff.user, report_id)
        db.session().commit()
        return render_template("handler/waiting.html", report=report), 200
    case = case_work.read(db.session(), g.staff.user, opened)
    db.session().commit()
    close_form = forms.get("close_form") or CloseForm(formdata=None)
    grant_form = forms.get("grant_form") or GrantForm(formdata=None)
    grant_form.user_id.choices = [(u.id, u.display_name) for u in case.colleagues]
    return render_template(
        "handler/case.html", case=case,
        reply_form=forms.get("reply_form") or ReplyForm(formdata=None),
        note_form=forms.get("note_form") or NoteForm(formdata=None),
        close_form=close_form, grant_form=grant_form,
        export_form=forms.get("export_form") or ExportForm(formdata=None),
        error=forms.get("error")), status


@bp.get("/case/<report_id>")
@level(HANDLER)
def case(report_id):
    return _case_page(report_id)


STATUS_ACTIONS = {"acknowledge": STATUS_ACKNOWLEDGED, "start": STATUS_IN_PROGRESS, "reopen": STATUS_IN_PROGRESS}


@bp.post("/case/<report_id>/status/<action>")
@level(HANDLER)
def change_status(report_id, action):
    if action not in STATUS_ACTIONS:
        abort(404)
    opened = _open(report_id)
    if opened is None or not PlainForm().validate():
        return _case_page(report_id, 400, error=_("The form had expired. Try again."))
    try:
        case_work.change_status(db.session(), g.staff.user, opened.report, STATUS_ACTIONS[action])
    except TransitionError:
        return _case_page(report_id, 409, error=_("That step is not possible in the case's current status."))
    db.session().commit()
    return redirect(url_for("handler.case", report_id=report_id))


@bp.post("/case/<report_id>/close")
@level(HANDLER)
def close(report_id):
    opened = _open(report_id)
    form = CloseForm()
    if opened is None:
        return _case_page(report_id, 400)
    if form.validate():
        try:
            case_work.close(db.session(), g.staff.user, opened.report, form.outcome.data,
                            hours_saved=form.hours_saved.data, summary_title=form.summary_title.data or "",
                            summary_body=form.summary_body.data or "")
        except TransitionError:
            return _case_page(report_id, 409, close_form=form,
                              error=_("That step is not possible in the case's current status."))
        db.session().commit()
        return redirect(url_for("handler.case", report_id=report_id))
    return _case_page(report_id, 400, close_form=form)


@bp.post("/case/<report_id>/reply")
@level(HANDLER)
def reply(report_id):
    opened = _open(report_id)
    form = ReplyForm()
    if opened is None:
        return _case_page(report_id, 400)
    valid = form.validate()
    uploads = check_uploads(form.attachments, _settings())
    if valid and uploads is not None:
        case_work.reply(db.session(), _settings(), g.staff.user, opened, form.kind.data, form.body.data, uploads)
        db.session().commit()
        return redirect(url_for("handler.case", report_id=report_id, _anchor="dialogue"))
    return _case_page(report_id, 413 if has_oversize(form.attachments) else 400, reply_form=form)


@bp.post("/case/<report_id>/note")
@level(HANDLER)
def note(report_id):
    opened = _open(report_id)
    form = NoteForm()
    if opened is None:
        return _case_page(report_id, 400)
    if form.validate():
        case_work.add_note(db.session(), g.staff.user, opened, form.body.data)
        db.session().commit()
        return redirect(url_for("handler.case", report_id=report_id, _anchor="notes"))
    return _case_page(report_id, 400, note_form=form)


@bp.post("/case/<report_id>/grant")
@level(HANDLER)
def grant(report_id):
    opened = _open(report_id)
    form = GrantForm()
    if opened is None:
        return _case_page(report_id, 400)
    form.user_id.choices = [(u.id, u.display_name) for u in grants.colleagues_without_key(db.session(), opened.report)]
    if form.validate():
        target = db.session().get(User, form.user_id.data)
        try:
            grants.give_access(db.session(), opened.report, g.staff.user, opened.dek, target)
        except grants.GrantRefused:
            abort(403)
        db.session().commit()
        return redirect(url_for("handler.case", report_id=report_id))
    return _case_page(report_id, 400, grant_form=form)


@bp.get("/case/<report_id>/attachment/<attachment_id>")
@level(HANDLER)
def attachment(report_id, attachment_id):
    opened = _open(report_id)
    if opened is None:
        abort(403)
    # Only a real attachment of this case is audited (and the id in the log is one).
    found = case_reading.attachment_of(db.session(), opened.report, attachment_id)
    case_work.audit_download(db.session(), g.staff.user, opened.report, found.id)
    db.session().commit()
    return case_reading.download(db.session(), opened.report, opened.dek, found)


@bp.post("/case/<report_id>/export")
@level(HANDLER)
@limiter.limit(LOGIN_LIMIT)  # a password check: no guessing from a stolen session
def export(report_id):
    opened = _open(report_id)
    form = ExportForm()
    if opened is None:
        abort(403)
    if not form.validate():
        return _case_page(report_id, 400, export_form=form)
    if not sealed_session.recently_reauthenticated(sealed_session.HANDLER):
        if not form.password.data or not staff_auth.reauthenticate(db.session(), _settings(), g.staff.user,
                                                                    form.password.data):
            db.session().commit()
            form.password.errors.append(_("Type your password to confirm the export."))
            return _case_page(report_id, 400, export_form=form)
        sealed_session.mark_reauthenticated(sealed_session.HANDLER)
    case = case_work.read(db.session(), g.staff.user, opened)
    data = case_export.record(case, secrecy_mark=form.secrecy_mark.data or "", exported_by=g.staff.user,
                              exported_on=today())
    case_export.audit_export(db.session(), g.staff.user, case, form.format.data, form.secrecy_mark.data or "")
    db.session().commit()
    if form.format.data == "json":
        return current_app.response_class(case_export.to_json(data), mimetype="application/json", headers={
            "Content-Disposition": f'attachment; filename="case-{opened.report.id}.json"'})
    return render_template("handler/export.html", case=case, data=data)
