"""The audit log as the administration reads it: a filtered page of events,
newest first, or every matching event in batches for an export, with the
people, channels and units they name looked up by name. Nothing of a case
is ever looked up: a report or a story is shown by its kind and a shortened
id only."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AuditEvent, Channel, Unit, User

PAGE_SIZE = 50
EXPORT_BATCH = 500
SHORT_ID = 8  # enough to tell events apart, too short to quote as an address
MAX_PAGE = 100_000  # an offset beyond every real log, below every database's integer limit

# Detail keys that hold the id of a person or a channel, shown by name.
REFERENCES = {"user_id": "user", "requested_by": "user", "channel_id": "channel"}
# Detail keys that hold an id from inside a case: shortened, never looked up.
CASE_IDS = {"attachment_id"}
# Detail keys recorded as [before, after].
CHANGES = {"retention_months", "k", "k_misconduct", "name", "name_en", "description", "description_en"}


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None  # one action ("case.view") or a group, ending with a dot ("case.")
    actor_user_id: str | None = None
    since: dt.date | None = None  # inclusive, UTC
    until: dt.date | None = None  # inclusive, UTC


@dataclass(frozen=True)
class Named:
    """Something an event names: a person, channel or unit by its name when
    it still exists, anything else (and what is gone) by a shortened id."""

    kind: str
    short_id: str
    name: str | None = None
    username: str | None = None


@dataclass(frozen=True)
class Change:
    before: object
    after: object


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    action: str
    actor: Named | None  # None: no signed-in person (the portal itself, a command, an unknown username)
    target: Named | None
    details: tuple[tuple[str, object], ...]  # values as recorded, or Named / Change


@dataclass(frozen=True)
class AuditPage:
    entries: list[Entry]
    number: int
    has_next: bool


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min)


def _query(f: AuditFilter):
    query = select(AuditEvent)
    if f.action and f.action.endswith("."):
        query = query.where(AuditEvent.action.startswith(f.action, autoescape=True))
    elif f.action:
        query = query.where(AuditEvent.action == f.action)
    if f.actor_user_id:
        query = query.where(AuditEvent.actor_user_id == f.actor_user_id)
    if f.since:
        query = query.where(AuditEvent.at >= _start(f.since))
    if f.until and f.until < dt.date.max:  # the last day has no day after it
        query = query.where(AuditEvent.at < _start(f.until + dt.timedelta(days=1)))
    # Lane and seq break ties: the order is total, so pages never overlap.
    return query.order_by(AuditEvent.at.desc(), AuditEvent.lane.desc(), AuditEvent.seq.desc())


def audit_page(db: Session, f: AuditFilter, number: int = 1) -> AuditPage:
    number = min(max(number, 1), MAX_PAGE)
    events = list(db.scalars(_query(f).offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    return AuditPage(_entries(db, events[:PAGE_SIZE]), number, len(events) > PAGE_SIZE)


def every_entry(db: Session, f: AuditFilter) -> Iterator[Entry]:
    """All matching events, newest first, read and resolved a batch at a time."""
    result = db.execute(_query(f).execution_options(yield_per=EXPORT_BATCH))
    for batch in result.scalars().partitions():
        yield from _entries(db, batch)


def people(db: Session) -> list[tuple[str, str, str]]:
    """(id, display name, username) of every account, deactivated ones too:
    their events stay in the log."""
    return [tuple(row) for row in db.execute(
        select(User.id, User.display_name, User.username).order_by(User.display_name, User.username))]


def _short(value: str | None) -> str:
    return (value or "")[:SHORT_ID]


def _details(event: AuditEvent) -> dict:
    try:
        found = json.loads(event.detail or "{}")
    except ValueError:
        found = None
    # Written by audit.record as an object; anything else is shown as stored.
    return found if isinstance(found, dict) else {"detail": event.detail}


def _names(db: Session, wanted: dict[str, set[str]]) -> dict[tuple[str, str], tuple[str, str | None]]:
    """One query per kind: (kind, id) -> (name, username)."""
    found = {}
    if wanted["user"]:
        for user_id, name, username in db.execute(
                select(User.id, User.display_name, User.username).where(User.id.in_(wanted["user"]))):
            found[("user", user_id)] = (name, username)
    for kind, model in (("channel", Channel), ("unit", Unit)):
        if wanted[kind]:
            for row_id, name in db.execute(select(model.id, model.name).where(model.id.in_(wanted[kind]))):
                found[(kind, row_id)] = (name, None)
    return found


def _named(kind: str, row_id: str, names) -> Named:
    name, username = names.get((kind, row_id), (None, None))
    return Named(kind, _short(row_id), name, username)


def _entries(db: Session, events: Iterable[AuditEvent]) -> list[Entry]:
    events = list(events)
    parsed = [_details(event) for event in events]
    wanted = {"user": set(), "channel": set(), "unit": set()}
    for event, details in zip(events, parsed):
        if event.actor_user_id:
            wanted["user"].add(event.actor_user_id)
        if event.target_type in wanted and event.target_id:
            wanted[event.target_type].add(event.target_id)
        for key, kind in REFERENCES.items():
            if isinstance(details.get(key), str):
                wanted[kind].add(details[key])
    names = _names(db, wanted)
    entries = []
    for event, details in zip(events, parsed):
        actor = _named("user", event.actor_user_id, names) if event.actor_user_id else None
        target = None
        if event.target_type:
            target = _named(event.target_type, event.target_id, names) if event.target_type in wanted \
                else Named(event.target_type, _short(event.target_id))
        entries.append(Entry(event.at, event.action, actor, target,
                             tuple((key, _value(key, value, names)) for key, value in sorted(details.items()))))
    return entries


def _value(key: str, value, names):
    if key in REFERENCES and isinstance(value, str):
        return _named(REFERENCES[key], value, names)
    if key in CASE_IDS and isinstance(value, str):
        return _short(value)
    if key in CHANGES and isinstance(value, list) and len(value) == 2:
        return Change(*value)
    return value
