"""Opening a report: with its receipt (the reporter), or as a handler of its
channel whom the reporter did not exclude and who holds its key.

Visibility is decided here and nowhere else: the inbox lists what
`visible_condition` admits, and a case page opens only through
`open_for_handler`, so a URL guessed or copied cannot open a case.
"""
from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field

from sqlalchemy import and_, exists, false, select
from sqlalchemy.orm import Session

from config import Settings
from crypto import ReceiptFormatError, receipt
from crypto.envelope import DEK_BYTES

from ..models import Exclusion, Membership, Report, User
from .keys import AccessDenied, unwrap_for_handler, unwrap_for_reporter

__all__ = ["AccessDenied", "NoKey", "NotVisible", "OpenCase", "Purged", "open_for_handler", "open_with_receipt",
           "reopen", "visible_condition", "visible_report"]


class NotVisible(Exception):
    """The case does not exist for this handler (outside their channels or excluded)."""


class Purged(Exception):
    """The receipt names a case deleted after its retention time."""


class NoKey(Exception):
    """Visible, but no key has been granted to this handler yet."""


@dataclass(frozen=True)
class OpenCase:
    """A report and its data key, for the rest of one request."""

    report: Report
    dek: bytes = field(repr=False)

    def session_payload(self) -> bytes:
        """What the reporter's sealed session holds (docs/crypto.md, 5): the
        key and the report id, so the session row names no report."""
        return self.dek + self.report.id.encode()


def reopen(db: Session, payload: bytes) -> OpenCase | None:
    """The case a reporter's session_payload() names, None if it is gone."""
    dek, report_id = payload[:DEK_BYTES], payload[DEK_BYTES:].decode()
    report = db.get(Report, report_id) if len(dek) == DEK_BYTES and report_id else None
    return OpenCase(report, dek) if report is not None and report.purged_on is None else None


def open_with_receipt(db: Session, settings: Settings, receipt_text: str) -> OpenCase:
    """The case a receipt opens; AccessDenied for anything that does not
    open, Purged for a case deleted after its retention time (no key is
    left to check the secret with, so its selector alone says so)."""
    try:
        parts = receipt.parse_receipt(receipt_text)
    except ReceiptFormatError:
        raise AccessDenied() from None
    report = db.scalar(select(Report).where(Report.receipt_selector == parts.selector))
    if report is not None and report.purged_on is not None:
        with suppress(AccessDenied):  # the same Argon2id cost as every other answer
            unwrap_for_reporter(settings, None, parts.secret)
        raise Purged()
    return OpenCase(report, unwrap_for_reporter(settings, report, parts.secret))


def visible_condition(user: User):
    """The cases `user` may see: their channels, not excluded, handler role.

    Written so that a page can be read in the order of a sort index, stopping
    after the page, instead of sorting every visible case: membership as a
    correlated EXISTS (with `channel_id IN (...)` SQLite would rather use the
    channel index and sort), exclusions as NOT IN (PostgreSQL hashes the
    handler's few exclusions once and filters the index scan, keeping its
    order, where NOT EXISTS becomes a hash anti-join that loses it). The same
    rows either way: exclusions.report_id and reports.id are never NULL.
    Purged cases are in no channel (their channel_id is NULL), so they are
    left out with no test of their own: testing purged_on made a deep page
    read the row of every case before it (inbox bench).
    """
    if not (user.is_handler and user.active):
        return false()
    member = exists().where(Membership.channel_id == Report.channel_id, Membership.user_id == user.id)
    excluded = select(Exclusion.report_id).where(Exclusion.user_id == user.id)
    return and_(member, Report.id.not_in(excluded))


def visible_report(db: Session, user: User, report_id: str) -> Report:
    """The report if `user` may see it; NotVisible otherwise."""
    report = db.scalar(select(Report).where(Report.id == report_id, visible_condition(user)))
    if report is None:
        raise NotVisible()
    return report


def open_for_handler(db: Session, user: User, private_key: bytes, report_id: str) -> OpenCase:
    """NotVisible for a case outside the handler's view, NoKey while their key is pending."""
    report = visible_report(db, user, report_id)
    try:
        return OpenCase(report, unwrap_for_handler(db, report, user, private_key))
    except AccessDenied:
        raise NoKey() from None
