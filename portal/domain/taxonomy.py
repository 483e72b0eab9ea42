"""The fixed vocabularies of the portal, each code declared once here.

Codes only; their translated labels live in portal/web/labels.py so that this
module stays free of Flask. Codes are stored (in clear, or for answers as part
of each ciphertext's label), so changing one needs a data migration.
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

OUTCOME_REMOVED = "removed"
# How a case may be closed, per track: an obstacle is removed or not, a
# misconduct report is substantiated or not.
OUTCOMES_BY_TRACK = {
    OBSTACLE: (OUTCOME_REMOVED, "changed", "explained", "referred", "not_actionable"),
    MISCONDUCT: ("confirmed", "unfounded", "referred", "not_actionable"),
}
OUTCOMES = tuple(dict.fromkeys(OUTCOMES_BY_TRACK[OBSTACLE] + OUTCOMES_BY_TRACK[MISCONDUCT]))

# The free-text answers of each report form, in the order they are asked.
ANSWER_TODAY = "today"
ANSWER_CHANGE = "change"
ANSWER_WHAT = "what"
ANSWER_WHEN = "when"
ANSWER_WHO = "who"
ANSWER_EVIDENCE = "evidence"
ANSWER_CONTACT = "contact"
ANSWER_FIELDS = {
    OBSTACLE: (ANSWER_TODAY, ANSWER_CHANGE),
    MISCONDUCT: (ANSWER_WHAT, ANSWER_WHEN, ANSWER_WHO, ANSWER_EVIDENCE, ANSWER_CONTACT),
}
ANSWERS = ANSWER_FIELDS[OBSTACLE] + ANSWER_FIELDS[MISCONDUCT]

# Who wrote a dialogue entry, and what kind of entry it is.
AUTHOR_REPORTER = "reporter"
AUTHOR_HANDLER = "handler"
KIND_MESSAGE = "message"
KIND_MEETING_REQUEST = "meeting_request"
KIND_MINUTES = "minutes"
KIND_FEEDBACK = "feedback"
KIND_MINUTES_CONFIRMED = "minutes_confirmed"
MESSAGE_KINDS = (KIND_MESSAGE, KIND_MEETING_REQUEST, KIND_MINUTES, KIND_FEEDBACK, KIND_MINUTES_CONFIRMED)
# What a handler may write; the other kinds come from the reporter.
HANDLER_KINDS = (KIND_MESSAGE, KIND_FEEDBACK, KIND_MINUTES)

ROLE_HANDLER = "handler"
ROLE_ADMIN = "admin"
ROLE_VIEWER = "viewer"
ROLES = (ROLE_HANDLER, ROLE_ADMIN, ROLE_VIEWER)


def dates_locale(language: str) -> str:
    """The locale dates are written in: English as readers in Europe write
    it (2 December 2026), not in the US order of Babel's plain "en"."""
    return "en_GB" if language == "en" else language
