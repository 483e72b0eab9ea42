"""Staff sign-in: password and code, enrolment of the authenticator (with a
password and key pair of one's own at the first sign-in), recovery, sign-out."""
from __future__ import annotations

from flask import g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from crypto import totp

from ...domain.passwords import PasswordPolicyError
from ...models import User
from ...staff import sign_in
from ...staff.enrolment import PasswordNotChanged, PendingEnrolment, confirm_enrolment
from ...web import current_settings, db, sealed_session
from ...web.forms import PlainForm, password_policy_message
from ...web.rate_limits import LOGIN_LIMIT, all_staff_logins, global_login_limit, limiter, configured
from ...web.redirects import is_safe_local_path
from . import bp
from ...web.staff_access import PUBLIC, STAFF, home_for, level
from .forms import EnrolForm, FirstEnrolForm, LoginForm, RecoverForm
from .qr import qr_svg


def start_staff_session(user: User, private_key: bytes) -> None:
    # A new session id and nothing carried over from before sign-in.
    session.clear()
    sealed_session.start(db.session(), sealed_session.HANDLER, private_key, user_id=user.id)


@bp.route("/login", methods=["GET", "POST"])
@level(PUBLIC)
# Flask-Limiter counts the limits in the order they are applied, the lowest
# decorator first, and stops at the first one exceeded: the per-connection
# limit must come first, or its refusals use up everyone's (review finding).
@limiter.limit(global_login_limit, methods=["POST"], key_func=all_staff_logins)
@limiter.limit(configured(LOGIN_LIMIT), methods=["POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    message = None
    if form.validate_on_submit():
        try:
            unlocked = sign_in.login(db.session(), current_settings(), form.username.data, form.password.data,
                                     form.code.data or "")
        except sign_in.KeyTampered:
            message = _("Your password and code are right, but the key stored for your account is not yours: it "
                        "was changed outside the portal. To keep reports from reaching someone else, you cannot "
                        "sign in until an administrator has restored your account. This is in the audit log.")
        except sign_in.LoginFailed:
            # The failure counts towards the lock (the request commits it).
            message = _("The username, password or code is wrong, or the account is locked for a while. Try again.")
        else:
            if unlocked.needs_enrolment:
                return _begin_enrolment(unlocked)
            start_staff_session(unlocked.user, unlocked.private_key)
            target = form.next.data if is_safe_local_path(form.next.data) else home_for(unlocked.user)
            return redirect(target)
    form.password.data = ""
    form.code.data = ""
    status = 400 if request.method == "POST" else 200
    return render_template("handler/login.html", form=form, failed_message=message), status


def _begin_enrolment(unlocked: sign_in.Unlocked):
    session.clear()
    sealed_session.start(db.session(), sealed_session.ENROL, unlocked.begin_enrolment().to_bytes(),
                         user_id=unlocked.user.id)
    return redirect(url_for("handler.enrol"))


@bp.route("/enrol", methods=["GET", "POST"])
@level(PUBLIC)
@limiter.limit(configured(LOGIN_LIMIT), methods=["POST"])
def enrol():
    opened = sealed_session.load(db.session(), sealed_session.ENROL)
    user = db.session().get(User, opened.row.user_id) if opened else None
    if user is None:
        return redirect(url_for("handler.login"))
    try:
        pending = PendingEnrolment.from_bytes(opened.secret)
    except ValueError:  # sealed by an older version: start again from the sign-in
        sealed_session.end(db.session(), sealed_session.ENROL)
        return redirect(url_for("handler.login"))
    form = FirstEnrolForm() if pending.first_sign_in else EnrolForm()
    wrong_code = False
    if form.validate_on_submit():
        try:
            signed_in_key = confirm_enrolment(db.session(), current_settings(), user, pending, form.code.data,
                                              form.new_password.data if pending.first_sign_in else None)
        except PasswordPolicyError as error:
            form.new_password.errors.append(password_policy_message(error.reason))
        except PasswordNotChanged:
            form.new_password.errors.append(_("Choose a password of your own, not the one you were given."))
        else:
            if signed_in_key is not None:
                sealed_session.end(db.session(), sealed_session.ENROL)
                start_staff_session(user, signed_in_key)
                return redirect(home_for(user))
            wrong_code = True
    if pending.first_sign_in:
        form.new_password.data = form.new_password_again.data = ""
    uri = totp.provisioning_uri(pending.totp_secret, account=user.username,
                                issuer=current_settings().organisation_name or "Tillit")
    status = 400 if request.method == "POST" else 200
    return render_template("handler/enrol.html", form=form, user=user, qr=qr_svg(uri),
                           secret=totp.base32_secret(pending.totp_secret), recovery_key=pending.recovery_key,
                           wrong_code=wrong_code), status


@bp.route("/recover", methods=["GET", "POST"])
@level(PUBLIC)
@limiter.limit(global_login_limit, methods=["POST"], key_func=all_staff_logins)
@limiter.limit(configured(LOGIN_LIMIT), methods=["POST"])  # first: see login()
def recover():
    form = RecoverForm()
    failed = False
    if form.validate_on_submit():
        try:
            unlocked = sign_in.recover(db.session(), current_settings(), form.username.data,
                                       form.recovery_key.data, form.new_password.data)
        except PasswordPolicyError as error:
            form.new_password.errors.append(password_policy_message(error.reason))
        except sign_in.LoginFailed:
            failed = True
        else:
            return _begin_enrolment(unlocked)
    form.new_password.data = form.new_password_again.data = ""
    status = 400 if request.method == "POST" else 200
    message = _("The username or recovery key is wrong. Try again.")
    return render_template("handler/recover.html", form=form, failed_message=message if failed else None), status


@bp.post("/logout")
@level(STAFF)
def logout():
    if PlainForm().validate():
        sealed_session.end(db.session(), sealed_session.HANDLER)
        session.clear()
    response = redirect(url_for("handler.login", signed_out=1))
    # The browser drops cookies, storage and any cached case page.
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


@bp.post("/extend")
@level(STAFF)
def extend():
    target = request.form.get("next", "")
    return redirect(target if is_safe_local_path(target) else home_for(g.staff.user))
