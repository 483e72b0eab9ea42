"""What the admin pages say when organisation.setup refuses a change: one
translated message per SetupRefused code."""
from __future__ import annotations

from flask_babel import gettext as _

from ...domain import retention
from ...domain import names
from ...organisation import setup


def message(code: str, track: str | None = None) -> str:
    if code == setup.RETENTION_TOO_LONG:
        return _("At most %(max)d months for this kind of report.", max=retention.longest(track or ""))
    return {
        setup.NAME_TAKEN: _("That name is already used. Choose another."),
        setup.RULE_EXISTS: _("A rule for exactly this kind of report exists already. Delete it first."),
        names.LOOKALIKE: _("That name looks like one already in use: reporters, and whoever confirms keys, "
                           "could take one for the other. Choose one that differs clearly (for a person, add "
                           "a middle name or an initial)."),
        names.MIXED_SCRIPTS: _("Write each word in one alphabet: a name that mixes, say, Latin and Cyrillic "
                               "letters can look like another."),
    }.get(code, _("That choice is not available. Choose one from the list."))
