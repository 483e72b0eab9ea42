"""The fixed vocabularies stored in clear: tracks, categories, statuses, outcomes.

Codes only; their translated labels live in portal/labels.py so that this
module stays free of Flask. Changing a code needs a data migration.
"""
from __future__ import annotations

OBSTACLE = "obstacle"
MISCONDUCT = "misconduct"
TRACKS = (OBSTACLE, MISCONDUCT)

OBSTACLE_CATEGORIES = (
    "unnecessary_control",
    "reporting_burden",
    "administrative_burden",
    "conflicting_rules",
    "it_systems",
    "missing_support",
    "other",
)
MISCONDUCT_CATEGORIES = (
    "corruption",
    "fraud",
    "safety_environment",
    "breach_of_law",
    "harassment",
    "other",
)
CATEGORIES = {OBSTACLE: OBSTACLE_CATEGORIES, MISCONDUCT: MISCONDUCT_CATEGORIES}

# Where in the governance chain an obstacle comes from.
CHAIN_LEVELS = (
    "political",
    "management",
    "staff_functions",
    "supervisory_authority",
    "standard_setting_body",
    "cooperating_party",
    "laws_regulations",
    "own_unit",
    "unknown",
)

# Guiding principles of trust-based governance that an obstacle may hinder.
PRINCIPLES = (
    "trust",
    "citizen_focus",
    "holistic_view",
    "room_to_act",
    "support",
    "knowledge",
    "openness",
)

TIME_LOST_RANGES = ("lt1", "1to3", "3to8", "gt8")

STATUS_NEW = "new"
STATUS_ACKNOWLEDGED = "acknowledged"
STATUS_IN_PROGRESS = "in_progress"
STATUS_CLOSED = "closed"
STATUSES = (STATUS_NEW, STATUS_ACKNOWLEDGED, STATUS_IN_PROGRESS, STATUS_CLOSED)

OUTCOMES = (
    "removed",
    "changed",
    "explained",
    "referred",
    "not_actionable",
    "confirmed",
    "unfounded",
)

# Who wrote a dialogue entry, and what kind of entry it is.
AUTHOR_REPORTER = "reporter"
AUTHOR_HANDLER = "handler"
MESSAGE_KINDS = ("message", "meeting_request", "minutes", "feedback", "minutes_confirmed")

ROLES = ("handler", "admin", "viewer")
