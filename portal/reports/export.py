"""A case as a record for registration (diarieföring): one data structure
that the printable page and the JSON download both render, audited here."""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy.orm import Session

from config import Settings

from .. import audit
from ..models import User
from .access import OpenCase
from .reading import HandlerCase, handler_case

FORMAT_VERSION = 1


def record(case: HandlerCase, *, secrecy_mark: str, exported_by: User, exported_on: dt.date) -> dict:
    report = case.report
    return {
        "format": "tillit-case-export",
        "version": FORMAT_VERSION,
        "secrecy_mark": secrecy_mark or None,
        "exported_on": exported_on.isoformat(),
        "exported_by": exported_by.display_name,
        "case": {
            "id": report.id,
            "reference": report.reference,
            "track": report.track,
            "category": report.category,
            "chain_level": report.chain_level,
            "principle": report.principle,
            "status": report.status,
            "outcome": report.outcome,
            "received_on": _day(report.received_on),
            "acknowledged_on": _day(report.acknowledged_on),
            "feedback_on": _day(report.feedback_on),
            "closed_on": _day(report.closed_on),
            "acknowledge_due": _day(report.acknowledge_due),
            "feedback_due": _day(report.feedback_due),
            "hours_saved_per_year": report.hours_saved_per_year,
        },
        "answers": [{"field": code, "text": text} for code, text in case.answers],
        "files": [f["filename"] for f in case.report_files],
        "timeline": [{"status": e.status, "outcome": e.outcome, "on": _day(e.occurred_on)} for e in case.events],
        "dialogue": [{"seq": i, "from": "handler" if m.from_handler else "reporter", "kind": m.kind,
                      "on": _day(m.sent_on), "text": m.body, "files": [f["filename"] for f in m.files],
                      "verified": m.verified}
                     for i, m in enumerate(case.messages, start=1)],
        "notes": [{"by": case.authors.get(n["author_user_id"], ""), "text": n["body"]} for n in case.notes],
    }


def _day(value) -> str | None:
    return value.isoformat() if value else None


def to_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def export_case(db: Session, settings: Settings, user: User, case: OpenCase, *, fmt: str, secrecy_mark: str,
                exported_on: dt.date) -> tuple[HandlerCase, dict]:
    """The case read (and its reading audited) and its record; the export is audited too."""
    read = handler_case(db, settings, user, case)
    data = record(read, secrecy_mark=secrecy_mark, exported_by=user, exported_on=exported_on)
    audit.record(db, "case.export", actor_user_id=user.id, target_type="report", target_id=case.report.id,
                 format=fmt, secrecy_mark=bool(secrecy_mark))
    return read, data
