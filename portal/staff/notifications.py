"""Content-free email digests for handlers.

A digest says only how many cases need action: no case content, no receipt,
no link to a case, and at most one per handler per interval, so neither the
mail server nor the timing of mails mirrors what a reporter did.

Several nodes may run `flask portal notify` at once: each handler's slot is
claimed with one conditional UPDATE, which only one node can win.
"""
from __future__ import annotations

import datetime as dt
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from flask_babel import force_locale, gettext as _, ngettext
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from config import Settings

from ..models import User
from ..models.base import today, utcnow
from ..reports import inbox


@dataclass(frozen=True)
class Outcome:
    sent: int
    skipped: int
    failed: int


def _claim(db: Session, user: User, now: dt.datetime, interval: dt.timedelta) -> dt.datetime | None:
    """Take this handler's slot; returns the previous time (to give it back on failure) or None."""
    previous = user.last_notified_at
    result = db.execute(
        update(User)
        .where(User.id == user.id,
               or_(User.last_notified_at.is_(None), User.last_notified_at <= now - interval))
        .values(last_notified_at=now)
        .execution_options(synchronize_session=False)
    )
    db.commit()
    if result.rowcount != 1:
        return None
    return previous or dt.datetime.min


def compose(settings: Settings, user: User, count: int) -> EmailMessage:
    with force_locale(user.language or settings.languages[0]):
        message = EmailMessage()
        message["Subject"] = _("%(org)s: cases need your attention", org=settings.organisation_name)
        message["From"] = settings.smtp_sender
        message["To"] = user.email
        message.set_content("\n\n".join([
            _("Hello %(name)s,", name=user.display_name),
            ngettext("%(num)d case in the reporting portal needs action from you or your channel.",
                     "%(num)d cases in the reporting portal need action from you or your channel.", count),
            _("Sign in to the portal as usual to see them. For the reporters' safety this message says "
              "nothing more and contains no link."),
        ]) + "\n")
    return message


def _send(settings: Settings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def send_digests(db: Session, settings: Settings, *, now: dt.datetime | None = None) -> Outcome:
    now = now or utcnow()
    interval = dt.timedelta(hours=settings.notify_interval_hours)
    sent = skipped = failed = 0
    handlers = db.scalars(select(User).where(User.is_handler, User.active, User.email.is_not(None))).all()
    for user in handlers:
        count = inbox.needs_action_count(db, user, today())
        if count == 0:
            skipped += 1
            continue
        previous = _claim(db, user, now, interval)
        if previous is None:
            skipped += 1
            continue
        try:
            _send(settings, compose(settings, user, count))
            sent += 1
        except (OSError, smtplib.SMTPException):
            # Give the slot back so the next run tries again.
            db.execute(update(User).where(User.id == user.id, User.last_notified_at == now)
                       .values(last_notified_at=None if previous == dt.datetime.min else previous))
            db.commit()
            failed += 1
    return Outcome(sent, skipped, failed)
