"""A staff member's own account: changing the password."""
from __future__ import annotations

from flask import g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ...domain.passwords import PasswordPolicyError
from ...staff import sign_in
from ...trust import statements
from ...web import current_settings, db
from ...web.forms import password_policy_message
from ...web.rate_limits import LOGIN_LIMIT, limiter, configured
from . import bp
from ...web.staff_access import STAFF, level
from .forms import PasswordChangeForm


@bp.route("/account", methods=["GET", "POST"])
@level(STAFF)
@limiter.limit(configured(LOGIN_LIMIT), methods=["POST"])  # a password check: no guessing from a stolen session
def account():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            sign_in.change_password(db.session(), current_settings(), g.staff.user, form.current_password.data,
                                    form.new_password.data)
        except PasswordPolicyError as error:
            form.new_password.errors.append(password_policy_message(error.reason))
        except sign_in.LoginFailed:
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            session.clear()
            return redirect(url_for("handler.login", password_changed=1))
    for field in (form.current_password, form.new_password, form.new_password_again):
        field.data = ""
    status = 400 if request.method == "POST" else 200
    key = statements.key_status(db.session(), current_settings(), g.staff.user, g.staff.private_key)
    return render_template("handler/account.html", form=form, key=key), status
