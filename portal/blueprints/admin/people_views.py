"""People: the staff accounts, and switching one off after the admin has
seen what it costs (cases only that person could open)."""
from __future__ import annotations

from flask import abort, g, redirect, render_template, url_for
from sqlalchemy import select

from ...models import Membership, User
from ...staff import administration
from ...web import db
from ...web.forms import PlainForm
from ...web.staff_access import ADMIN, level
from . import bp


def _person(user_id: str) -> User:
    user = db.session().get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/people", endpoint="people")
@level(ADMIN)
def people():
    users = list(db.session().scalars(select(User).order_by(User.active.desc(), User.display_name, User.id)))
    channels = {}
    for channel_id, user_id in db.session().execute(select(Membership.channel_id, Membership.user_id)):
        channels.setdefault(user_id, []).append(channel_id)
    return render_template("admin/people.html", users=users, memberships=channels)


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
    sole = administration.sole_holder_cases(db.session(), user)
    try:
        administration.deactivate(db.session(), g.staff.user, user)
    except administration.LastAdmin:
        return render_template("admin/deactivate.html", person=user, sole=sole, last_admin=True), 409
    return redirect(url_for("admin.people", deactivated=user.id))
