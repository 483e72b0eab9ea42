"""Who may call which staff route (the handler and admin blueprints). Default
deny: a route of those blueprints without a declared level answers 403 to
everybody, so a new route cannot be reachable by mistake.

Levels: PUBLIC (sign-in pages), FIGURES (the published statistics: public
unless PORTAL_INSIGHTS_PUBLIC=0), STAFF (any signed-in staff member: own
account), LEADERSHIP (trends: viewers, admins, handlers), REVIEW (approving
stories: handlers, admins), HANDLER (case work; also needs the case to be visible, see
reports/access.py), ADMIN (administration; an admin is never a handler by
being one, and sees no case content).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import abort, current_app, g, redirect, request, url_for

from ..models import User
from . import db, sealed_session

PUBLIC = "public"
FIGURES = "figures"  # the published statistics: public, or staff only with PORTAL_INSIGHTS_PUBLIC=0
STAFF = "staff"
LEADERSHIP = "leadership"  # trends: viewers, admins and handlers
HANDLER = "handler"
REVIEW = "review"  # approving stories: handlers and admins
ADMIN = "admin"
LEVELS = (PUBLIC, FIGURES, STAFF, LEADERSHIP, HANDLER, REVIEW, ADMIN)


@dataclass(frozen=True)
class Staff:
    user: User
    private_key: bytes = field(repr=False)
    seconds_left: int


def level(name: str):
    """Declare the access level of a view."""
    if name not in LEVELS:
        raise ValueError(name)

    def mark(view):
        view.access_level = name
        return view
    return mark


def current_staff() -> Staff | None:
    opened = sealed_session.load(db.session(), sealed_session.HANDLER)
    if opened is None:
        return None
    user = db.session().get(User, opened.row.user_id)
    if user is None or not user.active:
        sealed_session.end(db.session(), sealed_session.HANDLER)
        return None
    return Staff(user, opened.secret, opened.seconds_left)


def enforce():
    """before_request of the staff blueprints."""
    view = current_app.view_functions.get(request.endpoint or "")
    required = getattr(view, "access_level", None)
    if required is None:
        abort(403)
    if required == PUBLIC or (required == FIGURES and current_app.config["TILLIT"].insights_public):
        return None
    staff = current_staff()
    if staff is None:
        # The redirect commits the request: an expired session's row is
        # deleted now, not at the next purge.
        target = request.full_path if request.method == "GET" else url_for("handler.inbox")
        return redirect(url_for("handler.login") + "?" + urlencode({"next": target.rstrip("?")}))
    if ((required == HANDLER and not staff.user.is_handler) or (required == ADMIN and not staff.user.is_admin)
            or (required == LEADERSHIP and not staff.user.may_see_trends)
            or (required == REVIEW and not (staff.user.is_handler or staff.user.is_admin))):
        abort(403)
    g.staff = staff
    return None


def home_for(user) -> str:
    """Where a role lands after signing in, and where the staff logo leads."""
    if user.is_handler:
        return url_for("handler.inbox")
    if user.is_admin:
        return url_for("admin.dashboard")
    return url_for("insights.trends") if user.is_viewer else url_for("handler.account")


def page_context() -> dict:
    """What every staff page's layout needs (context processor of the staff
    blueprints): the button form and how many colleagues wait for keys."""
    from ..reports.grants import request_count
    from ..reports.stories import review_count
    from .forms import PlainForm

    staff = g.get("staff")
    user = staff.user if staff is not None else None
    waiting = request_count(db.session(), user) if user is not None and user.is_handler else 0
    reviews = review_count(db.session(), user) if user is not None and (user.is_handler or user.is_admin) else 0
    return {"plain_form": PlainForm(formdata=None), "access_requests": waiting, "story_reviews": reviews,
            "staff_home": home_for(user) if user is not None else url_for("handler.login")}


def protect(blueprint) -> None:
    """Default deny and the staff layout's context for `blueprint`."""
    blueprint.before_request(enforce)
    blueprint.context_processor(page_context)
