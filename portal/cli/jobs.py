"""Cron jobs, each safe to run on several nodes at once: content-free
notification digests, purging what has expired, and the statistics releases."""
from __future__ import annotations

import sys

import click

from ..insights import releases
from ..reports import form_tokens
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
def purge_command() -> None:
    """Delete expired server-side sessions and old form tokens (cron)."""
    with db.unit_of_work() as session:
        removed = sealed_session.purge_expired(session)
        tokens = form_tokens.purge(session)
    click.echo(f"Expired sessions removed: {removed}. Old form tokens removed: {tokens}.")


@portal_cli.command("insights-refresh")
def insights_refresh_command() -> None:
    """Freeze newly ended quarters and publish allowed revisions of the statistics (cron, every few minutes)."""
    settings = current_settings()
    with db.unit_of_work() as session:
        releases.current(session, settings)  # freezes what has just ended
        changed = releases.refresh(session, settings)
    click.echo(f"Statistics releases revised: {changed}.")
