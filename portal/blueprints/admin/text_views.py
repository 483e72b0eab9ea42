"""The texts reporters read (privacy notice, other ways to report, the notice
of each track), in Swedish and English; organisation/texts.py keeps them."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from ...organisation import texts
from ...web import db
from ...web.staff_access import ADMIN, level
from . import bp
from .forms import TextsForm


def _refused(form: TextsForm, problems: dict[str, str]) -> None:
    """The domain's own check refused what the form let through."""
    for name, code in problems.items():
        most = texts.EDITABLE[name].max_length
        getattr(form, name).errors = list(getattr(form, name).errors) + [
            _("Too long: at most %(max)d characters.", max=most) if code == texts.TOO_LONG else
            _("Enter a web address that starts with https:// (or http://), such as https://www.av.se/.")]


@bp.route("/texts", methods=["GET", "POST"], endpoint="texts")
@level(ADMIN)
def texts_page():
    form = TextsForm(data=texts.stored_texts(db.session()))
    if form.validate_on_submit():
        try:
            changed = texts.save_texts(db.session(), g.staff.user, form.typed())
        except texts.TextsRefused as refused:
            _refused(form, refused.problems)
        else:
            flash(_("The texts were saved. Reporters see them now.") if changed else
                  _("Nothing was changed."))
            return redirect(url_for("admin.texts"))
    page = render_template("admin/texts.html", form=form,
                           limits={name: editable.max_length for name, editable in texts.EDITABLE.items()},
                           defaults={name: texts.paragraphs(texts.default(name)) for name in texts.EDITABLE})
    return page, 400 if form.errors else 200
