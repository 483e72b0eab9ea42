"""Status changes of a case: checked by the domain rules, put on the
reporter's timeline and in the audit log."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..domain import cases
from ..domain.taxonomy import STATUS_ACKNOWLEDGED, STATUS_CLOSED, STATUS_IN_PROGRESS
from ..models import Report, StatusEvent, new_id
from ..models.base import today
from . import chains


def transition(session: Session, report: Report, dek: bytes, target: str, *, outcome: str | None = None,
               actor_user_id: str | None = None, on: dt.date | None = None) -> StatusEvent:
    """Change the status; the event is linked into the timeline chain under the report's key."""
    chains.hold(session, report)  # two handlers at once: the second sees the first's status
    cases.check_transition(report.status, target, outcome, report.track)
    on = on or today()
    if target == STATUS_ACKNOWLEDGED:
        report.acknowledged_on = on
        report.feedback_due = cases.feedback_due(on)
    elif target == STATUS_CLOSED:
        report.closed_on = on
        report.outcome = outcome
    elif target == STATUS_IN_PROGRESS and report.status == STATUS_CLOSED:
        report.closed_on = None
        report.outcome = None
    report.status = target
    previous = session.scalar(select(StatusEvent).where(StatusEvent.report_id == report.id)
                              .order_by(StatusEvent.seq.desc()).limit(1))
    event = StatusEvent(id=new_id(), report_id=report.id, seq=(previous.seq if previous else 0) + 1, status=target,
                        outcome=outcome, occurred_on=on, actor_user_id=actor_user_id)
    chains.extend(report, dek, chains.TIMELINE, event, previous)
    session.add(event)
    # The day goes into the log too: the purge trusts a closing date only
    # when the log's MAC vouches for it (reports/retention.py).
    audit.record(session, f"case.{target}", actor_user_id=actor_user_id, target_type="report",
                 target_id=report.id, outcome=outcome, on=on.isoformat())
    session.flush()
    return event
