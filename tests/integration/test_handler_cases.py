"""Case work through the handler pages: inbox, reading, workflow, dialogue,
notes, grants, export; and what the reporter sees of it."""
import datetime as dt
import io
import json
import re

import pytest
from sqlalchemy import func, select

from portal.reports import grants, submission
from portal.reports.submission import NewReport
from portal.models import AuditEvent, KeyGrant, Message, PublishedSummary, Report
from support import FormClient, enrol_totp, new_report, seed_channels, staff_login

EN = {"Accept-Language": "en"}


@pytest.fixture
def world(app, db_session, settings):
    seeded = seed_channels(db_session, settings)
    secrets = {name: enrol_totp(db_session, settings, user) for name, user in seeded["handlers"].items()}
    return {**seeded, "secrets": secrets}


def login_as(app, db_session, world, name):
    client = FormClient(app.test_client())
    response = staff_login(client, db_session, world["handlers"][name], world["secrets"][name])
    assert response.status_code == 302
    return client


def test_inbox_lists_only_the_channels_cases_minus_exclusions(app, db_session, settings, world):
    anna = world["handlers"]["anna"]
    mine = new_report(db_session, settings)
    excluded = new_report(db_session, settings, exclude=[anna.id])
    other = new_report(db_session, settings, track="misconduct", category="fraud")
    html = login_as(app, db_session, world, "anna").get("/handler/", headers=EN).get_data(as_text=True)
    assert mine.report_id[:8] in html
    assert excluded.report_id[:8] not in html and other.report_id[:8] not in html
    html = login_as(app, db_session, world, "bjorn").get("/handler/", headers=EN).get_data(as_text=True)
    assert mine.report_id[:8] in html and excluded.report_id[:8] in html


@pytest.mark.parametrize("path", ["/handler/case/{id}", "/handler/case/{id}/attachment/x"])
def test_excluded_or_outside_handler_cannot_open_the_case(app, db_session, settings, world, path):
    anna = world["handlers"]["anna"]
    excluded = new_report(db_session, settings, exclude=[anna.id])
    other = new_report(db_session, settings, track="misconduct", category="fraud")
    client = login_as(app, db_session, world, "anna")
    for report_id in (excluded.report_id, other.report_id):
        response = client.get(path.format(id=report_id))
        assert response.status_code == 403
        assert "Invoices" not in response.get_data(as_text=True)


def test_overdue_and_due_soon_cases_stand_out_and_filter(app, db_session, settings, world):
    today = dt.date.today()
    late = submission.submit(db_session, settings, NewReport(track="obstacle", category="it_systems",
                                                           answers={"today": "a", "change": "b"}),
                           received_on=today - dt.timedelta(days=10))
    fresh = new_report(db_session, settings)
    db_session.commit()
    client = login_as(app, db_session, world, "anna")
    html = client.get("/handler/", headers=EN).get_data(as_text=True)
    row = re.search(rf'<tr class="([^"]*)">\s*<td>\s*<a href="/handler/case/{late.report_id}"', html)
    assert row and row.group(1) == "overdue"
    assert "Overdue" in html
    only = client.get("/handler/?overdue=1", headers=EN).get_data(as_text=True)
    assert late.report_id[:8] in only and fresh.report_id[:8] not in only


def test_case_page_shows_decrypted_answers_and_is_audited(app, db_session, settings, world):
    submitted = new_report(db_session, settings)
    client = login_as(app, db_session, world, "anna")
    html = client.get(f"/handler/case/{submitted.report_id}", headers=EN).get_data(as_text=True)
    assert "Three systems" in html and "One system" in html
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "case.view", AuditEvent.target_id == submitted.report_id)) == 1


def test_case_page_names_the_unit_and_says_what_the_audit_trail_means(app, db_session, settings, world):
    from portal.models import Unit

    unit = db_session.scalar(select(Unit))
    with_unit = new_report(db_session, settings, unit_id=unit.id)
    without = new_report(db_session, settings)
    client = login_as(app, db_session, world, "anna")
    client.get(f"/handler/case/{with_unit.report_id}", headers=EN)
    html = client.get(f"/handler/case/{with_unit.report_id}", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    facts = html[html.index('id="facts-title"'):html.index("</dl>")]
    assert f"<dt>Enhet</dt><dd>{unit.name}</dd>" in facts
    trail = html[html.index('id="audit-title"'):]
    assert "Öppnade ärendet" in trail and "case.view" not in trail
    html = client.get(f"/handler/case/{without.report_id}", headers=EN).get_data(as_text=True)
    assert "<dt>Unit</dt><dd>Not stated</dd>" in html


def test_cases_are_named_by_reference_and_found_by_it_however_typed(app, db_session, settings, world):
    first, second = new_report(db_session, settings), new_report(db_session, settings)
    reference = db_session.get(Report, first.report_id).reference
    client = login_as(app, db_session, world, "anna")
    page = client.get(f"/handler/case/{first.report_id}", headers=EN).get_data(as_text=True)
    assert f"<h1>Case {reference}</h1>" in page
    typed = reference.lower().replace("-", " ")
    found = client.get("/handler/", query_string={"ref": typed}, headers=EN).get_data(as_text=True)
    assert first.report_id in found and second.report_id not in found and "1 case" in found
    nothing = client.get("/handler/", query_string={"ref": "not a ref"}, headers=EN).get_data(as_text=True)
    assert first.report_id not in nothing and "0 cases" in nothing
    # The reporter sees the same reference, to quote in a meeting.
    reporter = FormClient(app.test_client())
    reporter.post_form("/follow-up", {"receipt": first.receipt})
    assert reference in reporter.get("/follow-up/case", headers=EN).get_data(as_text=True)


def test_every_audit_action_the_code_records_has_a_name_on_screen():
    import re
    from pathlib import Path

    from portal.domain.taxonomy import HANDLER_KINDS
    from portal.web.labels import AUDIT_ACTIONS

    source = "\n".join(p.read_text() for p in Path("portal").rglob("*.py"))
    recorded = set(re.findall(r'"((?:auth|case|story|user|channel|grant|trust)\.[a-z_]+)"', source))
    recorded |= {f"case.{kind}" for kind in HANDLER_KINDS} | {"case.acknowledged", "case.in_progress", "case.closed"}
    assert len(recorded) > 15  # the search finds them
    assert recorded - set(AUDIT_ACTIONS) == set()


def test_close_form_offers_the_outcomes_of_the_cases_track_only(app, db_session, settings, world):
    obstacle = new_report(db_session, settings)
    misconduct = new_report(db_session, settings, track="misconduct", category="fraud")
    for name, submitted, offered, refused in (("anna", obstacle, "Obstacle removed", "Substantiated"),
                                              ("carin", misconduct, "Substantiated", "Obstacle removed")):
        client = login_as(app, db_session, world, name)
        _post_case(client, submitted.report_id, "status/acknowledge")
        html = client.get(f"/handler/case/{submitted.report_id}", headers=EN).get_data(as_text=True)
        select_html = html[html.index('name="outcome"'):]
        select_html = select_html[:select_html.index("</select>")]
        assert offered in select_html and refused not in select_html
    # A forged post with the other track's outcome is refused and changes nothing.
    anna = login_as(app, db_session, world, "anna")
    response = _post_case(anna, obstacle.report_id, "close", {"outcome": "confirmed"}, headers=EN)
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    # WTForms' own messages come in each request's language (its catalogs are kept per language).
    swedish = _post_case(anna, obstacle.report_id, "close", {"outcome": "confirmed"},
                         headers={"Accept-Language": "sv"})
    assert swedish.status_code == 400 and "Inte ett giltigt val" in swedish.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Report, obstacle.report_id).status == "acknowledged"


def _post_case(client, report_id, action, data=None, **kwargs):
    return client.post_form(f"/handler/case/{report_id}", data or {},
                            action=f"/handler/case/{report_id}/{action}", **kwargs)


def test_workflow_reaches_the_reporters_timeline(app, db_session, settings, world):
    submitted = new_report(db_session, settings)
    client = login_as(app, db_session, world, "anna")
    assert _post_case(client, submitted.report_id, "status/acknowledge").status_code == 302
    assert _post_case(client, submitted.report_id, "status/acknowledge").status_code == 409  # twice: refused
    assert _post_case(client, submitted.report_id, "status/start").status_code == 302
    reply = _post_case(client, submitted.report_id, "reply",
                       {"kind": "feedback", "body": "We are merging the systems.",
                        "attachments": [(io.BytesIO(b"plan"), "plan.txt")]})
    assert reply.status_code == 302
    closed = _post_case(client, submitted.report_id, "close", {"outcome": "removed", "hours_saved": "120",
                                                             "summary_title": "", "summary_body": ""})
    assert closed.status_code == 302
    db_session.expire_all()
    report = db_session.get(Report, submitted.report_id)
    assert (report.status, report.outcome, report.hours_saved_per_year) == ("closed", "removed", 120)
    assert report.acknowledged_on == report.feedback_on == dt.date.today()
    assert [e.status for e in report.events] == ["new", "acknowledged", "in_progress", "closed"]
    actions = set(db_session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == report.id)))
    assert {"case.acknowledged", "case.in_progress", "case.feedback", "case.closed"} <= actions

    # The reporter sees the new status, the feedback and its file.
    reporter = FormClient(app.test_client())
    reporter.post_form("/follow-up", {"receipt": submitted.receipt})
    page = reporter.get("/follow-up/case", headers=EN).get_data(as_text=True)
    assert "We are merging the systems." in page and "plan.txt" in page
    assert "Obstacle removed" in page and "Acknowledged" in page


def test_close_with_consent_drafts_a_sanitised_summary(app, db_session, settings, world):
    submitted = new_report(db_session, settings, publish_consent=True)
    client = login_as(app, db_session, world, "anna")
    _post_case(client, submitted.report_id, "status/acknowledge")
    _post_case(client, submitted.report_id, "close", {
        "outcome": "removed", "hours_saved": "40", "summary_title": "One system instead of three",
        "summary_body": "<p>We merged <b>three</b> systems.</p><script>alert(1)</script>"})
    summary = db_session.scalars(select(PublishedSummary)).one()
    assert summary.status == "draft"
    assert "<script" not in summary.body_html and "three" in summary.body_html


def test_closing_without_outcome_is_a_clear_error(app, db_session, settings, world):
    submitted = new_report(db_session, settings)
    client = login_as(app, db_session, world, "anna")
    _post_case(client, submitted.report_id, "status/acknowledge")
    response = _post_case(client, submitted.report_id, "close", {"outcome": "", "hours_saved": "x"}, headers=EN)
    assert response.status_code == 400
    assert "There is a problem" in response.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(Report, submitted.report_id).status == "acknowledged"


def test_notes_stay_internal(app, db_session, settings, world):
    submitted = new_report(db_session, settings)
    client = login_as(app, db_session, world, "anna")
    assert _post_case(client, submitted.report_id, "note", {"body": "Check with finance"}).status_code == 302
    assert "Check with finance" in client.get(f"/handler/case/{submitted.report_id}").get_data(as_text=True)
    reporter = FormClient(app.test_client())
    reporter.post_form("/follow-up", {"receipt": submitted.receipt})
    assert "Check with finance" not in reporter.get("/follow-up/case").get_data(as_text=True)


def test_reporter_message_is_unread_until_a_handler_opens_the_case(app, db_session, settings, world):
    submitted = new_report(db_session, settings)
    reporter = FormClient(app.test_client())
    reporter.post_form("/follow-up", {"receipt": submitted.receipt})
    reporter.post_form("/follow-up/case", {"body": "More details"}, action="/follow-up/reply")
    client = login_as(app, db_session, world, "anna")
    assert "Unread" in client.get("/handler/", headers=EN).get_data(as_text=True)
    assert "More details" in client.get(f"/handler/case/{submitted.report_id}").get_data(as_text=True)
    assert "Unread" not in client.get("/handler/", headers=EN).get_data(as_text=True)


def test_minutes_can_be_confirmed_by_the_reporter(app, db_session, settings, world):
    submitted = new_report(db_session, settings, track="misconduct", category="fraud")
    client = login_as(app, db_session, world, "carin")
    _post_case(client, submitted.report_id, "reply", {"kind": "minutes", "body": "We met on Monday."})
    reporter = FormClient(app.test_client())
    reporter.post_form("/follow-up", {"receipt": submitted.receipt})
    page = reporter.get("/follow-up/case", headers=EN).get_data(as_text=True)
    assert "We met on Monday." in page and "confirm" in page.lower()
    action = re.search(r'action="(/follow-up/minutes/[^"]+/confirm)"', page).group(1)
    assert reporter.post_form("/follow-up/case", {}, action=action).status_code == 302
    kinds = list(db_session.scalars(select(Message.kind).where(Message.report_id == submitted.report_id)
                                    .order_by(Message.seq)))
    assert kinds == ["minutes", "minutes_confirmed"]


def test_newcomer_reads_an_old_case_only_after_a_holder_approves(app, db_session, settings, world):
    submitted = new_report(db_session, settings)
    from portal.staff.accounts import create_user
    from support import HANDLER_PASSWORD

    erik = create_user(db_session, settings, username="erik", display_name="Erik", password=HANDLER_PASSWORD,
                       roles={"handler"}).user
    queued = grants.add_member(db_session, world["improvement"], erik)
    db_session.commit()
    assert queued == 1
    world["handlers"]["erik"] = erik
    world["secrets"]["erik"] = enrol_totp(db_session, settings, erik)
    newcomer = login_as(app, db_session, world, "erik")
    waiting = newcomer.get(f"/handler/case/{submitted.report_id}", headers=EN).get_data(as_text=True)
    assert "Waiting for access" in waiting and "Three systems" not in waiting
    assert "waiting for a colleague" in newcomer.get("/handler/", headers=EN).get_data(as_text=True)
    anna = login_as(app, db_session, world, "anna")  # a key holder signs in: nothing happens by itself
    assert db_session.scalar(select(func.count()).select_from(KeyGrant)) == 1
    requests = anna.get("/handler/access-requests", headers=EN).get_data(as_text=True)
    assert "Erik" in requests and "1 case you hold" in requests and "Access requests (1)" in requests
    approved = anna.post_form("/handler/access-requests", {}, action=f"/handler/access-requests/{erik.id}/approve")
    assert approved.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(KeyGrant)) == 0
    assert "Three systems" in newcomer.get(f"/handler/case/{submitted.report_id}").get_data(as_text=True)
    granted = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "case.key_granted")).one()
    assert granted.actor_user_id == world["handlers"]["anna"].id and json.loads(granted.detail)["user_id"] == erik.id


def test_handing_a_case_respects_exclusions(app, db_session, settings, world):
    bjorn = world["handlers"]["bjorn"]
    submitted = new_report(db_session, settings, exclude=[bjorn.id])
    client = login_as(app, db_session, world, "anna")
    html = client.get(f"/handler/case/{submitted.report_id}", headers=EN).get_data(as_text=True)
    assert "Give a colleague access" not in html  # bjorn is excluded, nobody else to give it to
    forged = _post_case(client, submitted.report_id, "grant", {"user_id": bjorn.id})
    assert forged.status_code == 400
    db_session.expire_all()
    from portal.models import ReportKey
    assert db_session.get(ReportKey, (submitted.report_id, bjorn.id)) is None


def test_export_needs_the_password_and_is_audited(app, db_session, settings, world):
    from support import HANDLER_PASSWORD

    submitted = new_report(db_session, settings)
    client = login_as(app, db_session, world, "anna")
    refused = _post_case(client, submitted.report_id, "export", {"format": "json", "password": "wrong one"},
                         headers=EN)
    assert refused.status_code == 400 and "confirm the export" in refused.get_data(as_text=True)
    response = _post_case(client, submitted.report_id, "export", {"format": "json", "password": HANDLER_PASSWORD,
                                                                "secrecy_mark": "Hemlig enligt OSL"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["secrecy_mark"] == "Hemlig enligt OSL" and data["answers"][0]["text"] == "Three systems"
    printable = _post_case(client, submitted.report_id, "export", {"format": "html", "secrecy_mark": "SECRET"})
    html = printable.get_data(as_text=True)
    assert printable.status_code == 200 and "print.css" in html and "SECRET" in html and "Three systems" in html
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "case.export")) == 2


def test_attachment_download_is_decrypted_audited_and_safe(app, db_session, settings, world):
    submitted = new_report(db_session, settings)
    client = login_as(app, db_session, world, "anna")
    _post_case(client, submitted.report_id, "reply", {"kind": "message", "body": "See file",
                                                      "attachments": [(io.BytesIO(b"hello"),
                                                                       '../../etc/evil<name>.txt')]})
    html = client.get(f"/handler/case/{submitted.report_id}").get_data(as_text=True)
    link = re.search(r'href="(/handler/case/[^"]+/attachment/[^"]+)"', html).group(1)
    response = client.get(link)
    assert response.get_data() == b"hello"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "/" not in disposition.split("filename")[1]
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "case.download")) == 1



def test_feedback_overdue_three_months_after_acknowledgement(app, db_session, settings, world):
    from portal.reports import workflow
    from portal.domain.cases import add_months

    today = dt.date.today()
    cases = {}
    for name, acknowledged in [("late", add_months(today, -3) - dt.timedelta(days=1)),
                               ("on_time", add_months(today, -3) + dt.timedelta(days=1))]:
        submitted = submission.submit(db_session, settings, NewReport(track="obstacle", category="it_systems",
                                                                    answers={"today": "a", "change": "b"}),
                                    received_on=acknowledged - dt.timedelta(days=2))
        workflow.transition(db_session, db_session.get(Report, submitted.report_id), submitted.data_key,
                            "acknowledged", on=acknowledged)
        cases[name] = submitted.report_id
    db_session.commit()
    only = login_as(app, db_session, world, "anna").get("/handler/?overdue=1", headers=EN).get_data(as_text=True)
    assert cases["late"][:8] in only and cases["on_time"][:8] not in only


def test_a_made_up_attachment_id_is_not_written_to_the_audit_log(app, db_session, settings, world):
    submitted = new_report(db_session, settings)
    client = login_as(app, db_session, world, "anna")
    response = client.get(f"/handler/case/{submitted.report_id}/attachment/forged%20text%20for%20the%20log")
    assert response.status_code == 404
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "case.download")) == 0


def test_no_case_key_is_wrapped_for_an_account_nobody_has_signed_in_to(app, db_session, settings, world):
    """Until a handler's first sign-in their key pair is the one made with the
    password the account's creator chose: reports and grants wait for it,
    and after it, for the anchor's signature and a holder's approval."""
    from portal.staff.accounts import create_user
    from portal.models import ReportKey
    from support import HANDLER_PASSWORD

    erik = create_user(db_session, settings, username="erik", display_name="Erik", password=HANDLER_PASSWORD,
                       roles={"handler"}).user
    assert grants.add_member(db_session, world["improvement"], erik) == 0
    db_session.commit()
    submitted = new_report(db_session, settings)
    assert db_session.get(ReportKey, (submitted.report_id, erik.id)) is None
    assert db_session.get(KeyGrant, (submitted.report_id, erik.id)) is not None
    anna = login_as(app, db_session, world, "anna")  # a key holder signs in: still nothing for erik
    assert db_session.get(ReportKey, (submitted.report_id, erik.id)) is None
    html = anna.get(f"/handler/case/{submitted.report_id}", headers=EN).get_data(as_text=True)
    assert f'value="{erik.id}"' not in html  # not offered for handing either
    assert _post_case(anna, submitted.report_id, "grant", {"user_id": erik.id}).status_code == 400
    refused = anna.post_form("/handler/access-requests", {}, action=f"/handler/access-requests/{erik.id}/approve")
    assert refused.status_code == 302
    assert db_session.get(ReportKey, (submitted.report_id, erik.id)) is None  # approving cannot either

    world["handlers"]["erik"] = erik
    world["secrets"]["erik"] = enrol_totp(db_session, settings, erik)  # signed in, key confirmed by the anchor
    anna = login_as(app, db_session, world, "anna")
    assert anna.post_form("/handler/access-requests", {},
                          action=f"/handler/access-requests/{erik.id}/approve").status_code == 302
    db_session.expire_all()
    assert db_session.get(ReportKey, (submitted.report_id, erik.id)) is not None
    assert "Three systems" in login_as(app, db_session, world, "erik").get(
        f"/handler/case/{submitted.report_id}").get_data(as_text=True)


def test_a_newcomer_waiting_for_many_cases_is_told_at_least_the_cap(app, db_session, settings, world, monkeypatch):
    """The waiting count stops at a cap (a newcomer to a large channel waits
    for every case in it), and the page says "at least" rather than a wrong number."""
    from portal.reports import inbox
    from portal.staff.accounts import create_user
    from support import HANDLER_PASSWORD

    for _ in range(3):
        new_report(db_session, settings)
    erik = create_user(db_session, settings, username="erik", display_name="Erik", password=HANDLER_PASSWORD,
                       roles={"handler"}).user
    assert grants.add_member(db_session, world["improvement"], erik) == 3
    db_session.commit()
    world["handlers"]["erik"] = erik
    world["secrets"]["erik"] = enrol_totp(db_session, settings, erik)
    newcomer = login_as(app, db_session, world, "erik")
    assert "3 cases are waiting for a colleague" in newcomer.get("/handler/", headers=EN).get_data(as_text=True)
    monkeypatch.setattr(inbox, "WAITING_COUNTED_UP_TO", 2)
    page = newcomer.get("/handler/", headers=EN).get_data(as_text=True)
    assert "At least 2 cases are waiting for a colleague" in page and "3 cases are waiting" not in page
    swedish = newcomer.get("/handler/", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert "Minst 2 ärenden väntar" in swedish
