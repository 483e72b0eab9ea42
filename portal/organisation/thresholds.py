"""The statistics' thresholds as an administrator set them. The operator's
configuration (PORTAL_K_ANONYMITY, PORTAL_K_ANONYMITY_MISCONDUCT) is the
floor: an administrator may hide more, never less, so a curious admin cannot
lower k to read small groups. Releases already frozen keep the k they were
published with; a new k applies to quarters frozen from then on."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from config import Settings

from .. import audit
from ..models import Setting, User

K_KEY = "insights.k"
K_MISCONDUCT_KEY = "insights.k_misconduct"
MAX_K = 100


@dataclass(frozen=True)
class Thresholds:
    k: int
    k_misconduct: int


def _stored(db: Session, key: str) -> int | None:
    row = db.get(Setting, key)
    try:
        return int(row.value) if row is not None else None
    except ValueError:
        return None


def current(db: Session, settings: Settings) -> Thresholds:
    """What applies: the stored value, never below the configured floor (a
    database writer's lower value is ignored), never above MAX_K."""
    def effective(key: str, floor: int) -> int:
        stored = _stored(db, key)
        return floor if stored is None else min(max(stored, floor), max(MAX_K, floor))
    return Thresholds(effective(K_KEY, settings.k_anonymity),
                      effective(K_MISCONDUCT_KEY, settings.k_anonymity_misconduct))


def applied(db: Session, settings: Settings) -> Settings:
    """`settings` with the thresholds that apply, for the statistics code."""
    found = current(db, settings)
    return settings.with_overrides(k_anonymity=found.k, k_anonymity_misconduct=found.k_misconduct)


def allowed(settings: Settings, wanted: Thresholds) -> bool:
    return (settings.k_anonymity <= wanted.k <= MAX_K
            and settings.k_anonymity_misconduct <= wanted.k_misconduct <= MAX_K)


def save(db: Session, settings: Settings, actor: User, wanted: Thresholds) -> None:
    if not allowed(settings, wanted):
        raise ValueError(wanted)
    before = current(db, settings)
    for key, value in ((K_KEY, wanted.k), (K_MISCONDUCT_KEY, wanted.k_misconduct)):
        row = db.get(Setting, key) or Setting(key=key)
        row.value = str(value)
        db.add(row)
    db.flush()
    audit.record(db, "settings.thresholds", actor_user_id=actor.id, k=[before.k, wanted.k],
                 k_misconduct=[before.k_misconduct, wanted.k_misconduct])
