"""The removed-obstacles page (public unless PORTAL_INSIGHTS_PUBLIC=0),
leadership trends (staff) and the open data."""
from __future__ import annotations

from flask import Response, jsonify, render_template
from flask_babel import force_locale, get_locale

from ...insights import charts, names, open_data, releases, summary
from ...organisation import thresholds
from ...reports import stories
from ...web import current_settings, db, labels
from ...web.templating import quarter_label
from ...web.staff_access import FIGURES, LEADERSHIP, level
from . import bp


def _settings():
    """The configuration with the thresholds an admin set (never below it)."""
    return thresholds.applied(db.session(), current_settings())


def _method(settings) -> list[str]:
    return [str(text) % {"k": settings.k_anonymity - 1, "k_misconduct": settings.k_anonymity_misconduct - 1}
            for text in labels.INSIGHT_METHOD]


def _page(template: str, quarters: list[str], years, found, *, leadership: bool):
    settings = _settings()
    page = summary.build(found, quarters, years, leadership=leadership)
    removed_chart = charts.columns([(quarter_label(q, short=True), [received, removed])
                                    for q, received, removed in page.removed_by_quarter])
    chain = page.breakdowns["chain_level"]
    chain_chart = charts.rows([(str(labels.CHAIN_LEVELS.get(code, code)), counts[-1]) for code, counts in chain.rows]) \
        if chain.rows else None
    return render_template(template, page=page, removed_chart=removed_chart, chain_chart=chain_chart,
                           status_rows=summary.status_rows(page.status), method=_method(settings),
                           released=open_data.latest_release(found),
                           stories=stories.published(db.session(), str(get_locale()), summary.story_cells(found)),
                           unit_names=names.units(db.session()),
                           k_misconduct=settings.k_anonymity_misconduct)


@bp.get("")
@level(FIGURES)
def index():
    found, ended, years = releases.current(db.session(), _settings())
    return _page("insights/index.html", ended[-summary.PUBLIC_QUARTERS:], years, found, leadership=False)


@bp.get("/trends")
@level(LEADERSHIP)
def trends():
    found, ended, years = releases.current(db.session(), _settings())
    return _page("insights/trends.html", ended, years, found, leadership=True)


def _document():
    settings = _settings()
    found, _ended, _years = releases.current(db.session(), settings)
    method = {}
    for language in settings.languages:
        with force_locale(language):
            method[language] = " ".join(_method(settings))
    return found, method


@bp.get("/data.json")
@level(FIGURES)
def data_json():
    settings = _settings()
    found, method = _document()
    return jsonify(open_data.document(found, k=settings.k_anonymity, k_misconduct=settings.k_anonymity_misconduct,
                                      method=method, released=open_data.latest_release(found)))


@bp.get("/data.csv")
@level(FIGURES)
def data_csv():
    found, _method_text = _document()
    return Response(open_data.as_csv(found), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=tillit-insights.csv"})
