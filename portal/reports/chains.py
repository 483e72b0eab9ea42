"""The dialogue and the timeline as hash chains under the report's key.

Every message links its author side, kind, place, date, author and a digest
of its ciphertext to the message before it; every status event its status,
outcome, date and actor. The report holds each chain's head (length and last
link). Without the report's key nobody can change an author or kind, remove,
insert or reorder an entry, or move one to another report, unnoticed: the
pages of both sides then say what no longer verifies (docs/crypto.md, 11).

Reports written before the chains existed are sealed (their chains
computed) at a handler's first view; until then their entries cannot be
verified, and the pages say so. Whether a report must have chains is told
by its answers (sealing.CHAINED_ANSWER_LABELS), which nobody can rewrite
without its key.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import chain

from ..models import Message, Report, StatusEvent
from ..models.base import begin_writing

DIALOGUE = "dialogue"
TIMELINE = "timeline"


def _message_fields(message: Message, files: dict) -> tuple:
    # The files sent with the message are part of it: one removed is noticed.
    return (message.id, message.seq, message.author, message.kind, message.sent_on.isoformat(),
            message.author_user_id or "", chain.digest(message.body_ct), ",".join(sorted(files.get(message.id, ()))))


def _event_fields(event: StatusEvent, _files: dict) -> tuple:
    return (event.id, event.seq, event.status, event.outcome or "", event.occurred_on.isoformat(),
            event.actor_user_id or "")


_FIELDS = {DIALOGUE: _message_fields, TIMELINE: _event_fields}
# The last field of every link: "" normally; GAP when the entry was added to a
# chain whose head did not match its end (entries removed or changed before),
# so that adding to a damaged chain cannot heal it.
NO_GAP, GAP = "", "gap"
_HEADS = {DIALOGUE: ("dialogue_count", "dialogue_head"), TIMELINE: ("timeline_count", "timeline_head")}


def _key(report: Report, dek: bytes, name: str) -> bytes:
    return chain.chain_key(dek, report_id=report.id, chain=name)


def _set_head(report: Report, name: str, key: bytes, count: int, last: bytes) -> None:
    count_attr, head_attr = _HEADS[name]
    setattr(report, count_attr, count)
    setattr(report, head_attr, chain.head(key, count, last))


def hold(session: Session, report: Report) -> None:
    """Take the case for an append, until the transaction ends: two requests
    appending at once (two handlers answering, a handler and the reporter)
    would both take the next place in the chain (a unique-key error, a 500
    under load) or link after the same head. The report is read again under
    the lock, so the status and the heads checked next are the current ones;
    what the caller changed before is flushed first, so it is not read over.
    FOR NO KEY UPDATE (key_share): appenders still wait for each other, but
    a grant or message inserted for the case elsewhere (whose foreign key
    takes FOR KEY SHARE) does not, or a grant approval holding an audit lane
    and an append waiting for it would each wait for the other."""
    begin_writing(session)
    session.flush()
    session.execute(select(Report).where(Report.id == report.id).with_for_update(key_share=True)
                    .execution_options(populate_existing=True)).scalar_one()  # the row, loaded: refreshed


def extend(report: Report, dek: bytes, name: str, entry, previous, file_ids=()) -> None:
    """Link a new entry after `previous` (None for the first) and move the head.
    A report not sealed yet keeps its entries unlinked until it is."""
    if not report.sealed:
        return
    key = _key(report, dek, name)
    prev = previous.chain_mac if previous is not None and previous.chain_mac is not None else chain.GENESIS
    count_attr, head_attr = _HEADS[name]
    intact = getattr(report, count_attr) == (previous.seq if previous is not None else 0) and \
        chain.same(chain.head(key, getattr(report, count_attr) or 0, prev), getattr(report, head_attr))
    entry.chain_mac = chain.link(key, prev, *_FIELDS[name](entry, {entry.id: file_ids}), NO_GAP if intact else GAP)
    _set_head(report, name, key, entry.seq, entry.chain_mac)


def seal(report: Report, dek: bytes, messages: Sequence[Message], events: Sequence[StatusEvent],
         files: dict | None = None) -> None:
    """Compute both chains of a report written before they existed; `files`:
    attachment ids by message id."""
    for name, entries in ((DIALOGUE, messages), (TIMELINE, events)):
        key, prev = _key(report, dek, name), chain.GENESIS
        for entry in entries:
            entry.chain_mac = chain.link(key, prev, *_FIELDS[name](entry, files or {}), NO_GAP)
            prev = entry.chain_mac
        _set_head(report, name, key, len(entries), prev)
    report.sealed = 1


@dataclass(frozen=True)
class Check:
    """What of a chain verifies. `broken`: ids of entries whose link fails
    (changed, moved, or something before them removed or inserted);
    `cut`: the chain ends elsewhere than its head says (entries removed at
    the end, or added without the key); `unsealed`: an older report whose
    chains a handler's first view has not computed yet."""

    broken: frozenset[str] = field(default_factory=frozenset)
    cut: bool = False
    unsealed: bool = False

    @property
    def intact(self) -> bool:
        return not (self.broken or self.cut)


def check(report: Report, dek: bytes, name: str, entries: Sequence, *, chained: bool,
          files: dict | None = None) -> Check:
    """Verify one chain; `entries` in the order of their seq, `files` the
    attachment ids stored with each message."""
    if not report.sealed and not chained:
        return Check(unsealed=True)
    key, prev, broken = _key(report, dek, name), chain.GENESIS, set()
    for place, entry in enumerate(entries, start=1):
        expected = chain.link(key, prev, *_FIELDS[name](entry, files or {}), NO_GAP)
        if entry.seq != place or not chain.same(expected, entry.chain_mac):
            broken.add(entry.id)  # changed, moved, after a removed entry, or added after a gap
        prev = entry.chain_mac if entry.chain_mac is not None else expected
    count_attr, head_attr = _HEADS[name]
    cut = not chain.same(chain.head(key, len(entries), prev), getattr(report, head_attr)) or \
        getattr(report, count_attr) != len(entries)
    if not report.sealed:  # a chained report marked unsealed: its seals were stripped
        cut = True
    return Check(frozenset(broken), cut)
