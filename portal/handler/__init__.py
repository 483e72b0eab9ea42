"""Handler side: sign-in with 2FA, inbox, case work, export."""
from flask import Blueprint

bp = Blueprint("handler", __name__, url_prefix="/handler")

from . import views  # noqa: E402,F401  (routes register on import)
