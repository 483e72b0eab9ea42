"""Appending to the audit log. Records handler and admin actions only; the
caller must never pass anything that identifies a reporter."""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .domain.audit_chain import GENESIS, AuditFields, event_hash, first_broken_link
from .models import AuditEvent
from .models.base import utcnow

MAX_ATTEMPTS = 5


def record(session: Session, action: str, *, actor_user_id: str | None = None,
           target_type: str | None = None, target_id: str | None = None, **detail) -> AuditEvent:
    """Append one event in its own savepoint; retries when another node took the seq."""
    for _attempt in range(MAX_ATTEMPTS):
        last = session.scalars(
            select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1).with_for_update()
        ).first()
        fields = AuditFields(
            seq=(last.seq + 1) if last else 1,
            at=utcnow(),
            actor_user_id=actor_user_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            detail=json.dumps(detail, sort_keys=True, separators=(",", ":")),
        )
        prev = last.hash if last else GENESIS
        event = AuditEvent(**fields.__dict__, prev_hash=prev, hash=event_hash(prev, fields))
        try:
            with session.begin_nested():
                session.add(event)
            return event
        except IntegrityError:
            continue
    raise RuntimeError("could not append to the audit log")


def verify(session: Session) -> int | None:
    """The seq of the first broken link, or None when the whole chain holds."""
    return first_broken_link(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
