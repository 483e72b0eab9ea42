"""Two years of demo cases behind the handful in demo.py, so that the
insights pages look like an organisation's after some time in use: a few
hundred obstacles and some misconduct reports over eight quarters, with
realistic kinds, chain levels, units, deadlines and outcomes. Drawn from a
seeded random generator, so every `make run` shows the same figures."""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy.orm import Session

from config import Settings
from crypto.kdf import Argon2Params

from ..domain import quarters
from ..domain.taxonomy import (
    CHAIN_LEVELS,
    MISCONDUCT,
    MISCONDUCT_CATEGORIES,
    OBSTACLE,
    OBSTACLE_CATEGORIES,
    OUTCOME_REMOVED,
    PRINCIPLES,
    STATUS_ACKNOWLEDGED,
    STATUS_CLOSED,
    STATUS_IN_PROGRESS,
    TIME_LOST_RANGES,
)
from ..models import Report
from ..reports import submission, workflow

QUARTERS = 8
OBSTACLES_PER_QUARTER = (28, 55)
MISCONDUCT_PER_QUARTER = (2, 7)
# Weights: most obstacles are burdens and systems; most arise in management and staff functions.
CATEGORY_WEIGHTS = (8, 10, 9, 5, 9, 3, 2)
CHAIN_WEIGHTS = (2, 9, 8, 3, 1, 2, 4, 3, 2)
OBSTACLE_OUTCOMES = (("removed", 9), ("changed", 4), ("explained", 4), ("referred", 2), ("not_actionable", 2))
MISCONDUCT_OUTCOMES = (("confirmed", 4), ("unfounded", 5), ("referred", 2))
ANSWERS = {
    OBSTACLE: {"today": "Demo: ett hinder i vardagen. / A demo obstacle.",
               "change": "Demo: vad som borde ändras. / What should change."},
    MISCONDUCT: {"what": "Demo: ett missförhållande. / A demo report."},
}


def _pick(rng: random.Random, weighted) -> str:
    codes, weights = zip(*weighted)
    return rng.choices(codes, weights=weights)[0]


def seed_history(session: Session, settings: Settings, unit_ids: list[str], handler_for: dict[str, str],
                 today: dt.date) -> int:
    """Submit and work through the history cases; returns how many.
    Nobody will follow these up (their receipts are discarded at once), so
    their receipt keys use the light test cost, which keeps `make run` quick."""
    light = settings.with_overrides(argon2=Argon2Params.TEST)
    rng = random.Random(2019_1937)
    made = 0
    for quarter in quarters.last_ended(today, QUARTERS):
        start, end = quarters.start_of(quarter), quarters.end_of(quarter)
        days = (end - start).days
        for track, per_quarter in ((OBSTACLE, OBSTACLES_PER_QUARTER), (MISCONDUCT, MISCONDUCT_PER_QUARTER)):
            for _ in range(rng.randint(*per_quarter)):
                received = start + dt.timedelta(days=rng.randrange(days))
                _one_case(session, light, rng, track, received, unit_ids, handler_for[track], today)
                made += 1
    return made


def _one_case(session, settings, rng, track, received, unit_ids, handler_id, today) -> None:
    obstacle = track == OBSTACLE
    submitted = submission.submit(session, settings, submission.NewReport(
        track=track,
        category=rng.choices(OBSTACLE_CATEGORIES, weights=CATEGORY_WEIGHTS)[0] if obstacle
        else rng.choice(MISCONDUCT_CATEGORIES),
        chain_level=rng.choices(CHAIN_LEVELS, weights=CHAIN_WEIGHTS)[0] if obstacle else None,
        principle=rng.choice(PRINCIPLES) if obstacle and rng.random() < 0.6 else None,
        unit_id=rng.choice(unit_ids) if rng.random() < 0.8 else None,
        time_lost=rng.choice(TIME_LOST_RANGES) if obstacle else None,
        answers=ANSWERS[track], publish_consent=obstacle and rng.random() < 0.5,
    ), received_on=received)
    report = session.get(Report, submitted.report_id)
    dek = submitted.data_key
    # Most are acknowledged in time; some late, a few still waiting.
    acknowledged = received + dt.timedelta(days=rng.choice((1, 2, 2, 3, 4, 5, 6, 6, 7, 9, 12)))
    if acknowledged > today or rng.random() < 0.03:
        return
    workflow.transition(session, report, dek, STATUS_ACKNOWLEDGED, actor_user_id=handler_id, on=acknowledged)
    worked = acknowledged + dt.timedelta(days=rng.randint(2, 20))
    if worked > today:
        return
    workflow.transition(session, report, dek, STATUS_IN_PROGRESS, actor_user_id=handler_id, on=worked)
    if rng.random() < 0.15:  # left waiting: some become stale
        return
    closed = worked + dt.timedelta(days=rng.randint(5, 110))
    if closed > today:
        return
    outcome = _pick(rng, OBSTACLE_OUTCOMES if obstacle else MISCONDUCT_OUTCOMES)
    workflow.transition(session, report, dek, STATUS_CLOSED, actor_user_id=handler_id, on=closed, outcome=outcome)
    report.feedback_on = min(closed, worked + dt.timedelta(days=rng.randint(10, 100)))
    if outcome == OUTCOME_REMOVED:
        report.hours_saved_per_year = rng.choice((10, 20, 40, 40, 80, 120))
