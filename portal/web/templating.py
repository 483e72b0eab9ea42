"""What every template may use: the labels, date filters and the layout's
language switch and organisation name."""
from __future__ import annotations

import datetime as dt

from flask import Flask, request
from babel import dates as babel_dates
from flask_babel import format_decimal, format_percent, get_locale, gettext, to_user_timezone

from ..domain.taxonomy import dates_locale
from . import current_settings, labels
from .forms import LanguageForm
from .i18n import LANGUAGE_NAMES


def init_app(app: Flask) -> None:
    app.jinja_env.globals["labels"] = labels
    app.jinja_env.filters["format_date"] = format_date
    # Staff-side timestamps only (audit); reporter-side data has dates alone.
    app.jinja_env.filters["format_datetime"] = \
        lambda moment: babel_dates.format_datetime(to_user_timezone(moment), "short", locale=_dates()) if moment else ""
    app.jinja_env.filters["format_number"] = format_decimal
    app.jinja_env.filters["format_share"] = lambda share: format_percent(share, "#,##0 %")
    app.jinja_env.filters["format_quarter"] = quarter_label
    app.jinja_env.filters["format_iso_date"] = lambda text: format_date(dt.date.fromisoformat(text))
    app.jinja_env.filters["role_name"] = lambda role: labels.ROLES.get(role, role)
    app.context_processor(_layout_context)


def _dates() -> str:
    return dates_locale(str(get_locale()))


def format_date(day: dt.date | None) -> str:
    return babel_dates.format_date(day, "long", locale=_dates()) if day else ""


def quarter_label(code: str | None, short: bool = False) -> str:
    """"2026-Q3" as people write it: "Q3 2026" / "kv. 3 2026"; short: on two
    lines (quarter, then year), for chart axes with many quarters."""
    if not code:
        return ""
    year, number = code.split("-Q")
    label = gettext("Q%(number)s %(year)s", number=number, year="\n" + year if short else year)
    return label.replace(" \n", "\n")


def _layout_context():
    return {
        "organisation_name": current_settings().organisation_name,
        "language_form": LanguageForm(formdata=None, next=request.full_path.rstrip("?")),
        "language_names": LANGUAGE_NAMES,
        "current_language": str(get_locale()),
    }
