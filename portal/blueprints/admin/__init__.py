"""Admin side: channels, users, routing rules, settings, audit log."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
