"""The admin dashboard."""
from __future__ import annotations

from flask import render_template

from ...models.base import today
from ...organisation import attention
from ...trust import statements
from ...web import current_settings, db
from ...web.staff_access import ADMIN, level
from . import bp


@bp.get("/", endpoint="dashboard")
@level(ADMIN)
def dashboard():
    waiting = statements.waiting(db.session(), current_settings())
    return render_template("admin/dashboard.html", waiting=waiting, attention=attention.gather(db.session(), today()))
