from flask import render_template
from flask_babel import get_locale
from sqlalchemy import select

from portal import db
from portal.models import PublishedSummary
from portal.models.stats import SUMMARY_APPROVED

from . import bp


@bp.get("")
def index():
    language = str(get_locale())
    stories = db.session().scalars(
        select(PublishedSummary)
        .where(PublishedSummary.status == SUMMARY_APPROVED, PublishedSummary.language == language)
        .order_by(PublishedSummary.published_on.desc())
        .limit(50)
    ).all()
    return render_template("insights/index.html", stories=stories)
