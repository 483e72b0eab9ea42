"""The public removed-obstacles page."""
from flask import render_template
from flask_babel import get_locale

from ...reports import stories
from ...web import db
from . import bp


@bp.get("")
def index():
    return render_template("insights/index.html", stories=stories.published(db.session(), str(get_locale())))
