"""The statistics thresholds: an administrator may raise the smallest count
shown above the operator's floor, never lower it (organisation/thresholds.py)."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from ...organisation import thresholds
from ...web import current_settings, db
from ...web.staff_access import ADMIN, level
from . import bp
from .forms import ThresholdsForm


def _check(field, floor: int) -> None:
    if field.data is not None and not floor <= field.data <= max(thresholds.MAX_K, floor):
        field.errors = list(field.errors) + [
            _("Between %(min)d and %(max)d: the operator's configuration sets the lowest value.",
              min=floor, max=max(thresholds.MAX_K, floor))]


@bp.route("/statistics", methods=["GET", "POST"], endpoint="thresholds")
@level(ADMIN)
def thresholds_page():
    settings = current_settings()
    now = thresholds.current(db.session(), settings)
    form = ThresholdsForm(data={"k": now.k, "k_misconduct": now.k_misconduct})
    if form.validate_on_submit():
        _check(form.k, settings.k_anonymity)
        _check(form.k_misconduct, settings.k_anonymity_misconduct)
        if not form.errors:
            thresholds.save(db.session(), settings, g.staff.user, thresholds.Thresholds(form.k.data,
                                                                                       form.k_misconduct.data))
            flash(_("The thresholds were saved. They apply to quarters published from now on; figures "
                    "already published stay as they were."))
            return redirect(url_for("admin.thresholds"))
    return render_template("admin/thresholds.html", form=form, now=now, settings=settings,
                           most=thresholds.MAX_K), 400 if form.errors else 200
