"""The admin area: admins only, no case content on any of its pages, and
deactivation that shows its cost first and needs a CSRF token."""
from __future__ import annotations

import pytest

from portal.models import AuditEvent, ReportKey, User
from portal.staff.accounts import create_user
from support import FormClient, HANDLER_PASSWORD, csrf_token_from, new_report, seed_channels, signed_in

EN = {"Accept-Language": "en"}


@pytest.fixture
def world(app, db_session, settings):
    seeded = seed_channels(db_session, settings)
    admin = create_user(db_session, settings, username="admin", display_name="Admin",
                        password=HANDLER_PASSWORD, roles={"admin"}).user
    db_session.commit()
    bjorn = seeded["handlers"]["bjorn"]
    submitted = new_report(db_session, settings, exclude=[bjorn.id])  # Anna alone holds it
    clients = {}
    for name, user in (("admin", admin), ("anna", seeded["handlers"]["anna"])):
        clients[name] = signed_in(app, db_session, settings, user)
    clients["anonymous"] = FormClient(app.test_client())
    return {"admin": admin, "anna": seeded["handlers"]["anna"], "report": submitted, "clients": clients,
            "channel": seeded["improvement"]}


def _admin_get_routes(app, world):
    """Every admin page, its parameters filled with the case's own channel and handler."""
    values = {"user_id": world["anna"].id, "channel_id": world["channel"].id}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin.") and "GET" in rule.methods:
            assert set(rule.arguments) <= set(values), f"fill in {rule.rule} here"
            url = rule.rule
            for name in rule.arguments:
                url = url.replace(f"<{name}>", values[name])
            yield url


def test_every_admin_page_is_for_admins_only_and_shows_no_case_content(world, app):
    pages = list(_admin_get_routes(app, world))
    assert len(pages) >= 9
    for url in pages:
        page = world["clients"]["admin"].get(url, headers=EN)
        body = page.get_data(as_text=True)
        assert page.status_code == 200, url
        assert "Three systems" not in body and "One system" not in body and world["report"].receipt not in body
        assert world["clients"]["anna"].get(url).status_code == 403, url
        anonymous = world["clients"]["anonymous"].get(url)
        assert anonymous.status_code == 302 and "/handler/login" in anonymous.headers["Location"], url


def test_deactivation_shows_what_is_lost_then_needs_a_token(world, db_session, settings):
    admin_client, anna = world["clients"]["admin"], world["anna"]
    shared = new_report(db_session, settings)  # Anna and Bjorn hold it
    page = admin_client.get(f"/admin/people/{anna.id}/deactivate", headers=EN).get_data(as_text=True)
    assert "1 case only this person can open" in page and "The key to 1 case that nothing else can open is kept" \
        in page
    assert admin_client.post(f"/admin/people/{anna.id}/deactivate", data={}).status_code == 400
    assert admin_client.post(f"/admin/people/{anna.id}/deactivate",
                             data={"csrf_token": "wrong"}).status_code == 400
    db_session.expire_all()
    assert db_session.get(User, anna.id).active
    done = admin_client.post_form(f"/admin/people/{anna.id}/deactivate", {})
    assert done.status_code == 302
    db_session.expire_all()
    assert not db_session.get(User, anna.id).active
    # Review finding: one admin could bury a case by destroying its only key.
    # The key to the case only Anna can open stays; the shared one goes.
    assert [key.report_id for key in db_session.query(ReportKey).filter_by(user_id=anna.id)] \
        == [world["report"].report_id] != [shared.report_id]
    # Anna's browser is signed out.
    assert world["clients"]["anna"].get("/handler/").status_code == 302
    listing = admin_client.get("/admin/people?deactivated=1", headers=EN).get_data(as_text=True)
    assert "The account was deactivated" in listing and "keeps the key to 1 case nobody else can open" in listing
    # Another admin (or this one) undoes it: the kept key works again.
    assert admin_client.post_form("/admin/people", {}, action=f"/admin/people/{anna.id}/reactivate").status_code == 302
    db_session.expire_all()
    assert db_session.get(User, anna.id).active
    assert db_session.query(AuditEvent).filter_by(action="user.reactivate", target_id=anna.id).count() == 1


def test_the_last_admin_is_told_why_not(world, db_session):
    admin_client, admin = world["clients"]["admin"], world["admin"]
    page = admin_client.get(f"/admin/people/{admin.id}/deactivate", headers=EN)
    token = csrf_token_from(page.get_data(as_text=True))
    refused = admin_client.post(f"/admin/people/{admin.id}/deactivate", data={"csrf_token": token}, headers=EN)
    assert refused.status_code == 409 and "last active administrator" in refused.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(User, admin.id).active


def test_an_unknown_person_is_a_404(world):
    assert world["clients"]["admin"].get("/admin/people/nobody/deactivate").status_code == 404


def test_the_dashboard_counts_what_needs_attention(world, db_session, settings):
    import datetime as dt

    from portal.models import Channel, Report
    from portal.organisation import attention
    from portal.staff import administration

    empty = Channel(name="Empty", track="obstacle")
    db_session.add(empty)
    late = db_session.get(Report, world["report"].report_id)
    late.acknowledge_due = dt.date.today() - dt.timedelta(days=1)
    newcomer = create_user(db_session, settings, username="newcomer", display_name="Newcomer",
                           password=HANDLER_PASSWORD, roles={"handler"}).user
    db_session.commit()
    found = attention.gather(db_session, dt.date.today())
    by_name = {state.channel.name: state for state in found.channels}
    assert by_name["Empty"].handlers == 0
    assert by_name["Improvement"].overdue == 1 and by_name["Improvement"].unreadable == 0
    assert newcomer in found.never_signed_in and world["anna"] not in found.never_signed_in
    # Anna alone holds the case: once she is switched off nobody active can read it.
    administration.deactivate(db_session, world["admin"], world["anna"])
    db_session.commit()
    assert {s.channel.name: s for s in attention.gather(db_session, dt.date.today()).channels}[
        "Improvement"].unreadable == 1
    page = world["clients"]["admin"].get("/admin/", headers=EN).get_data(as_text=True)
    assert "none: reports to it reach nobody" in page and "Newcomer" in page
    assert "Three systems" not in page


def test_an_admin_creates_a_person_with_a_one_time_password(world, db_session, settings, app):
    from sqlalchemy import select


    admin_client = world["clients"]["admin"]
    bad = admin_client.post_form("/admin/people/new", {"username": "a b", "display_name": "Greta Nordin",
                                                       "email": "not-an-address", "language": "sv"},
                                 headers=EN)
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "Username: Use letters a–z" in html and "Choose at least one role." in html
    assert "Enter an e-mail address" in html and 'value="Greta Nordin"' in html  # what was typed stays
    taken = admin_client.post_form("/admin/people/new", {"username": "anna", "display_name": "Another",
                                                         "language": "sv", "roles": ["viewer"]}, headers=EN)
    assert taken.status_code == 400 and "That username is taken" in taken.get_data(as_text=True)
    assert admin_client.post("/admin/people/new", data={"username": "greta", "display_name": "G",
                                                        "roles": ["handler"]}).status_code == 400  # no token
    made = admin_client.post_form("/admin/people/new", {"username": "Greta.Nordin", "display_name": "Greta Nordin",
                                                        "email": "greta@example.org", "language": "en",
                                                        "roles": ["handler", "viewer"]}, headers=EN)
    page = made.get_data(as_text=True)
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    password = page.split('<code class="secret">')[1].split("</code>")[0]
    db_session.expire_all()
    greta = db_session.scalar(select(User).where(User.username == "greta.nordin"))
    assert greta.roles == ("handler", "viewer") and not greta.holds_own_keys and greta.language == "en"
    assert password not in admin_client.get("/admin/people").get_data(as_text=True)
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "user.create",
                                                       AuditEvent.target_id == greta.id))
    assert event.actor_user_id == world["admin"].id and password not in event.detail
    # The password signs in once, to the first-sign-in page that replaces it.
    fresh = FormClient(app.test_client())
    first = fresh.post_form("/handler/login", {"username": "greta.nordin", "password": password})
    assert first.status_code == 302 and "/handler/login" not in first.headers["Location"]
