"""Access requests: colleagues who wait for the keys of cases this handler
holds. Approving re-wraps them; refusing leaves them waiting for others."""
from __future__ import annotations

from flask import abort, g, redirect, render_template, url_for

from ...models import User
from ...reports import grants
from ...web import current_settings, db
from ...web.forms import PlainForm
from . import bp
from ...web.staff_access import HANDLER, level


@bp.get("/access-requests")
@level(HANDLER)
def access_requests():
    requests = grants.requests_for(db.session(), current_settings(), g.staff.user)
    return render_template("handler/access_requests.html", requests=requests)


def _target(user_id: str) -> User:
    target = db.session().get(User, user_id)
    if target is None or not PlainForm().validate():
        abort(400)
    return target


@bp.post("/access-requests/<user_id>/approve")
@level(HANDLER)
def approve_access(user_id):
    granted = grants.approve(db.session(), current_settings(), g.staff.user, g.staff.private_key, _target(user_id))
    return redirect(url_for("handler.access_requests", granted=granted))


@bp.post("/access-requests/<user_id>/refuse")
@level(HANDLER)
def refuse_access(user_id):
    grants.refuse(db.session(), g.staff.user, _target(user_id))
    return redirect(url_for("handler.access_requests"))
