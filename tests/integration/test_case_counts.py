"""The maintained case counts (models/case_counts.py) the inbox totals come
from: after every kind of change they equal a count of the cases
themselves; concurrent submissions are all counted; and counts a database
writer changed come right at the next purge run."""
import datetime as dt
import threading

from sqlalchemy import func, select, update

from portal.domain.taxonomy import STATUS_ACKNOWLEDGED, STATUS_CLOSED, STATUS_IN_PROGRESS, STATUSES, TRACKS
from portal.models import CaseCount, Report
from portal.reports import retention, workflow
from portal.reports.inbox import InboxFilter, _count_visible, _filter_conditions, _total
from support import new_report, seed_channels


def _kept(session) -> dict:
    rows = session.execute(select(CaseCount.channel_id, CaseCount.track, CaseCount.status,
                                  func.sum(CaseCount.cases)).group_by(CaseCount.channel_id, CaseCount.track,
                                                                      CaseCount.status))
    return {(c, t, s): n for c, t, s, n in rows if n}


def _counted(session) -> dict:
    rows = session.execute(select(Report.channel_id, Report.track, Report.status, func.count())
                           .where(Report.channel_id.is_not(None))
                           .group_by(Report.channel_id, Report.track, Report.status))
    return {(c, t, s): n for c, t, s, n in rows}


def _filters(world):
    yield InboxFilter()
    for status in STATUSES:
        yield InboxFilter(status=status)
    for track in TRACKS:
        yield InboxFilter(track=track)
    for name in ("improvement", "whistle"):
        yield InboxFilter(channel_id=world[name].id)
        yield InboxFilter(channel_id=world[name].id, status="new")


def _totals_agree(session, world, today):
    for user in world["handlers"].values():
        for f in _filters(world):
            assert _total(session, user, f, today) == _count_visible(session, user, *_filter_conditions(f, today)), f


def test_counts_follow_submissions_status_changes_and_purges(app, db_session, settings):
    world = seed_channels(db_session, settings)
    anna, carin = world["handlers"]["anna"], world["handlers"]["carin"]
    made = [new_report(db_session, settings) for _ in range(5)]
    made += [new_report(db_session, settings, exclude=[anna.id]) for _ in range(2)]
    made += [new_report(db_session, settings, track="misconduct", category="fraud", exclude=[carin.id])
             for _ in range(3)]
    for submitted, target in zip(made, [STATUS_ACKNOWLEDGED, STATUS_IN_PROGRESS, STATUS_IN_PROGRESS,
                                        STATUS_CLOSED, STATUS_CLOSED]):
        report = db_session.get(Report, submitted.report_id)
        for step in {STATUS_ACKNOWLEDGED: [STATUS_ACKNOWLEDGED],
                     STATUS_IN_PROGRESS: [STATUS_ACKNOWLEDGED, STATUS_IN_PROGRESS],
                     STATUS_CLOSED: [STATUS_ACKNOWLEDGED, STATUS_CLOSED]}[target]:
            workflow.transition(db_session, report, submitted.data_key, step, actor_user_id=anna.id,
                                outcome="removed" if step == STATUS_CLOSED else None,
                                on=dt.date(2020, 1, 10) if step == STATUS_CLOSED else None)
    db_session.commit()
    today = dt.date.today()
    assert _kept(db_session) == _counted(db_session)
    _totals_agree(db_session, world, today)

    closed = made[3].report_id
    assert retention.shred(db_session, closed, today)
    db_session.commit()
    assert db_session.get(Report, closed).channel_id is None
    assert _kept(db_session) == _counted(db_session)
    _totals_agree(db_session, world, today)


def test_submissions_at_once_are_all_counted(app, db_session, settings):
    world = seed_channels(db_session, settings)
    sessionmaker = app.extensions["tillit.db"].sessionmaker
    start, errors = threading.Barrier(6), []

    def submit():
        session = sessionmaker()
        try:
            start.wait()
            for _ in range(3):
                new_report(session, settings)
        except Exception as error:  # noqa: BLE001  (asserted on below)
            errors.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    db_session.expire_all()
    assert _kept(db_session) == _counted(db_session) == {(world["improvement"].id, "obstacle", "new"): 18}


def test_counts_a_database_writer_changed_come_right_at_the_next_purge(app, db_session, settings):
    world = seed_channels(db_session, settings)
    for _ in range(4):
        new_report(db_session, settings)
    anna = world["handlers"]["anna"]
    db_session.execute(update(CaseCount).values(cases=1000))
    db_session.commit()
    assert _total(db_session, anna, InboxFilter(), dt.date.today()) > 4
    result = app.test_cli_runner().invoke(args=["portal", "purge"])
    assert result.exit_code == 0, result.output
    db_session.expire_all()
    assert _kept(db_session) == _counted(db_session)
    assert _total(db_session, anna, InboxFilter(), dt.date.today()) == 4
