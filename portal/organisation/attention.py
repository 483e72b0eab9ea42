"""What the admin dashboard says needs attention: counts and staff names
only, never anything about what a case holds."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from ..domain.taxonomy import STATUS_CLOSED
from ..models import Channel, Membership, Report, ReportKey, User
from ..reports.inbox import overdue_condition


@dataclass(frozen=True)
class ChannelState:
    channel: Channel
    handlers: int  # active handlers in the channel
    overdue: int  # cases past a legal deadline
    unreadable: int  # open cases no active handler holds a key to (they wait for a grant or escrow)


@dataclass(frozen=True)
class Attention:
    never_signed_in: list[User]  # handlers whose key pair is still the one made with their account
    channels: list[ChannelState]

    @property
    def anything(self) -> bool:
        return bool(self.never_signed_in) or any(
            not c.handlers or c.overdue or c.unreadable for c in self.channels)


def _per_channel(db: Session, condition) -> dict[str, int]:
    return dict(db.execute(select(Report.channel_id, func.count()).where(condition)
                           .group_by(Report.channel_id)).all())


def gather(db: Session, today: dt.date) -> Attention:
    handlers = dict(db.execute(
        select(Membership.channel_id, func.count()).join(User, User.id == Membership.user_id)
        .where(User.is_handler, User.active).group_by(Membership.channel_id)).all())
    overdue = _per_channel(db, overdue_condition(today))
    held = exists().where(ReportKey.report_id == Report.id, ReportKey.user_id == User.id, User.active,
                          User.is_handler)
    unreadable = _per_channel(db, (Report.status != STATUS_CLOSED) & Report.purged_on.is_(None) & ~held)
    channels = [ChannelState(c, handlers.get(c.id, 0), overdue.get(c.id, 0), unreadable.get(c.id, 0))
                for c in db.scalars(select(Channel).where(Channel.active).order_by(Channel.name))]
    never = list(db.scalars(select(User).where(User.is_handler, User.active, ~User.holds_own_keys)
                            .order_by(User.display_name, User.id)))
    return Attention(never, channels)
