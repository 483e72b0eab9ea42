"""Dates read as people in Sweden and Europe write them, in both languages."""
import datetime as dt

import pytest


@pytest.mark.parametrize(("language", "expected"), [("en", "2 December 2026"), ("sv", "2 december 2026")])
def test_dates_are_written_day_month_year(app, language, expected):
    with app.test_request_context("/", headers={"Accept-Language": language}):
        shown = app.jinja_env.from_string("{{ day | format_date }}").render(day=dt.date(2026, 12, 2))
    assert shown == expected
