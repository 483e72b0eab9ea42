"""What a report was when it was sent, sealed under its key: the channel it
was routed to, the handlers the reporter excluded, its answers and its files.

The clear columns and rows that say the same (reports.channel_id,
exclusions, report_answers, attachments) can be changed by whoever writes to
the database; this copy cannot without the report's key. Before a key is
given to anyone (grants.py) the sealed channel and exclusions decide, and
the case pages say when the rows no longer match it.

A report sent before manifests existed has none; it is told apart by its
answers (sealing.CHAINED_ANSWER_LABELS): a chained report without a
manifest, or a report without any answer, was tampered with.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import DecryptionError

from ..models import Attachment, Exclusion, Report
from . import sealing


@dataclass(frozen=True)
class Manifest:
    channel_id: str
    excluded: frozenset[str] = frozenset()
    answers: frozenset[str] = frozenset()
    files: frozenset[str] = frozenset()  # attachments sent with the report itself

    def to_dict(self) -> dict:
        return {"channel_id": self.channel_id, "excluded": sorted(self.excluded), "answers": sorted(self.answers),
                "files": sorted(self.files)}


def seal(report: Report, dek: bytes, manifest: Manifest) -> None:
    report.manifest_ct = sealing.seal_manifest(dek, manifest.to_dict(), report_id=report.id)


def read(report: Report, dek: bytes) -> Manifest | None:
    """The sealed manifest; None when there is none. ManifestBroken when one is there but does not open."""
    if report.manifest_ct is None:
        return None
    try:
        data = sealing.open_manifest(dek, report.manifest_ct, report_id=report.id)
    except DecryptionError:
        raise ManifestBroken() from None
    return Manifest(data["channel_id"], frozenset(data["excluded"]), frozenset(data["answers"]),
                    frozenset(data["files"]))


class ManifestBroken(Exception):
    """The sealed manifest was altered or moved from another report."""


@dataclass(frozen=True)
class Check:
    """Where the report's rows no longer match what was sent."""

    problems: tuple[str, ...] = field(default_factory=tuple)  # codes, see check()

    @property
    def intact(self) -> bool:
        return not self.problems


def check(db: Session, report: Report, dek: bytes, *, chained: bool) -> Check:
    """Compare the rows with the sealed manifest. Problems: "manifest" (missing
    where it must be, or broken), "channel", "exclusions", "answers", "files"."""
    answers = {a.field for a in report.answers}
    try:
        manifest = read(report, dek)
    except ManifestBroken:
        return Check(("manifest",))
    if manifest is None:
        return Check(("manifest",)) if chained or not answers else Check()
    problems = []
    if report.channel_id != manifest.channel_id:
        problems.append("channel")
    excluded = set(db.scalars(select(Exclusion.user_id).where(Exclusion.report_id == report.id)))
    if excluded != manifest.excluded:
        problems.append("exclusions")
    if answers != manifest.answers:
        problems.append("answers")
    files = set(db.scalars(select(Attachment.id).where(Attachment.report_id == report.id,
                                                       Attachment.message_id.is_(None), Attachment.complete)))
    if files != manifest.files:
        problems.append("files")
    return Check(tuple(problems))


def _chained(report: Report, dek: bytes) -> bool:
    """Whether the report was sent with a manifest (its answers tell); True
    for a report without answers, which no form sends."""
    if not report.answers:
        return True
    answer = report.answers[0]
    try:
        return sealing.open_answer(dek, answer.body_ct, report_id=report.id, answer_id=answer.id,
                                   code=answer.field)[1]
    except (DecryptionError, KeyError):
        return True


def routing(report: Report, dek: bytes) -> tuple[str, frozenset[str]]:
    """(channel id, excluded ids) a key may be given by: the sealed ones, or
    for a report sent before manifests, the rows. ManifestBroken if the
    manifest is broken, or missing where it must be."""
    manifest = read(report, dek)
    if manifest is not None:
        return manifest.channel_id, manifest.excluded
    if _chained(report, dek):
        raise ManifestBroken()
    return report.channel_id, frozenset(e.user_id for e in report.exclusions)
