"""Two requests appending to one case at once (found by bench/load.py: two
handlers answering the same case got a 500). The second waits for the
first and appends after it: both entries are kept, in order, and the chain
verifies; a status change the first has made already is refused to the
second, not recorded twice."""
import threading

import pytest
from sqlalchemy import func, select

from portal.domain.cases import TransitionError
from portal.domain.taxonomy import AUTHOR_HANDLER, AUTHOR_REPORTER, STATUS_ACKNOWLEDGED
from portal import audit
from portal.models import Message, Report, ReportKey, StatusEvent
from portal.reports import chains, dialogue, workflow
from support import new_report, run_at_once, seed_channels

HOLD_SECONDS = 0.5  # how long the first keeps its transaction open after appending


def _race(app, report_id, first, second):
    """`first(session, report)` appends and keeps its transaction open for a
    moment; `second` starts once first has appended. Returns what each raised."""
    sessionmaker = app.extensions["tillit.db"].sessionmaker
    appended, errors = threading.Event(), {}

    def run(name, action, before, after):
        session = sessionmaker()
        try:
            report = session.get(Report, report_id)  # read before the other appends: stale by then
            before()
            action(session, report)
            after()
            session.commit()
        except Exception as error:  # noqa: BLE001  (asserted on below)
            errors[name] = error
            session.rollback()
        finally:
            session.close()

    threads = [threading.Thread(target=run, args=("first", first, lambda: None,
                                                  lambda: (appended.set(), threading.Event().wait(HOLD_SECONDS)))),
               threading.Thread(target=run, args=("second", second, lambda: appended.wait(10), lambda: None))]
    run_at_once(threads, timeout=60)
    return errors


@pytest.fixture
def case(app, db_session, settings):
    world = seed_channels(db_session, settings)
    submitted = new_report(db_session, settings)
    return submitted, world["handlers"]["anna"]


def test_two_answers_at_once_are_both_kept_in_order_and_the_chain_verifies(app, db_session, case):
    submitted, anna = case

    def handler_answers(session, report):
        dialogue.post_message(session, report, submitted.data_key, author=AUTHOR_HANDLER, body="From the handler",
                              author_user_id=anna.id)

    def reporter_answers(session, report):
        dialogue.post_message(session, report, submitted.data_key, author=AUTHOR_REPORTER, body="From the reporter")

    assert _race(app, submitted.report_id, handler_answers, reporter_answers) == {}
    db_session.expire_all()
    messages = list(db_session.scalars(select(Message).where(Message.report_id == submitted.report_id)
                                       .order_by(Message.seq)))
    assert [(m.seq, m.author) for m in messages] == [(1, AUTHOR_HANDLER), (2, AUTHOR_REPORTER)]
    report = db_session.get(Report, submitted.report_id)
    checked = chains.check(report, submitted.data_key, chains.DIALOGUE, messages, chained=True)
    assert checked.intact, (checked, report.sealed)


def test_the_same_status_change_at_once_is_made_once(app, db_session, case):
    submitted, anna = case

    def acknowledge(session, report):
        workflow.transition(session, report, submitted.data_key, STATUS_ACKNOWLEDGED, actor_user_id=anna.id)

    errors = _race(app, submitted.report_id, acknowledge, acknowledge)
    assert set(errors) == {"second"} and isinstance(errors["second"], TransitionError)
    db_session.expire_all()
    events = list(db_session.scalars(select(StatusEvent).where(StatusEvent.report_id == submitted.report_id)
                                     .order_by(StatusEvent.seq)))
    assert [e.status for e in events].count(STATUS_ACKNOWLEDGED) == 1
    report = db_session.get(Report, submitted.report_id)
    assert chains.check(report, submitted.data_key, chains.TIMELINE, events, chained=True).intact


def _newcomer_waiting_for_keys(db_session, settings):
    """Elin joins the improvement channel with a signed key of her own: a
    grant waits for her on each of its cases."""
    from portal.models import Channel
    from portal.reports import grants
    from portal.staff.accounts import create_user
    from support import HANDLER_PASSWORD, anchor_user, make_own_keys

    elin = create_user(db_session, settings, username="elin", display_name="Elin", password=HANDLER_PASSWORD,
                       roles={"handler"}).user
    db_session.flush()
    make_own_keys(db_session, settings, elin)
    grants.add_member(db_session, db_session.scalar(select(Channel).where(Channel.track == "obstacle")), elin)
    anchor_user(db_session, settings, elin)
    db_session.commit()
    return elin


def test_a_grant_approval_over_many_cases_and_a_colleagues_work_on_them_both_succeed(app, db_session, settings):
    """Review finding (PostgreSQL): approving a newcomer's access to many
    cases holds an audit lane while it inserts keys for case after case; a
    colleague acknowledging one of them held the case FOR UPDATE (which
    blocks those inserts) and then waited for the same lane: a deadlock,
    and one of the two got a 500."""
    import random

    from portal.models import User
    from portal.reports import grants
    from support import make_own_keys

    world = seed_channels(db_session, settings)
    made = [new_report(db_session, settings) for _ in range(40)]
    keys = {m.report_id: m.data_key for m in made}
    anna = world["handlers"]["anna"]
    anna_key = make_own_keys(db_session, settings, anna)
    elin = _newcomer_waiting_for_keys(db_session, settings)
    ids = {"anna": anna.id, "elin": elin.id, "bjorn": world["handlers"]["bjorn"].id}
    sessionmaker = app.extensions["tillit.db"].sessionmaker
    errors, start = [], threading.Barrier(2)

    def approve():
        session = sessionmaker()
        try:
            start.wait()
            grants.approve(session, settings, session.get(User, ids["anna"]), anna_key,
                           session.get(User, ids["elin"]))
            session.commit()
        except Exception as error:  # noqa: BLE001  (asserted on below)
            errors.append(("approve", error))
            session.rollback()
        finally:
            session.close()

    order = list(keys)
    random.Random(3).shuffle(order)

    def acknowledge():
        start.wait()
        for report_id in order[:20]:
            session = sessionmaker()
            try:
                workflow.transition(session, session.get(Report, report_id), keys[report_id], STATUS_ACKNOWLEDGED,
                                    actor_user_id=ids["bjorn"])
                session.commit()
            except Exception as error:  # noqa: BLE001
                errors.append(("acknowledge", error))
                session.rollback()
            finally:
                session.close()

    threads = [threading.Thread(target=approve), threading.Thread(target=acknowledge)]
    run_at_once(threads, timeout=120)
    assert errors == []
    db_session.expire_all()
    assert {db_session.get(Report, i).status for i in order[:20]} == {STATUS_ACKNOWLEDGED}
    assert db_session.scalar(select(func.count()).select_from(ReportKey).where(ReportKey.user_id == ids["elin"])) \
        == len(keys)
    assert audit.verify(db_session) is None


def test_two_key_holders_approving_one_colleague_at_once_both_succeed(app, db_session, settings, monkeypatch):
    """Re-review finding (PostgreSQL): both holders re-wrapped the same
    cases; the second's key insert waited for the first's, then hit the
    unique key (a 500), or they deadlocked. The grants are locked first, in
    one order: the second waits, then finds them done."""
    import time

    from portal.models import User
    from portal.reports import grants
    from support import make_own_keys

    world = seed_channels(db_session, settings)
    holders = {name: world["handlers"][name] for name in ("anna", "bjorn")}
    private = {name: make_own_keys(db_session, settings, user) for name, user in holders.items()}
    for _ in range(4):
        new_report(db_session, settings)
    elin = _newcomer_waiting_for_keys(db_session, settings)
    ids = {**{name: user.id for name, user in holders.items()}, "elin": elin.id}
    real = grants.may_receive
    monkeypatch.setattr(grants, "may_receive", lambda *args: (time.sleep(0.1), real(*args))[1])  # widen the race
    sessionmaker = app.extensions["tillit.db"].sessionmaker
    start, errors, done = threading.Barrier(2), [], {}

    def approve(name):
        session = sessionmaker()
        try:
            start.wait()
            done[name] = grants.approve(session, settings, session.get(User, ids[name]), private[name],
                                        session.get(User, ids["elin"]))
            session.commit()
        except Exception as error:  # noqa: BLE001  (asserted on below)
            errors.append((name, error))
            session.rollback()
        finally:
            session.close()

    run_at_once([threading.Thread(target=approve, args=(name,)) for name in holders])
    assert errors == []
    assert sum(done.values()) == 4
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(ReportKey).where(ReportKey.user_id == ids["elin"])) == 4
    assert audit.verify(db_session) is None
