"""Routes that belong to no audience: health check and language switch."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, request, session, url_for
from sqlalchemy.exc import SQLAlchemyError

from ..web import db
from ..web.forms import LanguageForm
from ..web.redirects import is_safe_local_path

bp = Blueprint("site", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.database().ping()
    except SQLAlchemyError:
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")


@bp.post("/language")
def set_language():
    form = LanguageForm()
    chosen = request.form.get("lang", "")
    if form.validate_on_submit() and chosen in current_app.config["LANGUAGES"]:
        session["lang"] = chosen
    target = form.next.data
    return redirect(target if is_safe_local_path(target) else url_for("reporter.landing"))
