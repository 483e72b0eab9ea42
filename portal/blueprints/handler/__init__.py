"""Staff side: sign-in with 2FA, own account, inbox, case work and export.
Every view declares its access level (access.py, default deny)."""
from flask import Blueprint, g

from ...reports.grants import request_count
from ...web import db
from ...web.forms import PlainForm

bp = Blueprint("handler", __name__, url_prefix="/handler")


@bp.context_processor
def staff_page_context():
    staff = g.get("staff")
    waiting = request_count(db.session(), staff.user) if staff is not None and staff.user.is_handler else 0
    return {"plain_form": PlainForm(formdata=None), "access_requests": waiting}


from . import access  # noqa: E402

bp.before_request(access.enforce)

from . import account_views, case_views, grant_views, inbox_views, sign_in_views  # noqa: E402,F401  (routes register on import)
