"""Forms shared by every blueprint."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField


class LanguageForm(FlaskForm):
    """The language switch: a POST with one button per language."""

    next = HiddenField()
