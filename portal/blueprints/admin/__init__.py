"""Admin side: the dashboard of what needs the organisation's attention and
the staff accounts, channels and their members, units, routing rules, and the
statistics thresholds. An admin
sees no case content."""
from flask import Blueprint

from ...web.staff_access import protect

bp = Blueprint("admin", __name__, url_prefix="/admin")
protect(bp)

from . import (  # noqa: E402,F401  (routes register on import)
    channel_views,
    people_views,
    routing_views,
    settings_views,
    unit_views,
    views,
)
