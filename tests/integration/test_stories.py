"""Story approval: a handler drafts a story when closing a removed obstacle;
only another handler of the channel, or an admin, publishes it; it can be
withdrawn; its text is sanitised; every step is audited."""
import pytest
from sqlalchemy import select

from portal.models import AuditEvent, PublishedSummary
from portal.staff.accounts import create_user
from support import HANDLER_PASSWORD, FormClient, csrf_token_from, enrol_totp, new_report, seed_channels, staff_login

EN = {"Accept-Language": "en"}
HOSTILE = ('<p onclick="steal()">We <strong>merged</strong> the systems.</p><script>alert(1)</script>'
           '<a href="javascript:alert(2)">more</a><p style="color:red">Styled</p><img src=x onerror=alert(3)>')


@pytest.fixture
def world(app, db_session, settings):
    seeded = seed_channels(db_session, settings)
    admin = create_user(db_session, settings, username="admin", display_name="Admin", password=HANDLER_PASSWORD,
                        roles={"admin"}).user
    viewer = create_user(db_session, settings, username="ledning", display_name="Ledning",
                         password=HANDLER_PASSWORD, roles={"viewer"}).user
    db_session.commit()
    people = {**seeded["handlers"], "admin": admin, "ledning": viewer}
    secrets = {name: enrol_totp(db_session, settings, user) for name, user in people.items()}
    return {**seeded, "people": people, "secrets": secrets}


def signed_in(app, db_session, world, name):
    client = FormClient(app.test_client())
    assert staff_login(client, db_session, world["people"][name], world["secrets"][name]).status_code == 302
    return client


def drafted(app, db_session, settings, world, body=HOSTILE):
    submitted = new_report(db_session, settings, publish_consent=True)
    anna = signed_in(app, db_session, world, "anna")
    case = f"/handler/case/{submitted.report_id}"
    anna.post_form(case, {}, action=f"{case}/status/acknowledge")
    closed = anna.post_form(case, {"outcome": "removed", "hours_saved": "40",
                                   "summary_title": "Three systems become one",
                                   "summary_body": body, "summary_language": "en"}, action=f"{case}/close")
    assert closed.status_code == 302
    return submitted, anna, db_session.scalars(select(PublishedSummary)).one()


def removed_alike(db_session, settings, n):
    """n more IT obstacles removed today, like the story's."""
    from portal.models import Report
    from portal.reports import workflow

    for _ in range(n):
        submitted = new_report(db_session, settings)
        report = db_session.get(Report, submitted.report_id)
        workflow.transition(db_session, report, submitted.data_key, "acknowledged")
        workflow.transition(db_session, report, submitted.data_key, "closed", outcome="removed")
    db_session.commit()


def later(monkeypatch, days=100):
    """The pages as they will be once this quarter has ended."""
    import datetime as dt

    from portal.insights import releases
    from portal.reports import stories as stories_module

    monkeypatch.setattr(stories_module, "today", lambda: dt.date.today() + dt.timedelta(days=days))
    monkeypatch.setattr(releases, "today_", lambda: dt.date.today() + dt.timedelta(days=days))


def test_a_story_whose_removed_count_is_hidden_is_not_published(app, db_session, settings, world, monkeypatch):
    """Review finding: a story in a hidden cell of removed obstacles by kind
    tells that the cell holds at least one."""
    _submitted, _anna, story = drafted(app, db_session, settings, world)
    bjorn = signed_in(app, db_session, world, "bjorn")
    from portal.domain.sanitize import editable_story

    as_drafted = {"title": story.title, "body": editable_story(story.body_html), "language": "en"}
    assert _decide(bjorn, story, "approve", as_drafted).status_code == 302
    db_session.expire_all()
    assert story.status == "approved"
    later(monkeypatch)
    public = app.test_client().get("/insights", headers=EN).get_data(as_text=True)
    assert "Three systems become one" not in public


def _decide(client, story, action, data=None):
    page = client.get("/handler/stories")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(f"/handler/stories/{story.id}/{action}", data={**(data or {}), "csrf_token": token})


def test_the_story_is_sanitised_shown_on_the_case_and_editable_by_its_author(app, db_session, settings, world):
    submitted, anna, story = drafted(app, db_session, settings, world)
    for bad in ("<script", "onclick", "javascript:", "style=", "onerror", "<img"):
        assert bad not in story.body_html
    assert "<strong>merged</strong>" in story.body_html and story.language == "en"
    page = anna.get(f"/handler/case/{submitted.report_id}", headers=EN).get_data(as_text=True)
    assert "Three systems become one" in page and "Save the draft" in page
    case = f"/handler/case/{submitted.report_id}"
    edited = anna.post_form(case, {"title": "One system now", "body": "<p>Better.</p>",
                                   "language": "en"}, action=f"{case}/story")
    assert edited.status_code == 302
    db_session.expire_all()
    assert story.title == "One system now"
    # An empty title comes back with the error and what was typed.
    again = anna.post_form(case, {"title": "", "body": "<p>Kept text</p>", "language": "en"}, action=f"{case}/story",
                           headers=EN)
    assert again.status_code == 400 and "Kept text" in again.get_data(as_text=True)


def test_the_author_cannot_approve_their_own_story(app, db_session, settings, world):
    _submitted, anna, story = drafted(app, db_session, settings, world)
    assert "Approve and publish" not in anna.get("/handler/stories").get_data(as_text=True)
    response = _decide(anna, story, "approve", {"title": "Mine", "body": "x", "language": "en"})
    assert response.status_code == 403
    db_session.expire_all()
    assert story.status == "draft"


def test_an_edited_story_goes_back_and_an_approved_one_waits_for_its_quarter(app, db_session, settings, world,
                                                                           monkeypatch):
    _submitted, anna, story = drafted(app, db_session, settings, world)
    bjorn = signed_in(app, db_session, world, "bjorn")
    menu = bjorn.get("/handler/", headers=EN).get_data(as_text=True)
    assert "Stories to review (1)" in menu
    # Bjorn edits: not published, it becomes his draft for Anna to approve.
    edited = {"title": "Three systems became one", "body": "<p>Edited.</p>", "language": "en"}
    assert _decide(bjorn, story, "approve", edited).status_code == 302
    db_session.expire_all()
    assert story.status == "draft" and story.written_by == world["people"]["bjorn"].id
    assert _decide(bjorn, story, "approve", edited).status_code == 403  # now his own
    assert _decide(anna, story, "approve", edited).status_code == 302
    db_session.expire_all()
    assert story.status == "approved" and story.approved_by == world["people"]["anna"].id
    # Shown only once its quarter has ended, and only in a shown cell of
    # removed obstacles by kind: five more IT obstacles removed with it.
    assert "Three systems became one" not in app.test_client().get("/insights", headers=EN).get_data(as_text=True)
    removed_alike(db_session, settings, 5)
    later(monkeypatch)
    public = app.test_client().get("/insights", headers=EN).get_data(as_text=True)
    assert "Three systems became one" in public and "Edited." in public
    # No hours on a story: the quarter's total less the stories' hours would
    # give the hours of a case without a story (review finding).
    assert "about 40 hours" not in public
    actions = set(db_session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == story.id)))
    assert {"story.draft", "story.approve"} <= actions
    # Withdrawn: gone from the public page.
    assert _decide(bjorn, story, "withdraw").status_code == 302
    db_session.expire_all()
    assert story.status == "withdrawn"
    assert "Three systems became one" not in app.test_client().get("/insights", headers=EN).get_data(as_text=True)


def test_a_handler_of_another_channel_cannot_decide_but_an_admin_can(app, db_session, settings, world):
    _submitted, _anna, story = drafted(app, db_session, settings, world)
    carin = signed_in(app, db_session, world, "carin")
    assert "Three systems become one" not in carin.get("/handler/stories").get_data(as_text=True)
    assert _decide(carin, story, "reject").status_code == 403
    admin = signed_in(app, db_session, world, "admin")
    assert "Three systems become one" in admin.get("/handler/stories").get_data(as_text=True)
    assert _decide(admin, story, "reject").status_code == 302
    db_session.expire_all()
    assert story.status == "rejected"


def test_a_handler_the_reporter_excluded_neither_sees_nor_decides_the_story(app, db_session, settings, world):
    """Review finding: membership of the channel was enough."""
    submitted = new_report(db_session, settings, publish_consent=True, exclude=[world["people"]["bjorn"].id])
    anna = signed_in(app, db_session, world, "anna")
    case = f"/handler/case/{submitted.report_id}"
    anna.post_form(case, {}, action=f"{case}/status/acknowledge")
    anna.post_form(case, {"outcome": "removed", "summary_title": "Secret title", "summary_body": "<p>x</p>",
                          "summary_language": "en"}, action=f"{case}/close")
    story = db_session.scalars(select(PublishedSummary)).one()
    bjorn = signed_in(app, db_session, world, "bjorn")
    assert "Secret title" not in bjorn.get("/handler/stories").get_data(as_text=True)
    assert _decide(bjorn, story, "approve", {"title": "Mine now", "body": "y", "language": "en"}).status_code == 403
    db_session.expire_all()
    assert story.title == "Secret title" and story.status == "draft"


def test_a_viewer_and_an_anonymous_caller_reach_no_review(app, db_session, settings, world):
    viewer = signed_in(app, db_session, world, "ledning")
    assert viewer.get("/handler/stories").status_code == 403
    anonymous = app.test_client().get("/handler/stories")
    assert anonymous.status_code == 302 and "/handler/login" in anonymous.headers["Location"]


def test_a_post_without_csrf_token_is_refused(app, db_session, settings, world):
    _submitted, _anna, story = drafted(app, db_session, settings, world)
    bjorn = signed_in(app, db_session, world, "bjorn")
    response = bjorn.post(f"/handler/stories/{story.id}/reject", data={})
    assert response.status_code in (400, 403)
    db_session.expire_all()
    assert story.status == "draft"
