"""Cron jobs, each safe to run on several nodes at once: content-free
notification digests, purging what has expired, and the statistics releases."""
from __future__ import annotations

import sys

import click

from .. import audit
from ..insights import releases
from ..models import case_counts
from ..models.base import today as models_today
from ..organisation import thresholds
from ..reports import form_tokens, retention
from ..staff.notifications import send_digests
from ..web import current_settings, db, sealed_session
from . import portal_cli


@portal_cli.command("notify")
def notify_command() -> None:
    """Email each handler a content-free digest of cases needing action (cron)."""
    settings = current_settings()
    if not settings.smtp_host:
        click.echo("PORTAL_SMTP_HOST is not set; nothing sent.", err=True)
        sys.exit(1)
    # Each handler's slot is claimed and committed on its own (notifications.py).
    outcome = send_digests(db.session(), settings)
    click.echo(f"Digests sent: {outcome.sent}, skipped: {outcome.skipped}, failed: {outcome.failed}.")
    if outcome.failed:
        sys.exit(1)


@portal_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted; change nothing.")
def purge_command(dry_run: bool) -> None:
    """Delete cases past their channel's retention (crypto-shredding), expired sessions and old form tokens (cron)."""
    today = models_today()
    if dry_run:
        due, unproven = _due(today)
        click.echo(f"Would delete {len(due)} case(s) past their retention time; nothing changed (dry run).")
        for case in due:
            click.echo(f"  closed {case.closed_on}, to be deleted from {case.expired_on}")
        _say_unproven(unproven)
        return
    due, purged, unproven = purge_cases(today, show_progress=True)
    with db.unit_of_work() as work:
        removed = sealed_session.purge_expired(work)
        case_counts.recount(work.connection())  # whatever drifted (a database writer) comes right
        tokens = form_tokens.purge(work)
    # Rewrite first, then empty SQLite's write-ahead log of both.
    reordered, not_reordered = db.reorder_orderless_tables()
    log = db.compact_after_delete()
    click.echo(f"Cases deleted after their retention time: {purged}"
               + (f" ({due - purged} deleted by another run at the same time)" if purged < due else "")
               + f". Expired sessions removed: {removed}. Old form tokens removed: {tokens}."
               + (" SQLite's write-ahead log checkpointed and emptied." if log == db.WAL_EMPTIED else "")
               + (f" {len(reordered)} tables rewritten in key order." if reordered else ""))
    _say_unproven(unproven)
    if db.commit_timestamps_kept():
        click.echo("PostgreSQL keeps commit timestamps (track_commit_timestamp = on): they date every row, "
                   "the reporter's too. Turn the setting off.", err=True)
    if not_reordered:
        click.echo(f"Not rewritten, as other transactions were reading them: {', '.join(not_reordered)}. "
                   "Their newest rows stay in the order they were written until the next run.", err=True)
    if log == db.WAL_BUSY:
        click.echo("SQLite's write-ahead log could not be emptied: another connection is still reading "
                   "(a backup, a long export, an sqlite3 shell). Until it is, pages of what was deleted "
                   "may remain in the -wal file. Run the purge again when nothing else reads the database.",
                   err=True)
    if unproven or log == db.WAL_BUSY:
        sys.exit(1)


def _due(today) -> tuple[list, int]:
    """(the cases to delete, how many more look due but the audit log does
    not vouch for their closing). A changed or removed event could be the
    reopening of a case the log would otherwise vouch for as closed (second
    review): no case is deleted while the log does not verify."""
    if audit.verify(db.session(), current_settings().audit_legacy_head) is not None:
        click.echo("The audit log does not verify: no case was deleted. Run `portal audit verify`.", err=True)
        sys.exit(1)
    found = retention.expired(db.session(), today)
    due = [case for case in found if case.proven]
    return due, len(found) - len(due)


def _say_unproven(count: int) -> None:
    if count:
        click.echo(f"{count} case(s) look closed long enough ago, but the audit log does not vouch for "
                   "their closing on that day: the database may have been changed. They were not deleted; "
                   "run `portal audit verify` and look at their history.", err=True)


def purge_cases(today, *, show_progress: bool) -> tuple[int, int, int]:
    """(cases due, cases this run shredded, cases left alone because the
    audit log does not vouch for their closing): each case in a transaction
    of its own."""
    due, unproven = _due(today)
    db.session().rollback()  # the read's snapshot ends: each case is claimed afresh
    purged = 0
    # A bar on a terminal only: a cron log gets the summary line.
    with click.progressbar(due, label="Deleting expired cases", file=sys.stderr,
                           hidden=not (show_progress and sys.stderr.isatty())) as cases:
        for case in cases:
            with db.unit_of_work() as work:
                purged += retention.shred(work, case.report_id, today)
    return len(due), purged, unproven


@portal_cli.command("insights-refresh")
def insights_refresh_command() -> None:
    """Freeze newly ended quarters and publish allowed revisions of the statistics (cron, every few minutes)."""
    with db.unit_of_work() as session:
        settings = thresholds.applied(session, current_settings())
        releases.current(session, settings)  # freezes what has just ended
        changed = releases.refresh(session, settings)
    click.echo(f"Statistics releases revised: {changed}.")
