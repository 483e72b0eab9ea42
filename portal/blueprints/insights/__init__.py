"""Public removed-obstacles page, leadership trends and open data."""
from flask import Blueprint

from ...web.staff_access import protect

bp = Blueprint("insights", __name__, url_prefix="/insights")
protect(bp)

from . import views  # noqa: E402,F401
