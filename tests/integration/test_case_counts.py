"""The maintained case counts (models/case_counts.py) the inbox totals come
from: after every kind of change they equal a count of the cases
themselves; concurrent submissions are all counted; and counts a database
writer changed come right at the next purge run."""
import datetime as dt
import threading

from sqlalchemy import func, select, update

from portal.domain.taxonomy import STATUS_ACKNOWLEDGED, STATUS_CLOSED, STATUS_IN_PROGRESS, STATUSES, TRACKS
from portal.models import CaseCount, Exclusion, KeyGrant, Report
from portal.models.case_counts import EVERY_CASE
from portal.reports import grants, retention, workflow
from portal.reports.inbox import InboxFilter, _count_visible, _filter_conditions, _total, waiting_for_access
from portal.staff.accounts import create_user
from support import HANDLER_PASSWORD, new_report, run_at_once, seed_channels


def _kept(session) -> dict:
    rows = session.execute(select(CaseCount.channel_id, CaseCount.track, CaseCount.status,
                                  CaseCount.excluded_user_id, func.sum(CaseCount.cases))
                           .group_by(CaseCount.channel_id, CaseCount.track, CaseCount.status,
                                     CaseCount.excluded_user_id))
    return {(c, t, s, u): n for c, t, s, u, n in rows if n}


def _counted(session) -> dict:
    """The same counts from the cases themselves: all, and those excluding each handler."""
    placed = Report.channel_id.is_not(None)
    every = session.execute(select(Report.channel_id, Report.track, Report.status, func.count()).where(placed)
                            .group_by(Report.channel_id, Report.track, Report.status))
    excluding = session.execute(
        select(Report.channel_id, Report.track, Report.status, Exclusion.user_id, func.count())
        .join(Exclusion, Exclusion.report_id == Report.id).where(placed)
        .group_by(Report.channel_id, Report.track, Report.status, Exclusion.user_id))
    return {**{(c, t, s, EVERY_CASE): n for c, t, s, n in every}, **{(c, t, s, u): n for c, t, s, u, n in excluding}}


def _open_flags_right(session) -> bool:
    return all(grant.case_open == (session.get(Report, grant.report_id).status != STATUS_CLOSED)
               for grant in session.scalars(select(KeyGrant)))


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
            live = _count_visible(session, user, _filter_conditions(f, today), 10**9)
            assert _total(session, user, f, today) == (live, True), f


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

    # A newcomer waits for every case of the channel; only the open ones are counted.
    erik = create_user(db_session, settings, username="erik", display_name="Erik", password=HANDLER_PASSWORD,
                       roles={"handler"}).user
    assert grants.add_member(db_session, world["improvement"], erik) == 7
    db_session.commit()
    reopened = db_session.get(Report, made[3].report_id)
    workflow.transition(db_session, reopened, made[3].data_key, STATUS_IN_PROGRESS, actor_user_id=anna.id)
    db_session.commit()
    assert _open_flags_right(db_session)
    open_in_channel = db_session.scalar(select(func.count()).select_from(Report).where(
        Report.channel_id == world["improvement"].id, Report.status != STATUS_CLOSED))
    assert waiting_for_access(db_session, erik) == open_in_channel == 6
    workflow.transition(db_session, reopened, made[3].data_key, STATUS_CLOSED, outcome="removed",
                        actor_user_id=anna.id, on=dt.date(2020, 1, 10))
    db_session.commit()
    assert _open_flags_right(db_session) and waiting_for_access(db_session, erik) == 5
    assert _kept(db_session) == _counted(db_session)

    closed = made[3].report_id
    assert retention.shred(db_session, closed, today)
    db_session.commit()
    db_session.expire_all()  # the claim updated the row in bulk
    assert db_session.get(Report, closed).channel_id is None
    assert _kept(db_session) == _counted(db_session)
    _totals_agree(db_session, world, today)

    excluding = db_session.get(Report, made[5].report_id)  # excludes anna: her count goes too
    for step in (STATUS_ACKNOWLEDGED, STATUS_CLOSED):
        workflow.transition(db_session, excluding, made[5].data_key, step, actor_user_id=carin.id,
                            outcome="removed" if step == STATUS_CLOSED else None, on=dt.date(2020, 1, 10))
    db_session.commit()
    assert _kept(db_session) == _counted(db_session)
    assert retention.shred(db_session, made[5].report_id, today)
    db_session.commit()
    db_session.expire_all()
    assert _kept(db_session) == _counted(db_session)
    _totals_agree(db_session, world, today)
    # Review finding: shards summing to 0 still named anna, row by row, as
    # excluded from a case of that channel and track (acknowledged, closed)
    # after the case was gone. Left: one row for made[6], new, excluding her.
    naming = db_session.execute(select(CaseCount.status, CaseCount.cases)
                                .where(CaseCount.excluded_user_id == anna.id)).all()
    assert sorted(naming) == [("new", 1)]


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
    run_at_once(threads, timeout=120)
    assert errors == []
    db_session.expire_all()
    assert _kept(db_session) == _counted(db_session) == {(world["improvement"].id, "obstacle", "new", EVERY_CASE): 18}


def test_counts_a_database_writer_changed_come_right_at_the_next_purge(app, db_session, settings):
    world = seed_channels(db_session, settings)
    for _ in range(4):
        new_report(db_session, settings)
    anna = world["handlers"]["anna"]
    db_session.execute(update(CaseCount).values(cases=1000))
    db_session.execute(update(KeyGrant).values(case_open=False))
    db_session.commit()
    assert _total(db_session, anna, InboxFilter(), dt.date.today())[0] > 4
    result = app.test_cli_runner().invoke(args=["portal", "purge"])
    assert result.exit_code == 0, result.output
    db_session.expire_all()
    assert _kept(db_session) == _counted(db_session)
    assert _total(db_session, anna, InboxFilter(), dt.date.today()) == (4, True)

