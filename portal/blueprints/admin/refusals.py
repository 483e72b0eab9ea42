"""What the admin pages say when organisation.setup refuses a change: one
translated message per SetupRefused code."""
from __future__ import annotations

from flask_babel import gettext as _

from ...domain import retention
from ...organisation import setup


def message(code: str, track: str | None = None) -> str:
    if code == setup.RETENTION_TOO_LONG:
        return _("At most %(max)d months for this kind of report.", max=retention.longest(track or ""))
    return {
        setup.NAME_TAKEN: _("That name is already used. Choose another."),
        setup.RULE_EXISTS: _("A rule for exactly this kind of report exists already. Delete it first."),
    }.get(code, _("That choice is not available. Choose one from the list."))
