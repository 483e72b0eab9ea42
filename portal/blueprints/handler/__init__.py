"""Staff side: sign-in with 2FA, own account, inbox, case work and export.
Every view declares its access level (access.py, default deny)."""
from flask import Blueprint

from ...web.forms import PlainForm

bp = Blueprint("handler", __name__, url_prefix="/handler")


@bp.context_processor
def staff_forms():
    return {"plain_form": PlainForm(formdata=None)}


from . import access  # noqa: E402

bp.before_request(access.enforce)

from . import account_views, case_views, inbox_views, sign_in_views  # noqa: E402,F401  (routes register on import)
