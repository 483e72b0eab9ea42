"""Staff side: sign-in with 2FA, own account, inbox, case work, access
requests and export. Every view declares its access level (web/staff_access.py,
default deny)."""
from flask import Blueprint

from ...web.staff_access import protect

bp = Blueprint("handler", __name__, url_prefix="/handler")
protect(bp)

from . import account_views, case_views, grant_views, inbox_views, sign_in_views, story_views  # noqa: E402,F401  (routes register on import)
