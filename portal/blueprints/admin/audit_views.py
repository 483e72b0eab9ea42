"""The audit log: a filter (action or group, person, UTC dates), a page of
events, and the same events as CSV in the admin's language."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass

from flask import Response, render_template, request, stream_with_context
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from ...organisation import audit_view
from ...organisation.audit_view import Change, Named
from ...web import db, labels
from ...web.staff_access import ADMIN, level
from . import bp

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A spreadsheet runs a cell that starts so as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (_l("Time (UTC)"), _l("Action"), _l("Action code"), _l("Done by"), _l("Username"),
               _l("Target type"), _l("Target"), _l("Details"))
CSV_CHUNK = 64 * 1024
# Detail values that are codes of a vocabulary (categories are looked up in both tracks).
CODE_LABELS = {"track": labels.TRACKS, "outcome": labels.OUTCOMES, "chain_level": labels.CHAIN_LEVELS,
               "roles": labels.ROLES, "before": labels.ROLES, "after": labels.ROLES, **labels.AUDIT_DETAIL_VALUES}


def _date(text: str | None) -> dt.date | None:
    """A date typed as YYYY-MM-DD (only that: fromisoformat takes week dates too)."""
    text = (text or "").strip()
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _a_date(_form, field) -> None:
    if (field.data or "").strip() and _date(field.data) is None:
        raise ValidationError(_("Enter a date as year-month-day, for example 2026-03-31."))


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET that only reads

    action = SelectField(_l("Action"), default="", invalid_choice_message=_l("Choose an action from the list."))
    person = SelectField(_l("Done by"), default="", invalid_choice_message=_l("Choose a person from the list."))
    date_from = StringField(_l("From date"), validators=[_a_date])
    date_to = StringField(_l("To date"), validators=[_a_date])

    def validate_date_to(self, field) -> None:
        since, until = _date(self.date_from.data), _date(field.data)
        if since and until and until < since:
            raise ValidationError(_("The to date must be the same as or later than the from date."))


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
                                  since=_date(form.date_from.data), until=_date(form.date_to.data))


def _query_args(form: AuditFilterForm) -> dict[str, str]:
    """The filter as query arguments, for the paging and CSV links."""
    return {f.name: f.data.strip() for f in form if (f.data or "").strip()}


# --- how an event reads -------------------------------------------------------------

def action_name(code: str) -> str:
    label = labels.AUDIT_ACTIONS.get(code)
    return str(label) if label is not None else code


def _kind(kind: str) -> str:
    label = labels.AUDIT_TARGETS.get(kind)
    return str(label) if label is not None else kind


def _named(named: Named) -> str:
    if named.name is not None:
        return f"{named.name} ({named.username})" if named.username else named.name
    return f"{named.short_id}…" if named.short_id else "–"


def _code(key: str, value: str) -> str:
    if key == "category":
        found = next((track[value] for track in labels.CATEGORIES.values() if value in track), value)
    else:
        found = CODE_LABELS.get(key, {}).get(value, value)
    return str(found)


def _value(key: str, value) -> str:
    if isinstance(value, Change):
        return f"{_value(key, value.before)} → {_value(key, value.after)}"
    if isinstance(value, Named):
        return _named(value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None:
        return "–"
    if isinstance(value, list):
        return ", ".join(_value(key, item) for item in value) or _("none")
    if isinstance(value, str):
        return _code(key, value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _details(entry: audit_view.Entry) -> list[str]:
    lines = []
    for key, value in entry.details:
        if value is None:  # e.g. the outcome of a step that is not closing
            continue
        label = labels.AUDIT_DETAILS.get(key)
        lines.append(f"{label if label is not None else key.replace('_', ' ')}: {_value(key, value)}")
    return lines


@dataclass(frozen=True)
class Row:
    time: str
    iso: str
    action: str
    code: str
    actor: str
    username: str
    target_kind: str
    target: str
    details: list[str]


def _row(entry: audit_view.Entry) -> Row:
    actor, target = entry.actor, entry.target
    return Row(time=entry.at.strftime("%Y-%m-%d %H:%M:%S"), iso=entry.at.isoformat(timespec="seconds") + "Z",
               action=action_name(entry.action), code=entry.action,
               actor=(actor.name or _named(actor)) if actor else _("No signed-in person"),
               username=(actor.username or "") if actor else "",
               target_kind=_kind(target.kind) if target else "", target=_named(target) if target else "",
               details=_details(entry))


# --- the views ----------------------------------------------------------------------

def _page(form, page=None):
    rows = [_row(entry) for entry in page.entries] if page else []
    return render_template("admin/audit.html", form=form, page=page, rows=rows, query=_query_args(form))


@bp.get("/audit", endpoint="audit")
@level(ADMIN)
def audit():
    form = _filter_form()
    if not form.validate():
        return _page(form), 400
    number = request.args.get("page", 1, type=int)
    return _page(form, audit_view.audit_page(db.session(), _audit_filter(form), number))


def defused(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _csv(session, entries):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")  # a byte order mark: spreadsheet programs then read å, ä, ö right
    writer.writerow([defused(str(column)) for column in CSV_COLUMNS])
    try:
        for entry in entries:
            row = _row(entry)
            writer.writerow([defused(cell) for cell in (row.time, row.action, row.code, row.actor, row.username,
                                                        row.target_kind, row.target, "; ".join(row.details))])
            if out.tell() >= CSV_CHUNK:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()
    finally:
        # Streamed after the request's session was closed: reading reopened it.
        session.close()


@bp.get("/audit.csv", endpoint="audit_csv")
@level(ADMIN)
def audit_csv():
    form = _filter_form()
    if not form.validate():
        return _page(form), 400
    session = db.session()
    body = stream_with_context(_csv(session, audit_view.every_entry(session, _audit_filter(form))))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="tillit-audit-log.csv"',
        "X-Content-Type-Options": "nosniff",
    })
