"""What every template may use: the labels, date filters and the layout's
language switch and organisation name."""
from __future__ import annotations

from flask import Flask, request
from flask_babel import format_date, format_datetime, get_locale

from . import current_settings, labels
from .forms import LanguageForm
from .i18n import LANGUAGE_NAMES


def init_app(app: Flask) -> None:
    app.jinja_env.globals["labels"] = labels
    app.jinja_env.filters["format_date"] = lambda day: format_date(day, "long") if day else ""
    # Staff-side timestamps only (audit); reporter-side data has dates alone.
    app.jinja_env.filters["format_datetime"] = lambda moment: format_datetime(moment, "short") if moment else ""
    app.context_processor(_layout_context)


def _layout_context():
    return {
        "organisation_name": current_settings().organisation_name,
        "language_form": LanguageForm(formdata=None, next=request.full_path.rstrip("?")),
        "language_names": LANGUAGE_NAMES,
        "current_language": str(get_locale()),
    }
