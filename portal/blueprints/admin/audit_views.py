"""The audit log: a filter (action or group, person, UTC dates), a page of
events, and the same events as CSV in the admin's language."""
from __future__ import annotations

from flask import Response, render_template, request, stream_with_context
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ...organisation import audit_view
from ...web import db, labels
from ...web.staff_access import ADMIN, level
from . import bp
from .audit_rows import csv_chunks, row_of
from .forms import AuditFilterForm, iso_date


def _action_choices() -> list[SelectChoice]:
    choices = [SelectChoice("", _("All actions"))]
    for group, group_label in labels.AUDIT_ACTION_GROUPS.items():
        heading = str(group_label)
        choices.append(SelectChoice(f"{group}.", _("All in “%(group)s”", group=heading), optgroup=heading))
        choices += [SelectChoice(code, str(label), optgroup=heading)
                    for code, label in labels.AUDIT_ACTIONS.items() if code.startswith(f"{group}.")]
    return choices


def _filter_form() -> AuditFilterForm:
    form = AuditFilterForm(formdata=request.args)
    form.action.choices = _action_choices()
    form.person.choices = [SelectChoice("", _("Everyone"))] + [
        SelectChoice(user_id, f"{name} ({username})") for user_id, name, username in audit_view.people(db.session())]
    return form


def _audit_filter(form: AuditFilterForm) -> audit_view.AuditFilter:
    return audit_view.AuditFilter(action=form.action.data or None, actor_user_id=form.person.data or None,
                                  since=iso_date(form.date_from.data), until=iso_date(form.date_to.data))


def _query_args(form: AuditFilterForm) -> dict[str, str]:
    """The filter as query arguments, for the paging and CSV links."""
    return {f.name: f.data.strip() for f in form if (f.data or "").strip()}


def _page(form, page=None):
    rows = [row_of(entry) for entry in page.entries] if page else []
    return render_template("admin/audit.html", form=form, page=page, rows=rows, query=_query_args(form))


@bp.get("/audit", endpoint="audit")
@level(ADMIN)
def audit():
    form = _filter_form()
    if not form.validate():
        return _page(form), 400
    number = request.args.get("page", 1, type=int)
    return _page(form, audit_view.audit_page(db.session(), _audit_filter(form), number))


@bp.get("/audit.csv", endpoint="audit_csv")
@level(ADMIN)
def audit_csv():
    form = _filter_form()
    if not form.validate():
        return _page(form), 400
    session = db.session()
    body = stream_with_context(csv_chunks(session, audit_view.every_entry(session, _audit_filter(form))))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="tillit-audit-log.csv"',
        "X-Content-Type-Options": "nosniff",
    })
