"""How many cases each channel holds, per track and status, and how many of
them exclude each handler, kept as cases arrive, change status and are
purged, so that the inbox can say how many cases a handler has without
counting them (a count over 10^5 or 10^6 index entries per page view,
docs/benchmarks.md "Inbox"). Beside it, each grant says whether its case
is open, for the inbox's "waiting for access" count.

Every change of a report's channel, track or status, and every new
exclusion, through the ORM is counted at flush time, here and nowhere else;
a bulk UPDATE or DELETE (the purge) calls `adjust` itself. Each count is
spread over SHARDS rows, one picked at random per change, so concurrent
submissions to one channel do not queue for one row; a count is the sum of
its rows. `recount` rebuilds the table from the reports (the migration, the
purge job, benchmarks that insert rows directly): a count a database writer
changed comes right again.
"""
from __future__ import annotations

import secrets
from collections import Counter

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    and_,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..domain.taxonomy import STATUS_CLOSED, STATUS_NEW
from .base import ID_LENGTH, Base
from .report import Exclusion, KeyGrant, Report

SHARDS = 8
EVERY_CASE = ""  # excluded_user_id of the count of all cases
Key = tuple[str, str, str, str]  # channel id, track, status, excluded user id (or EVERY_CASE)


class CaseCount(Base):
    __tablename__ = "case_counts"

    channel_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("channels.id", ondelete="CASCADE"),
                                            primary_key=True)
    track: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    # EVERY_CASE, or a handler: the cases of the key that exclude them.
    excluded_user_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)  # one shard's share: may be below 0


def adjust(connection, changes: Counter) -> None:
    """Add each change (key -> +n / -n) to a random shard of its count, in
    key order: two transactions then lock count rows in the same order and
    cannot deadlock on them."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    for (channel_id, track, status, excluded), change in sorted(changes.items()):
        if not change or channel_id is None:
            continue
        statement = dialect.insert(CaseCount).values(channel_id=channel_id, track=track, status=status,
                                                     excluded_user_id=excluded, shard=secrets.randbelow(SHARDS),
                                                     cases=change)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["channel_id", "track", "status", "excluded_user_id", "shard"],
            set_={"cases": CaseCount.__table__.c.cases + change}))


def purge(connection, channel_id: str, track: str, excluded_user_ids) -> None:
    """A purged (closed) case leaves the counts of (channel, track): one less
    closed case, one less excluding each of `excluded_user_ids`, and each of
    those handlers' counts there folded into one row, none left at 0: the
    case's changes, spread over random shards, would otherwise still say
    row by row that they had been excluded from a case there, once the case
    and its exclusions are gone. Every row is locked in one pass, in
    adjust's order, and only locked rows are written (no new shard), so a
    concurrent change neither waits in a cycle with this nor is lost."""
    c = CaseCount.__table__.c
    excluded = sorted(excluded_user_ids)
    rows = connection.execute(
        select(c.status, c.excluded_user_id, c.shard, c.cases)
        .where(c.channel_id == channel_id, c.track == track,
               or_(c.excluded_user_id.in_(excluded),
                   and_(c.status == STATUS_CLOSED, c.excluded_user_id == EVERY_CASE)))
        .order_by(c.status, c.excluded_user_id, c.shard).with_for_update()).all()
    change = Counter({(STATUS_CLOSED, user_id): -1 for user_id in [EVERY_CASE, *excluded]})
    shards: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for status, user_id, shard, cases in rows:
        shards.setdefault((status, user_id), []).append((shard, cases))
    for (status, user_id), held in shards.items():
        delta = change.pop((status, user_id), 0)
        (first, first_cases), rest = held[0], held[1:]
        key = (c.channel_id == channel_id, c.track == track, c.status == status, c.excluded_user_id == user_id)
        if user_id == EVERY_CASE:  # names nobody: one of its shards takes the change
            if delta:
                connection.execute(update(CaseCount).where(*key, c.shard == first).values(cases=first_cases + delta))
            continue
        total = first_cases + sum(cases for _shard, cases in rest) + delta
        for shard, _cases in rest:
            connection.execute(delete(CaseCount).where(*key, c.shard == shard))
        if total:
            connection.execute(update(CaseCount).where(*key, c.shard == first).values(cases=total))
        else:
            connection.execute(delete(CaseCount).where(*key, c.shard == first))
    # A change with no row to take it: counts a database writer removed (the recount mends them).
    missing = Counter({(channel_id, track, status, user_id): n for (status, user_id), n in change.items() if n})
    adjust(connection, missing)


def _old_and_new(report: Report) -> tuple[tuple, tuple] | None:
    state = inspect(report)
    histories = [state.attrs[name].history for name in ("channel_id", "track", "status")]
    if not any(h.has_changes() for h in histories):
        return None
    old = tuple((h.deleted or h.unchanged or [None])[0] for h in histories)
    new = tuple((h.added or h.unchanged or [None])[0] for h in histories)
    return old, new


def _places(session: Session, report_ids: set[str], new_reports: dict) -> dict:
    """(channel, track, status) of each report: the new ones as they will be
    written, the others as stored."""
    places = {rid: (r.channel_id, r.track, r.status or STATUS_NEW) for rid, r in new_reports.items()
              if rid in report_ids}
    stored = sorted(report_ids - set(places))
    for start in range(0, len(stored), 500):
        rows = session.connection().execute(select(Report.id, Report.channel_id, Report.track, Report.status)
                                            .where(Report.id.in_(stored[start:start + 500])))
        places.update({rid: (channel, track, status) for rid, channel, track, status in rows})
    return places


@event.listens_for(Session, "before_flush")
def _count_changes(session: Session, _context, _instances) -> None:
    changes: Counter = Counter()
    new_reports = {obj.id: obj for obj in session.new if isinstance(obj, Report)}
    for report in new_reports.values():  # the status default is applied later, in the flush
        changes[(report.channel_id, report.track, report.status or STATUS_NEW, EVERY_CASE)] += 1
    exclusions = [obj for obj in session.new if isinstance(obj, Exclusion)]
    gone = [obj for obj in session.deleted if isinstance(obj, Exclusion)]
    places = _places(session, {e.report_id for e in exclusions + gone}, new_reports) if exclusions or gone else {}
    for exclusion in exclusions:
        if exclusion.report_id in places:
            changes[(*places[exclusion.report_id], exclusion.user_id)] += 1
    for exclusion in gone:
        if exclusion.report_id in places:
            changes[(*places[exclusion.report_id], exclusion.user_id)] -= 1
    for obj in session.dirty:
        if isinstance(obj, Report) and (moved := _old_and_new(obj)) is not None:
            _moved(session, obj.id, *moved, changes)
    for obj in session.deleted:
        if isinstance(obj, Report):
            old = _old_and_new(obj)
            changes[(*(old[0] if old else (obj.channel_id, obj.track, obj.status)), EVERY_CASE)] -= 1
    if any(changes.values()):
        adjust(session.connection(), changes)


def _moved(session: Session, report_id: str, old: tuple, new: tuple, changes: Counter) -> None:
    """A report changed channel, track or status: its counts, those of the
    handlers it excludes, and whether its grants wait on an open case."""
    connection = session.connection()
    for excluded in [EVERY_CASE, *connection.execute(select(Exclusion.user_id)
                                                     .where(Exclusion.report_id == report_id)).scalars()]:
        changes[(*old, excluded)] -= 1
        changes[(*new, excluded)] += 1
    if (old[2] == STATUS_CLOSED) != (new[2] == STATUS_CLOSED):
        connection.execute(update(KeyGrant).where(KeyGrant.report_id == report_id)
                           .values(case_open=new[2] != STATUS_CLOSED))


def recount(connection) -> None:
    """The counts, and the grants' open flags, again from the reports
    themselves, in the caller's transaction. On PostgreSQL the table is
    locked first: a change counted meanwhile would be counted twice, or
    collide with the rows written here."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE case_counts IN EXCLUSIVE MODE"))
    connection.execute(delete(CaseCount))
    columns = ["channel_id", "track", "status", "excluded_user_id", "shard", "cases"]
    placed = Report.channel_id.is_not(None)
    every = (select(Report.channel_id, Report.track, Report.status, literal(EVERY_CASE), literal(0), func.count())
             .where(placed).group_by(Report.channel_id, Report.track, Report.status))
    excluding = (select(Report.channel_id, Report.track, Report.status, Exclusion.user_id, literal(0), func.count())
                 .join(Exclusion, Exclusion.report_id == Report.id).where(placed)
                 .group_by(Report.channel_id, Report.track, Report.status, Exclusion.user_id))
    connection.execute(insert(CaseCount).from_select(columns, every))
    connection.execute(insert(CaseCount).from_select(columns, excluding))
    open_case = select(Report.status).where(Report.id == KeyGrant.report_id).scalar_subquery() != STATUS_CLOSED
    connection.execute(update(KeyGrant).where(KeyGrant.case_open != open_case).values(case_open=open_case))
