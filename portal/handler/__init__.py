"""Handler side: login with 2FA, inbox, case work (routes arrive with issue 5)."""
from flask import Blueprint

bp = Blueprint("handler", __name__, url_prefix="/handler")
