"""What an administrator sets up: channels, units and routing rules, each
change audited. Checks that depend on the database (a name taken, a rule
that exists) are here; the forms check the rest. A refused change raises
SetupRefused with a code the admin pages translate."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .. import audit
from ..domain import names, retention, routing
from ..domain.taxonomy import CATEGORIES, CHAIN_LEVELS, OBSTACLE, STATUS_CLOSED, TRACKS
from ..models import Channel, Membership, Report, RoutingRule, Unit, User
from ..models.base import today

NAME_TAKEN = "name_taken"
RETENTION_TOO_LONG = "retention_too_long"
RULE_EXISTS = "rule_exists"
UNKNOWN_CODE = "unknown_code"


class SetupRefused(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ChannelText:
    name: str
    name_en: str
    description: str
    description_en: str
    retention_months: int


def _check_channel(db: Session, track: str, text: ChannelText, channel_id: str | None) -> None:
    if track not in TRACKS:
        raise SetupRefused(UNKNOWN_CODE)
    if not retention.allowed(track, text.retention_months):
        raise SetupRefused(RETENTION_TOO_LONG)
    taken = db.scalar(select(Channel.id).where(func.lower(Channel.name) == names.clean(text.name).lower(),
                                               Channel.id != (channel_id or "")))
    if taken:
        raise SetupRefused(NAME_TAKEN)
    others = [name for pair in db.execute(select(Channel.name, Channel.name_en)
                                          .where(Channel.id != (channel_id or ""))) for name in pair if name]
    for name in (text.name, text.name_en):
        code = names.refusal(name, others) if name.strip() else None
        if code:
            raise SetupRefused(code)


def _apply(channel: Channel, text: ChannelText) -> None:
    channel.name, channel.name_en = names.clean(text.name), names.clean(text.name_en)
    channel.description, channel.description_en = names.clean(text.description), names.clean(text.description_en)
    channel.retention_months = text.retention_months


def create_channel(db: Session, actor: User, track: str, text: ChannelText) -> Channel:
    _check_channel(db, track, text, None)
    channel = Channel(track=track)
    _apply(channel, text)
    db.add(channel)
    db.flush()
    audit.record(db, "channel.create", actor_user_id=actor.id, target_type="channel", target_id=channel.id,
                 track=track, retention_months=text.retention_months)
    return channel


@dataclass(frozen=True)
class Sooner:
    cases: int  # closed cases a shorter retention deletes earlier than now planned
    at_next_purge: int  # of those, the ones due at once


def due_sooner(db: Session, channel: Channel, months: int, on: dt.date) -> Sooner:
    """What a retention of `months` would bring forward for the channel's
    closed cases: what the admin confirms before shortening it (reviews: one
    change deleted them all at the next purge, unannounced; and a cut that
    made none due at once moved all of them a year closer, unasked)."""
    closed = list(db.scalars(select(Report.closed_on).where(
        Report.channel_id == channel.id, Report.status == STATUS_CLOSED, Report.closed_on.is_not(None),
        Report.purged_on.is_(None))))
    earlier = [retention.expires_on(day, channel.track, months) for day in closed
               if retention.expires_on(day, channel.track, months)
               < retention.expires_on(day, channel.track, channel.retention_months)]
    return Sooner(len(earlier), sum(1 for ends in earlier if ends <= on))


def update_channel(db: Session, actor: User, channel: Channel, text: ChannelText) -> None:
    """The track is fixed once made: its cases were routed, sealed and counted under it."""
    _check_channel(db, channel.track, text, channel.id)
    fields = ("name", "name_en", "description", "description_en", "retention_months")
    before = {name: getattr(channel, name) for name in fields}
    _apply(channel, text)
    db.flush()
    # What reporters were shown, before and after (admin review: only the
    # retention was kept, so a misleading description left no trace).
    audit.record(db, "channel.update", actor_user_id=actor.id, target_type="channel", target_id=channel.id,
                 **{name: [before[name], getattr(channel, name)] for name in fields
                    if before[name] != getattr(channel, name)})


@dataclass(frozen=True)
class ChannelRow:
    channel: Channel
    members: int
    rules: int


def channel_rows(db: Session) -> list[ChannelRow]:
    """Every channel with how many people it has and how many rules reach it."""
    members = dict(db.execute(select(Membership.channel_id, func.count()).group_by(Membership.channel_id)).all())
    rules = dict(db.execute(select(RoutingRule.channel_id, func.count()).group_by(RoutingRule.channel_id)).all())
    return [ChannelRow(channel, members.get(channel.id, 0), rules.get(channel.id, 0))
            for channel in db.scalars(select(Channel).order_by(Channel.track, Channel.name))]


def members(db: Session, channel: Channel) -> list[User]:
    return list(db.scalars(select(User).join(Membership, Membership.user_id == User.id)
                           .where(Membership.channel_id == channel.id).order_by(User.display_name, User.id)))


def member_candidates(db: Session, channel: Channel) -> list[User]:
    """Active handlers not yet in the channel (only handlers read cases)."""
    inside = select(Membership.user_id).where(Membership.channel_id == channel.id)
    return list(db.scalars(select(User).where(User.active, User.is_handler, User.id.not_in(inside))
                           .order_by(User.display_name, User.id)))


def remove_member(db: Session, actor: User, channel: Channel, user: User) -> None:
    """Out of the channel: no new reports reach them. The keys they hold to
    the channel's cases stay until an admin deactivates them or takes the
    handler role (a case mid-work must not lose its reader by surprise)."""
    db.execute(delete(Membership).where(Membership.channel_id == channel.id, Membership.user_id == user.id))
    audit.record(db, "channel.member_removed", actor_user_id=actor.id, target_type="channel",
                 target_id=channel.id, user_id=user.id)


# --- units -------------------------------------------------------------------------


def _unit_name_taken(db: Session, name: str, unit_id: str | None) -> bool:
    return db.scalar(select(Unit.id).where(func.lower(Unit.name) == name.strip().lower(),
                                           Unit.id != (unit_id or ""))) is not None


def _check_unit_name(db: Session, name: str, unit_id: str | None) -> str:
    name = names.clean(name)
    if _unit_name_taken(db, name, unit_id):
        raise SetupRefused(NAME_TAKEN)
    code = names.refusal(name, db.scalars(select(Unit.name).where(Unit.id != (unit_id or ""))))
    if code:
        raise SetupRefused(code)
    return name


def add_unit(db: Session, actor: User, name: str) -> Unit:
    unit = Unit(name=_check_unit_name(db, name, None), created_on=today())
    db.add(unit)
    db.flush()
    audit.record(db, "unit.create", actor_user_id=actor.id, target_type="unit", target_id=unit.id)
    return unit


def rename_unit(db: Session, actor: User, unit: Unit, name: str) -> None:
    before, unit.name = unit.name, _check_unit_name(db, name, unit.id)
    db.flush()
    audit.record(db, "unit.rename", actor_user_id=actor.id, target_type="unit", target_id=unit.id,
                 name=[before, unit.name])


def set_unit_active(db: Session, actor: User, unit: Unit, active: bool) -> None:
    """Retired: reporters can no longer choose it; its cases keep it, and
    the statistics still count them under it."""
    unit.active = active
    # Restored: choosable again from now on; the quarters it was retired
    # for were frozen without it, as they ended.
    unit.retired_on = None if active else today()
    db.flush()
    audit.record(db, "unit.restore" if active else "unit.retire", actor_user_id=actor.id, target_type="unit",
                 target_id=unit.id)


# --- routing -------------------------------------------------------------------------


def _levels(track: str) -> tuple[str | None, ...]:
    return (None,) + CHAIN_LEVELS if track == OBSTACLE else (None,)


def _equals(column, value):
    return column.is_(None) if value is None else column == value


def add_rule(db: Session, actor: User, track: str, category: str | None, chain_level: str | None,
             channel: Channel) -> RoutingRule:
    """A rule sends one kind of report of the channel's own track to it;
    category and chain level empty mean "any" (empty both: the track's default)."""
    if (track not in TRACKS or channel.track != track or (category and category not in CATEGORIES[track])
            or chain_level not in _levels(track)):
        raise SetupRefused(UNKNOWN_CODE)
    category = category or None
    same = select(RoutingRule.id).where(RoutingRule.track == track, _equals(RoutingRule.category, category),
                                        _equals(RoutingRule.chain_level, chain_level))
    if db.scalar(same):
        raise SetupRefused(RULE_EXISTS)
    rule = RoutingRule(track=track, category=category, chain_level=chain_level, channel_id=channel.id)
    db.add(rule)
    db.flush()
    audit.record(db, "routing.add", actor_user_id=actor.id, target_type="channel", target_id=channel.id,
                 track=track, category=category, chain_level=chain_level)
    return rule


def delete_rule(db: Session, actor: User, rule: RoutingRule) -> None:
    audit.record(db, "routing.delete", actor_user_id=actor.id, target_type="channel", target_id=rule.channel_id,
                 track=rule.track, category=rule.category, chain_level=rule.chain_level)
    db.delete(rule)
    db.flush()


def routing_table(db: Session, track: str) -> dict[tuple[str, str | None], str | None]:
    """Where every kind of report of `track` goes now (channel id, None: nowhere)."""
    rules = [routing.Rule(r.track, r.category, r.chain_level, r.channel_id, r.priority)
             for r in db.scalars(select(RoutingRule).where(RoutingRule.track == track))]
    return routing.preview(rules, track, CATEGORIES[track], _levels(track))
