"""The statistics tables counted from real cases, frozen per ended quarter,
and what a revision may change."""
import datetime as dt
import json

from sqlalchemy import select

from portal.domain.disclosure import HIDDEN
from portal.insights import releases
from portal.models import Report, StatsRelease
from portal.reports import submission, workflow
from support import seed_channels

TODAY = dt.date(2026, 12, 2)  # in 2026-Q4: 2026-Q3 is the last ended quarter


def make_case(session, settings, received_on, category="it_systems", *, outcome=None, closed_on=None,
              track="obstacle", chain_level="management", principle=None):
    submitted = submission.submit(session, settings, submission.NewReport(
        track=track, category=category, chain_level=chain_level, principle=principle,
        answers={"today": "x", "change": "y"} if track == "obstacle" else {"what": "x"}), received_on=received_on)
    report = session.get(Report, submitted.report_id)
    if outcome:
        workflow.transition(session, report, submitted.data_key, "acknowledged", on=received_on + dt.timedelta(days=2))
        workflow.transition(session, report, submitted.data_key, "closed", outcome=outcome, on=closed_on)
    return report


def test_a_quarter_is_counted_protected_and_frozen(app, db_session, settings):
    seed_channels(db_session, settings)
    day = dt.date(2026, 7, 6)
    for _ in range(3):  # three removed IT obstacles: below k, hidden
        make_case(db_session, settings, day, "it_systems", outcome="removed", closed_on=dt.date(2026, 8, 1))
    for _ in range(9):
        make_case(db_session, settings, day, "reporting_burden", outcome="explained", closed_on=dt.date(2026, 8, 3))
    for _ in range(12):
        make_case(db_session, settings, day, "other")
    db_session.commit()

    found = releases.ensure(db_session, settings, TODAY)
    db_session.commit()
    category = found[("2026-Q3", "category")].partition()
    assert category.total == 24 and category.cells["other"] == 12
    assert category.cells["it_systems"] is HIDDEN and category.cells["reporting_burden"] is HIDDEN
    outcome = found[("2026-Q3", "outcome")].partition()
    assert outcome.cells["removed"] is HIDDEN and outcome.total == 12
    assert found[("2026-Q3", "outcome")].extras["hours_saved"] is None  # removed hidden: so are its hours
    assert found[("2026-Q3", "category")].extras["median_ack_days"] == 2.0
    status = found[("2026-Q3", "status")].partition()
    # Removed this quarter rests on the outcome table's hidden 3: the
    # snapshot is hidden whole, but for its total and a known zero.
    assert status.total == 24 and status.hidden == {"new", "in_progress", "stale", "removed_recently",
                                                    "closed_other"}
    assert status.cells["removed_earlier"] == 0  # nothing closed before Q3: a known zero
    # Frozen: a late change does not alter what was published...
    rows_before = {r.table_name: r.cells_json for r in db_session.scalars(select(StatsRelease))}
    make_case(db_session, settings, day, "it_systems")
    db_session.commit()
    again = releases.ensure(db_session, settings, TODAY)
    assert again[("2026-Q3", "category")].partition() == category
    assert {r.table_name: r.cells_json for r in db_session.scalars(select(StatsRelease))} == rows_before


def test_a_revision_is_published_only_if_it_hides_the_same_cells(app, db_session, settings):
    seed_channels(db_session, settings)
    day = dt.date(2026, 8, 10)
    for category, n in (("it_systems", 3), ("reporting_burden", 6), ("other", 10)):
        for _ in range(n):
            make_case(db_session, settings, day, category)
    db_session.commit()
    releases.ensure(db_session, settings, TODAY)
    db_session.commit()
    # One more "other": the same cells stay hidden, so the revision is published.
    make_case(db_session, settings, day, "other")
    db_session.commit()
    assert releases.refresh(db_session, settings) >= 1
    db_session.commit()
    category = releases.load(db_session)[("2026-Q3", "category")]
    assert category.partition().cells["other"] == 11 and category.partition().total == 20
    # Two more IT obstacles make it 5, but it stays hidden with the same
    # cells: the releases differ only in the hidden cells' sum.
    for _ in range(2):
        make_case(db_session, settings, day, "it_systems")
    db_session.commit()
    releases.refresh(db_session, settings)
    db_session.commit()
    category = releases.load(db_session)[("2026-Q3", "category")].partition()
    assert category.cells["it_systems"] is HIDDEN and category.total == 22
    # Rows lost (as a purge would): "other" drops to 3 and could only be
    # shown... hidden, which the frozen release did not hide. It stays as it was.
    for report in db_session.scalars(select(Report).where(Report.category == "other")).all()[:8]:
        db_session.delete(report)
    db_session.commit()
    releases.refresh(db_session, settings)  # other tables may be revised; this one may not
    db_session.commit()
    assert releases.load(db_session)[("2026-Q3", "category")].partition() == category
    row = db_session.scalar(select(StatsRelease).where(StatsRelease.table_name == "category",
                                                       StatsRelease.quarter == "2026-Q3"))
    assert json.loads(row.cells_json)["revisions"] == 2


def test_misconduct_is_counted_by_year_with_its_own_k(app, db_session, settings):
    seed_channels(db_session, settings)
    for _ in range(9):
        make_case(db_session, settings, dt.date(2025, 3, 3), "fraud", track="misconduct", chain_level=None)
    db_session.commit()
    found = releases.ensure(db_session, settings, TODAY)
    assert found[("2025", "misconduct_received")].partition().total is HIDDEN  # 9 < 10
    assert ("2025-Q1", "category") in found and found[("2025-Q1", "category")].partition().total == 0


def test_three_removed_obstacles_of_a_kind_are_hidden_on_the_page_in_json_and_csv(app, db_session, settings,
                                                                                   monkeypatch):
    """Acceptance test of issue 12: and the totals do not give them away."""
    import csv
    import io

    from support import FormClient

    seed_channels(db_session, settings)
    day, closed = dt.date(2026, 7, 6), dt.date(2026, 8, 20)
    for category, n in (("it_systems", 3), ("reporting_burden", 8), ("administrative_burden", 11)):
        for _ in range(n):
            make_case(db_session, settings, day, category, outcome="removed", closed_on=closed)
    db_session.commit()
    client = FormClient(app.test_client())

    monkeypatch.setattr(releases, "today_", lambda: TODAY)
    data = client.get("/insights/data.json").get_json()
    text = client.get("/insights/data.csv").get_data(as_text=True)
    page = client.get("/insights", headers={"Accept-Language": "en"}).get_data(as_text=True)
    removed = {r["value"]: r["count"] for r in data["rows"]
               if r["table"] == "removed_category" and r["period"] == "2026-Q3"}
    assert removed["it_systems"] == "suppressed" and removed["total"] == 22
    assert removed["reporting_burden"] == "suppressed"  # so that 22 - 11 - 8 cannot be done
    assert removed["administrative_burden"] == 11
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    it_row = next(r for r in rows if r["table"] == "removed_category" and r["period"] == "2026-Q3"
                  and r["value"] == "it_systems")
    assert it_row["count"] == "suppressed"
    assert data["k"] == settings.k_anonymity and data["method"]["en"]
    status = {r["value"]: r["count"] for r in data["rows"] if r["table"] == "status" and r["period"] == "2026-Q3"}
    assert status["removed_recently"] == 22 and status["total"] == 22  # rests on a shown 22: shown
    # On the page: the removed-by-kind table shows ".." for IT and never a 3.
    table = page[page.index("Obstacles removed, by kind"):]
    table = table[:table.index("</table>")]
    it_cell = table[table.index("IT and systems"):]
    assert it_cell.split("</tr>")[0].count("..") >= 1 and ">3<" not in table


def test_the_refresh_job_freezes_and_revises(app, db_session, settings):
    seed_channels(db_session, settings)
    for _ in range(6):
        make_case(db_session, settings, dt.date(2025, 2, 3), "other")
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["portal", "insights-refresh"])
    assert result.exit_code == 0 and "revised: 0" in result.output
    assert db_session.scalar(select(StatsRelease).where(StatsRelease.quarter == "2025-Q1",
                                                        StatsRelease.table_name == "category")) is not None


def test_misconduct_outcomes_count_the_years_own_reports(app, db_session, settings):
    """Review finding: closings counted by the year they happened (15 in
    2025) exceeded the year's receipts (13) and told a hidden 2024 count.
    Now the outcome table splits the same reports as the received table."""
    seed_channels(db_session, settings)
    for _ in range(4):  # received in 2024, closed in 2025
        make_case(db_session, settings, dt.date(2024, 11, 4), "fraud", track="misconduct", chain_level=None,
                  outcome="confirmed", closed_on=dt.date(2025, 2, 3))
    for n in range(12):
        make_case(db_session, settings, dt.date(2025, 3, 3), "fraud", track="misconduct", chain_level=None,
                  outcome="unfounded" if n < 8 else None, closed_on=dt.date(2025, 6, 2) if n < 8 else None)
    db_session.commit()
    found = releases.ensure(db_session, settings, TODAY)
    received = found[("2025", "misconduct_received")].partition()
    outcomes = found[("2025", "misconduct_outcome")].partition()
    assert received.total == outcomes.total == 12
    assert outcomes.cells["open"] is HIDDEN or outcomes.cells["open"] == 4
    assert found[("2024", "misconduct_received")].partition().total is HIDDEN  # 4 < 10
    assert found[("2024", "misconduct_outcome")].partition().total is HIDDEN


def test_every_unit_is_a_cell_protected_like_any_other(app, db_session, settings):
    """Review finding: merging small units per quarter named a different set
    of units each quarter, and a reader who knew the unit list could bound
    a merged unit to 2..4. Now every unit is a cell of its own, and a small
    one is hidden with a zero beside it, so hidden does not mean "some"."""
    from portal.models import Unit

    seed_channels(db_session, settings)
    big, small, quiet = Unit(name="Big"), Unit(name="Small"), Unit(name="Quiet")
    db_session.add_all([big, small, quiet])
    db_session.flush()
    day = dt.date(2026, 8, 3)
    for unit_id, n in ((big.id, 7), (small.id, 2), (None, 9)):
        for _ in range(n):
            make_case(db_session, settings, day, "other").unit_id = unit_id
    db_session.commit()
    units = releases.ensure(db_session, settings, TODAY)[("2026-Q3", "unit")].partition()
    assert {big.id, small.id, quiet.id, "no_unit"} <= set(units.cells) and units.total == 18
    assert units.cells[small.id] is HIDDEN and units.cells[quiet.id] is HIDDEN  # 2, and the zero beside it
    assert 2 not in units.cells.values()


def test_misconduct_outcomes_are_published_once_on_1_july_the_year_after(app, db_session, settings):
    """Review finding: cases only leave "still open", so an outcome that grew
    between revisions told what the hidden open cell had held. The outcomes
    of a year are counted once, on a fixed date, and never revised."""
    seed_channels(db_session, settings)
    cases = [make_case(db_session, settings, dt.date(2025, 3, 3), "fraud", track="misconduct", chain_level=None,
                       outcome="unfounded" if n < 8 else None, closed_on=dt.date(2025, 6, 2) if n < 8 else None)
             for n in range(14)]
    db_session.commit()
    early = releases.ensure(db_session, settings, dt.date(2026, 6, 30))
    assert ("2025", "misconduct_received") in early and ("2025", "misconduct_outcome") not in early
    first = releases.ensure(db_session, settings, dt.date(2026, 7, 1))[("2025", "misconduct_outcome")]
    assert first.partition().total == 14
    for report in cases[8:]:  # the rest close later: the release stays as it was
        report.status, report.outcome = "closed", "confirmed"
    db_session.commit()
    assert releases.refresh(db_session, settings) == 0
    assert releases.load(db_session)[("2025", "misconduct_outcome")].partitions == first.partitions


def test_misconduct_outcomes_count_how_cases_stood_on_30_june(app, db_session, settings):
    """Whenever the page is first opened after 1 July, the outcomes are the
    same: a case closed after 30 June counts as still open."""
    seed_channels(db_session, settings)
    for n in range(24):
        late = n >= 12
        make_case(db_session, settings, dt.date(2025, 4, 7), "fraud", track="misconduct", chain_level=None,
                  outcome="confirmed", closed_on=dt.date(2026, 8, 3) if late else dt.date(2026, 5, 4))
    db_session.commit()
    cells = releases.ensure(db_session, settings,
                            dt.date(2026, 10, 1))[("2025", "misconduct_outcome")].partition().cells
    assert cells["confirmed"] == 12 and cells["open"] == 12


def test_deadlines_are_counted_over_all_channels_not_per_channel(app, db_session, settings):
    """Review finding: a channel an admin routed one kind of report to had
    its acknowledgements published, and a shown channel's total gave the
    other's by subtraction: one IT report from the political level."""
    from portal.models import Channel

    seeded = seed_channels(db_session, settings)
    narrow = Channel(name="Narrow", track="obstacle")
    db_session.add(narrow)
    db_session.flush()
    day = dt.date(2026, 7, 6)
    make_case(db_session, settings, day, "it_systems", chain_level="political", outcome="removed",
              closed_on=dt.date(2026, 8, 3)).channel_id = narrow.id
    for _ in range(23):
        make_case(db_session, settings, day, "other", outcome="explained", closed_on=dt.date(2026, 8, 3))
    db_session.commit()
    deadlines = releases.ensure(db_session, settings, TODAY)[("2026-Q3", "acknowledgement")]
    assert set(deadlines.partitions) == {"obstacle"}
    assert deadlines.partition("obstacle").total == 24 and seeded["improvement"].id not in deadlines.partitions


def test_only_a_unit_choosable_all_through_a_quarter_is_a_cell_of_it(app, db_session, settings):
    """Review findings: a retired unit stayed a cell, known to be 0, and the
    rule's pattern pinned the hidden units beside it (Unit 2 and 3 were then
    in {1, 2, 5, 6}); a unit made and retired within one quarter did the
    same for that quarter. A quarter's cells are the units reporters could
    choose all through it; reports naming another count as naming none."""
    from portal.models import Unit

    seed_channels(db_session, settings)
    old = Unit(name="Gone", created_on=dt.date(2025, 1, 7), retired_on=dt.date(2026, 6, 30))
    brief = Unit(name="Brief", created_on=dt.date(2026, 7, 10), retired_on=dt.date(2026, 8, 20))
    leaving = Unit(name="Leaving", created_on=dt.date(2025, 3, 3), retired_on=dt.date(2026, 9, 29))
    later = Unit(name="Later", created_on=dt.date(2026, 10, 1))
    kept = Unit(name="Kept", created_on=dt.date(2026, 7, 1))
    db_session.add_all([old, brief, leaving, later, kept])
    db_session.flush()
    day = dt.date(2026, 8, 3)
    for unit_id in [kept.id] * 6 + [None] * 6 + [old.id, leaving.id]:  # old: only a database writer makes it
        make_case(db_session, settings, day, "other").unit_id = unit_id
    db_session.commit()
    units = releases.ensure(db_session, settings, TODAY)[("2026-Q3", "unit")].partition()
    assert not {old.id, brief.id, leaving.id, later.id} & set(units.cells)
    assert units.cells[kept.id] == 6 and units.cells["no_unit"] == 8 and units.total == 14
