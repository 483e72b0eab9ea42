"""Two requests appending to one case at once (found by bench/load.py: two
handlers answering the same case got a 500). The second waits for the
first and appends after it: both entries are kept, in order, and the chain
verifies; a status change the first has made already is refused to the
second, not recorded twice."""
import threading

import pytest
from sqlalchemy import select

from portal.domain.cases import TransitionError
from portal.domain.taxonomy import AUTHOR_HANDLER, AUTHOR_REPORTER, STATUS_ACKNOWLEDGED
from portal.models import Message, Report, StatusEvent
from portal.reports import chains, dialogue, workflow
from support import new_report, seed_channels

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
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
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
