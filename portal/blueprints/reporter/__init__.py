"""Reporter side: works without JavaScript, stores nothing that identifies."""
from flask import Blueprint

bp = Blueprint("reporter", __name__)

from . import follow_up_views, report_views  # noqa: E402,F401  (routes register on import)
