"""Names of the units the tables are grouped by (the tables keep ids, so a
renamed unit shows its new name)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Unit


def units(db: Session) -> dict[str, str]:
    return dict(db.execute(select(Unit.id, Unit.name)).all())
