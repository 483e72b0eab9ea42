"""People: the staff accounts, and switching one off after the admin has
seen what it costs (cases only that person could open)."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from ...models import Membership, ReportKey, User
from ...staff import administration
from ...staff.accounts import DisplayNameRefused, UsernameTaken, create_user, initial_password
from ...web import current_settings, db
from ...web.forms import PlainForm
from ...web.staff_access import ADMIN, level
from . import bp, refusals
from .forms import PersonForm, RolesForm


def _person(user_id: str) -> User:
    user = db.session().get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/people", endpoint="people")
@level(ADMIN)
def people():
    users = list(db.session().scalars(select(User).order_by(User.active.desc(), User.display_name, User.id)))
    channels = dict(db.session().execute(select(Membership.user_id, func.count()).group_by(Membership.user_id)).all())
    kept = dict(db.session().execute(select(ReportKey.user_id, func.count()).join(User, User.id == ReportKey.user_id)
                                     .where(~User.active).group_by(ReportKey.user_id)).all())
    return render_template("admin/people.html", users=users, channel_counts=channels, kept_keys=kept)


@bp.get("/people/<user_id>/deactivate", endpoint="confirm_deactivate")
@level(ADMIN)
def confirm_deactivate(user_id):
    user = _person(user_id)
    return render_template("admin/deactivate.html", person=user,
                           sole=administration.sole_holder_cases(db.session(), user))


@bp.post("/people/<user_id>/deactivate", endpoint="deactivate")
@level(ADMIN)
def deactivate(user_id):
    user = _person(user_id)
    if not PlainForm().validate():
        abort(400)
    if not user.active:
        return redirect(url_for("admin.people"))
    try:
        administration.deactivate(db.session(), g.staff.user, user)
    except administration.LastAdmin:  # raised before anything changed
        return render_template("admin/deactivate.html", person=user, last_admin=True,
                               sole=administration.sole_holder_cases(db.session(), user)), 409
    return redirect(url_for("admin.people", deactivated=user.id))


@bp.post("/people/<user_id>/reactivate", endpoint="reactivate")
@level(ADMIN)
def reactivate(user_id):
    user = _person(user_id)
    if not PlainForm().validate():
        abort(400)
    if not user.active:
        try:
            administration.reactivate(db.session(), g.staff.user, user)
        except DisplayNameRefused as refusal:
            flash(refusals.message(refusal.code))
        else:
            flash(_("%(name)s can sign in again.", name=user.display_name))
    return redirect(url_for("admin.people"))


@bp.route("/people/new", methods=["GET", "POST"], endpoint="new_person")
@level(ADMIN)
def new_person():
    form = PersonForm()
    if form.validate_on_submit():
        password = initial_password()
        try:
            created = create_user(db.session(), current_settings(), username=form.username.data,
                                  display_name=form.display_name.data, password=password,
                                  roles=set(form.roles.data), email=form.email.data or None,
                                  language=form.language.data, actor_user_id=g.staff.user.id)
        except UsernameTaken:
            form.username.errors.append(_("That username is taken. Choose another."))
        except DisplayNameRefused as refusal:
            form.display_name.errors.append(refusals.message(refusal.code))
        else:
            # Shown on this response only (no-store, like every page): the
            # person replaces it at the first sign-in, which also makes the
            # key pair of their own that cases are shared with.
            return render_template("admin/person_created.html", person=created.user, password=password)
    status = 400 if form.errors else 200
    return render_template("admin/person_new.html", form=form), status


def _roles_page(user: User, form: RolesForm, status: int = 200, last_admin: bool = False):
    sole = administration.sole_holder_cases(db.session(), user) if user.is_handler else None
    return render_template("admin/roles.html", person=user, form=form, sole=sole, last_admin=last_admin), status


@bp.get("/people/<user_id>/roles", endpoint="roles")
@level(ADMIN)
def roles(user_id):
    user = _person(user_id)
    return _roles_page(user, RolesForm(data={"roles": sorted(user.roles)}))


@bp.post("/people/<user_id>/roles", endpoint="update_roles")
@level(ADMIN)
def update_roles(user_id):
    user = _person(user_id)
    if not user.active:
        abort(404)
    form = RolesForm()
    if not form.validate():
        return _roles_page(user, form, 400)
    try:
        administration.set_roles(db.session(), g.staff.user, user, set(form.roles.data))
    except administration.LastAdmin:
        return _roles_page(user, form, 409, last_admin=True)
    flash(_("The roles of %(name)s were saved.", name=user.display_name))
    return redirect(url_for("admin.people"))
