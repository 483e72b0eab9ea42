"""Admin side: the dashboard of what needs the organisation's attention and
the staff accounts; channels, routing and settings follow. An admin sees no
case content."""
from flask import Blueprint

from ...web.staff_access import protect

bp = Blueprint("admin", __name__, url_prefix="/admin")
protect(bp)

from . import people_views, views  # noqa: E402,F401  (routes register on import)
