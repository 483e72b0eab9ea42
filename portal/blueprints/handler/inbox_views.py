"""The handler's inbox."""
from __future__ import annotations

from flask import g, render_template, request

from ...models.base import today
from ...reports import inbox
from ...web import db
from . import bp
from ...web.staff_access import HANDLER, level


@bp.get("/", endpoint="inbox")
@level(HANDLER)
def inbox_index():
    filters = inbox.InboxFilter.parse(request.args)
    page = inbox.inbox_page(db.session(), g.staff.user, filters, today())
    return render_template("handler/inbox.html", page=page, filters=filters)
