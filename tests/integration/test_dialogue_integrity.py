"""The dialogue and the timeline are chains under the report's key: whatever a
database writer changes in them (author, kind, order, a removed, moved or
cut-off entry, a status) is flagged on the reporter's and the handler's
pages alike, and an untouched case is not."""
import pytest
from sqlalchemy import select, update

from portal.domain.taxonomy import AUTHOR_HANDLER, AUTHOR_REPORTER, KIND_FEEDBACK, STATUS_ACKNOWLEDGED
from portal.models import Message, Report, StatusEvent
from portal.reports import dialogue, workflow
from support import FormClient, enrol_totp, new_report, seed_channels, staff_login

EN = {"Accept-Language": "en"}
WARNING = "Parts of this case were changed outside the portal"


@pytest.fixture
def case(app, db_session, settings):
    world = seed_channels(db_session, settings)
    anna = world["handlers"]["anna"]
    secret = enrol_totp(db_session, settings, anna)
    submitted = new_report(db_session, settings)
    other = new_report(db_session, settings)
    report = db_session.get(Report, submitted.report_id)
    dek = submitted.data_key
    workflow.transition(db_session, report, dek, STATUS_ACKNOWLEDGED, actor_user_id=anna.id)
    for author, body in [(AUTHOR_HANDLER, "First from the handler"), (AUTHOR_REPORTER, "Second, my answer"),
                         (AUTHOR_HANDLER, "Third from the handler"), (AUTHOR_REPORTER, "Fourth, thanks")]:
        dialogue.post_message(db_session, report, dek, author=author, body=body,
                              author_user_id=anna.id if author == AUTHOR_HANDLER else None)
    db_session.commit()
    messages = {m.seq: m.id for m in db_session.scalars(select(Message).where(Message.report_id == report.id))}
    return {"submitted": submitted, "other": other, "messages": messages, "anna": anna, "secret": secret}


def pages(app, db_session, case):
    reporter = FormClient(app.test_client())
    reporter.post_form("/follow-up", {"receipt": case["submitted"].receipt})
    handler = FormClient(app.test_client())
    assert staff_login(handler, db_session, case["anna"], case["secret"]).status_code == 302
    return (reporter.get("/follow-up/case", headers=EN).get_data(as_text=True),
            handler.get(f"/handler/case/{case['submitted'].report_id}", headers=EN).get_data(as_text=True))


def test_an_untouched_case_verifies_on_both_sides(app, db_session, case):
    for html in pages(app, db_session, case):
        assert WARNING not in html and "could not be verified" not in html
        assert "Third from the handler" in html


def _message(db_session, case, seq):
    return db_session.get(Message, case["messages"][seq])


def tamper_author(db_session, case):
    _message(db_session, case, 1).author = AUTHOR_REPORTER


def tamper_kind(db_session, case):
    _message(db_session, case, 3).kind = KIND_FEEDBACK


def tamper_remove_middle(db_session, case):
    db_session.delete(_message(db_session, case, 2))


def tamper_swap(db_session, case):
    first, second = _message(db_session, case, 1), _message(db_session, case, 2)
    db_session.execute(update(Message).where(Message.id == first.id).values(seq=99))
    db_session.execute(update(Message).where(Message.id == second.id).values(seq=1))
    db_session.execute(update(Message).where(Message.id == first.id).values(seq=2))


def tamper_cut_the_end(db_session, case):
    db_session.delete(_message(db_session, case, 4))


def tamper_move_to_other_case(db_session, case):
    db_session.execute(update(Message).where(Message.id == case["messages"][3])
                       .values(report_id=case["other"].report_id, seq=1))


def tamper_date(db_session, case):
    import datetime as dt

    _message(db_session, case, 2).sent_on = dt.date(2020, 1, 1)


def tamper_status(db_session, case):
    event = db_session.scalars(select(StatusEvent).where(
        StatusEvent.report_id == case["submitted"].report_id, StatusEvent.seq == 2)).one()
    event.status = "closed"


def tamper_strip_the_seals(db_session, case):
    report = db_session.get(Report, case["submitted"].report_id)
    report.sealed, report.dialogue_head, report.timeline_head = 0, None, None
    for message in db_session.scalars(select(Message).where(Message.report_id == report.id)):
        message.chain_mac = None
    _message(db_session, case, 1).author = AUTHOR_REPORTER


@pytest.mark.parametrize("tamper", [tamper_author, tamper_kind, tamper_remove_middle, tamper_swap,
                                    tamper_cut_the_end, tamper_move_to_other_case, tamper_date, tamper_status,
                                    tamper_strip_the_seals], ids=lambda f: f.__name__)
def test_a_database_writers_change_is_flagged_on_both_sides(app, db_session, case, tamper):
    tamper(db_session, case)
    db_session.commit()
    reporter_page, handler_page = pages(app, db_session, case)
    assert WARNING in reporter_page, "reporter side"
    assert WARNING in handler_page, "handler side"


def test_a_message_moved_into_another_case_is_flagged_there_too(app, db_session, case):
    tamper_move_to_other_case(db_session, case)
    db_session.commit()
    reporter = FormClient(app.test_client())
    reporter.post_form("/follow-up", {"receipt": case["other"].receipt})
    html = reporter.get("/follow-up/case", headers=EN).get_data(as_text=True)
    assert WARNING in html and "could not be opened" in html and "Third from the handler" not in html


@pytest.mark.parametrize("chain", ["dialogue", "timeline"])
def test_adding_to_a_chain_cut_at_the_end_does_not_heal_it(app, db_session, settings, case, chain):
    """The review's attack: remove the newest entry, then let a handler add
    one; the new link must not make the removal vanish."""
    report = db_session.get(Report, case["submitted"].report_id)
    if chain == "dialogue":
        tamper_cut_the_end(db_session, case)
        db_session.commit()
        dialogue.post_message(db_session, report, case["submitted"].data_key, author=AUTHOR_HANDLER,
                              body="Fifth, after the cut", author_user_id=case["anna"].id)
    else:
        db_session.execute(StatusEvent.__table__.delete().where(StatusEvent.report_id == report.id,
                                                                StatusEvent.seq == 2))
        report.status = "new"
        db_session.commit()
        workflow.transition(db_session, report, case["submitted"].data_key, STATUS_ACKNOWLEDGED,
                            actor_user_id=case["anna"].id)
    db_session.commit()
    for html in pages(app, db_session, case):
        assert WARNING in html


def tamper_remove_an_answer(db_session, case):
    from portal.models import Answer

    db_session.execute(Answer.__table__.delete().where(Answer.report_id == case["submitted"].report_id,
                                                       Answer.field == "change"))


def tamper_make_it_look_old(db_session, case):
    """The review's attack: remove every answer (the only sign that a report is
    chained), mark it unsealed and change a message, hoping for a re-seal."""
    from portal.models import Answer

    report = db_session.get(Report, case["submitted"].report_id)
    db_session.execute(Answer.__table__.delete().where(Answer.report_id == report.id))
    report.sealed, report.manifest_ct = 0, None
    _message(db_session, case, 1).author = AUTHOR_REPORTER


def tamper_remove_a_messages_file(db_session, case):
    from portal.models import Attachment

    db_session.execute(Attachment.__table__.delete().where(Attachment.message_id == case["messages"][5]))


@pytest.fixture
def case_with_files(app, db_session, settings, case):
    import io

    from werkzeug.datastructures import FileStorage

    report = db_session.get(Report, case["submitted"].report_id)
    message = dialogue.post_message(db_session, report, case["submitted"].data_key, author=AUTHOR_REPORTER,
                                    body="Fifth, with a file", uploads=[FileStorage(io.BytesIO(b"notes"), "n.txt")],
                                    allowed_types=settings.allowed_upload_types)
    db_session.commit()
    case["messages"][5] = message.id
    return case


@pytest.mark.parametrize("tamper", [tamper_remove_an_answer, tamper_make_it_look_old, tamper_remove_a_messages_file],
                         ids=lambda f: f.__name__)
def test_removing_what_was_sent_is_flagged_on_both_sides(app, db_session, case_with_files, tamper):
    tamper(db_session, case_with_files)
    db_session.commit()
    for html in pages(app, db_session, case_with_files):
        assert WARNING in html


def test_a_status_changed_in_its_column_is_flagged_and_the_reporter_sees_the_timeline(app, db_session, settings):
    """Review finding: `UPDATE reports SET status='closed', outcome='unfounded'`
    made the reporter's page say "Closed: Unfounded". The page now shows the
    authenticated timeline's state and both pages flag the difference."""
    from sqlalchemy import text

    from portal.reports import access, reading
    from support import new_report, seed_channels

    seed_channels(db_session, settings)
    submitted = new_report(db_session, settings)
    db_session.execute(text("UPDATE reports SET status = 'closed', outcome = 'unfounded', feedback_due = NULL "
                            "WHERE id = :id"), {"id": submitted.report_id})
    db_session.commit()
    db_session.expire_all()
    case = access.open_with_receipt(db_session, settings, submitted.receipt)
    page = reading.reporter_case(db_session, settings, case)
    assert not page.verified.columns_agree and not page.verified.intact
    assert page.verified.state.status == "new" and page.verified.state.outcome is None
