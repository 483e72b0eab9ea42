"""How many cases each channel holds, per track and status, kept as cases
arrive, change status and are purged, so that the inbox can say how many
cases a handler has without counting them (a count over 10^5 or 10^6 index
entries per page view, docs/benchmarks.md "Inbox").

Every change of a report's channel, track or status through the ORM is
counted at flush time, here and nowhere else; a bulk UPDATE (the purge's
claim) calls `adjust` itself. Each count is spread over SHARDS rows, one
picked at random per change, so concurrent submissions to one channel do
not queue for one row; a count is the sum of its rows. `recount` rebuilds
the table from the reports (the migration, the purge job, benchmarks that
insert rows directly): a count a database writer changed comes right again.
"""
from __future__ import annotations

import secrets
from collections import Counter

from sqlalchemy import ForeignKey, Integer, String, delete, event, func, insert, inspect, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..domain.taxonomy import STATUS_NEW
from .base import ID_LENGTH, Base
from .report import Report

SHARDS = 8
Key = tuple[str, str, str]  # channel id, track, status


class CaseCount(Base):
    __tablename__ = "case_counts"

    channel_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("channels.id", ondelete="CASCADE"),
                                            primary_key=True)
    track: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)  # one shard's share: may be below 0


def adjust(connection, changes: Counter) -> None:
    """Add each change (key -> +n / -n) to a random shard of its count, in
    key order: two transactions then lock count rows in the same order and
    cannot deadlock on them."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    for (channel_id, track, status), change in sorted(changes.items()):
        if not change or channel_id is None:
            continue
        statement = dialect.insert(CaseCount).values(channel_id=channel_id, track=track, status=status,
                                                     shard=secrets.randbelow(SHARDS), cases=change)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["channel_id", "track", "status", "shard"],
            set_={"cases": CaseCount.__table__.c.cases + change}))


def _old_and_new(report: Report) -> tuple[Key, Key] | None:
    state = inspect(report)
    histories = [state.attrs[name].history for name in ("channel_id", "track", "status")]
    if not any(h.has_changes() for h in histories):
        return None
    old = tuple((h.deleted or h.unchanged or [None])[0] for h in histories)
    new = tuple((h.added or h.unchanged or [None])[0] for h in histories)
    return old, new


@event.listens_for(Session, "before_flush")
def _count_changes(session: Session, _context, _instances) -> None:
    changes: Counter = Counter()
    for obj in session.new:
        if isinstance(obj, Report):  # the status default is applied later, in the flush
            changes[(obj.channel_id, obj.track, obj.status or STATUS_NEW)] += 1
    for obj in session.dirty:
        if isinstance(obj, Report) and (moved := _old_and_new(obj)) is not None:
            changes[moved[0]] -= 1
            changes[moved[1]] += 1
    for obj in session.deleted:
        if isinstance(obj, Report):
            old = _old_and_new(obj)
            changes[old[0] if old else (obj.channel_id, obj.track, obj.status)] -= 1
    if any(changes.values()):
        adjust(session.connection(), changes)


def recount(connection) -> None:
    """The counts again from the reports themselves, in the caller's
    transaction. On PostgreSQL the table is locked first: a change counted
    meanwhile would be counted twice, or collide with the rows written here."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("LOCK TABLE case_counts IN EXCLUSIVE MODE"))
    connection.execute(delete(CaseCount))
    counted = (select(Report.channel_id, Report.track, Report.status, literal(0), func.count())
               .where(Report.channel_id.is_not(None)).group_by(Report.channel_id, Report.track, Report.status))
    connection.execute(insert(CaseCount).from_select(["channel_id", "track", "status", "shard", "cases"], counted))
