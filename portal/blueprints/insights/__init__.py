"""Public removed-obstacles page, leadership trends and open data."""
from flask import Blueprint

bp = Blueprint("insights", __name__, url_prefix="/insights")

from . import views  # noqa: E402,F401
