"""Channels: which channel a report goes to (the routing rules), who handles
it, and the units a reporter may name."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain import routing
from ..models import Channel, Membership, RoutingRule, Unit, User


def route(session: Session, track: str, category: str, chain_level: str | None) -> str:
    """The channel id for this kind of report; routing.NoRouteError if none."""
    rules = [
        routing.Rule(r.track, r.category, r.chain_level, r.channel_id, r.priority)
        for r in session.scalars(select(RoutingRule))
    ]
    return routing.choose_channel(rules, track, category, chain_level)


def channel_handlers(session: Session, channel_id: str, *, for_share: bool = False) -> list[User]:
    """Active handlers of a channel who can receive keys, in a stable order.
    for_share: read their rows locked (PostgreSQL) and fresh, so that no first
    sign-in replaces a key pair between this read and the commit
    (staff.credentials.replace_creator_key_pair)."""
    query = (select(User)
             .join(Membership, Membership.user_id == User.id)
             .where(Membership.channel_id == channel_id, User.is_handler, User.active)
             .order_by(User.display_name, User.id))
    if for_share:
        query = query.with_for_update(read=True, of=User).execution_options(populate_existing=True)
    return list(session.scalars(query))


def shown_to_reporters(channel: Channel, language: str) -> tuple[str, str]:
    """The channel's name and description in `language`; an English one left
    empty shows the Swedish."""
    if language == "en":
        return channel.name_en or channel.name, channel.description_en or channel.description
    return channel.name, channel.description


def active_units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).where(Unit.active).order_by(Unit.name)))
