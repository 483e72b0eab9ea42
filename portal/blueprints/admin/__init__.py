"""Admin side: the dashboard of what needs the organisation's attention and
the staff accounts, channels and their members, units, routing rules, the
texts reporters see, the statistics thresholds and the audit log. An admin
sees no case content."""
from flask import Blueprint

from ...web.staff_access import protect

bp = Blueprint("admin", __name__, url_prefix="/admin")
protect(bp)

from . import (  # noqa: E402,F401  (routes register on import)
    audit_views,
    channel_views,
    people_views,
    routing_views,
    settings_views,
    text_views,
    unit_views,
    views,
)
