"""Names of the units and channels the tables are grouped by (the tables
keep ids, so a renamed unit shows its new name)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.taxonomy import OBSTACLE
from ..models import Channel, Unit


def units(db: Session) -> dict[str, str]:
    return dict(db.execute(select(Unit.id, Unit.name)).all())


def channels(db: Session) -> dict[str, str]:
    return dict(db.execute(select(Channel.id, Channel.name)).all())


def obstacle_channels(db: Session) -> set[str]:
    return set(db.scalars(select(Channel.id).where(Channel.track == OBSTACLE)))
