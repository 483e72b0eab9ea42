from flask import render_template

from portal.domain.cases import ACKNOWLEDGE_WITHIN_DAYS, FEEDBACK_WITHIN_MONTHS

from . import bp


@bp.get("/")
def landing():
    return render_template(
        "reporter/landing.html",
        acknowledge_days=ACKNOWLEDGE_WITHIN_DAYS,
        feedback_months=FEEDBACK_WITHIN_MONTHS,
    )
