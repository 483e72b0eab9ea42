"""Admin side: for now the dashboard of what needs the organisation's
attention; channels, people, routing and settings come with the admin area.
An admin sees no case content."""
from flask import Blueprint

from ...web.staff_access import protect

bp = Blueprint("admin", __name__, url_prefix="/admin")
protect(bp)

from . import views  # noqa: E402,F401  (routes register on import)
