"""How an audit event reads, on the admin's page and in the CSV export: in
the admin's language, with names for ids and labels for codes. Reads
nothing of a case: organisation/audit_view.py gives only its short id."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask_babel import gettext as _, lazy_gettext as _l

from ...organisation import audit_view
from ...organisation.audit_view import Change, Named
from ...web import labels

# A spreadsheet runs a cell that starts so as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (_l("Time (UTC)"), _l("Action"), _l("Action code"), _l("Done by"), _l("Username"),
               _l("Target type"), _l("Target"), _l("Details"))
CSV_CHUNK = 64 * 1024
# Detail values that are codes of a vocabulary (categories are looked up in both tracks).
CODE_LABELS = {"track": labels.TRACKS, "outcome": labels.OUTCOMES, "chain_level": labels.CHAIN_LEVELS,
               "roles": labels.ROLES, "before": labels.ROLES, "after": labels.ROLES, **labels.AUDIT_DETAIL_VALUES}


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
    if isinstance(value, dict):  # texts: {setting: [before, after]}, "" for the default
        def text(part) -> str:
            return part if part else _("the default")
        return "; ".join(f"{name}: {text(inner[0])} → {text(inner[1])}" if isinstance(inner, list) and len(inner) == 2
                         else f"{name}: {_value(name, inner)}" for name, inner in sorted(value.items()))
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


def row_of(entry: audit_view.Entry) -> Row:
    actor, target = entry.actor, entry.target
    return Row(time=entry.at.strftime("%Y-%m-%d %H:%M:%S"), iso=entry.at.isoformat(timespec="seconds") + "Z",
               action=action_name(entry.action), code=entry.action,
               actor=(actor.name or _named(actor)) if actor else _("No signed-in person"),
               username=(actor.username or "") if actor else "",
               target_kind=_kind(target.kind) if target else "", target=_named(target) if target else "",
               details=_details(entry))


def defused(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_chunks(session, entries):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")  # a byte order mark: spreadsheet programs then read å, ä, ö right
    writer.writerow([defused(str(column)) for column in CSV_COLUMNS])
    try:
        for entry in entries:
            row = row_of(entry)
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
