"""Units: the list reporters may choose one from (optional, coarse). A unit
is renamed or retired, never deleted: its cases keep it, and the statistics
count them under it. The page shows no count per unit: how many reports a
small unit sent is what the statistics hide below k."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ...models import Unit
from ...organisation import setup
from ...web import db
from ...web.forms import PlainForm
from ...web.staff_access import ADMIN, level
from . import bp, refusals
from .forms import UnitForm


def _unit(unit_id: str) -> Unit:
    unit = db.session().get(Unit, unit_id)
    if unit is None:
        abort(404)
    return unit


def _page(new_form: UnitForm, renaming: tuple[str, UnitForm] | None = None, status: int = 200):
    units = list(db.session().scalars(select(Unit).order_by(Unit.active.desc(), Unit.name)))
    return render_template("admin/units.html", units=units, new_form=new_form, renaming=renaming), status


@bp.get("/units", endpoint="units")
@level(ADMIN)
def units():
    return _page(UnitForm(formdata=None))


@bp.post("/units", endpoint="add_unit")
@level(ADMIN)
def add_unit():
    form = UnitForm()
    if form.validate():
        try:
            unit = setup.add_unit(db.session(), g.staff.user, form.name.data)
        except setup.SetupRefused as refusal:
            form.name.errors = [refusals.message(refusal.code)]
        else:
            flash(_("The unit %(name)s was added.", name=unit.name))
            return redirect(url_for("admin.units"))
    return _page(form, status=400)


@bp.post("/units/<unit_id>/rename", endpoint="rename_unit")
@level(ADMIN)
def rename_unit(unit_id):
    unit = _unit(unit_id)
    form = UnitForm()
    if form.validate():
        try:
            setup.rename_unit(db.session(), g.staff.user, unit, form.name.data)
        except setup.SetupRefused as refusal:
            form.name.errors = [refusals.message(refusal.code)]
        else:
            flash(_("The unit was renamed %(name)s.", name=unit.name))
            return redirect(url_for("admin.units"))
    return _page(UnitForm(formdata=None), (unit.id, form), 400)


def _set_active(unit_id: str, active: bool):
    unit = _unit(unit_id)
    if not PlainForm().validate():
        abort(400)
    setup.set_unit_active(db.session(), g.staff.user, unit, active)
    flash(_("%(name)s can be chosen again.", name=unit.name) if active else
          _("%(name)s can no longer be chosen. Its cases keep it, and the statistics still count them.",
            name=unit.name))
    return redirect(url_for("admin.units"))


@bp.post("/units/<unit_id>/retire", endpoint="retire_unit")
@level(ADMIN)
def retire_unit(unit_id):
    return _set_active(unit_id, False)


@bp.post("/units/<unit_id>/restore", endpoint="restore_unit")
@level(ADMIN)
def restore_unit(unit_id):
    return _set_active(unit_id, True)
