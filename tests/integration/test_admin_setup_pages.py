"""Setting an organisation up from the admin area: channels, members, units,
routing rules, thresholds and roles. Every form refuses bad input with a
translated message, keeps what was typed, needs its CSRF token, and every
change is audited."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from portal.models import AuditEvent, Channel, KeyGrant, Membership, ReportKey, RoutingRule, Setting, Unit, User
from portal.staff.accounts import create_user
from support import HANDLER_PASSWORD, new_report, seed_channels, signed_in

EN = {"Accept-Language": "en"}
SV = {"Accept-Language": "sv"}


@pytest.fixture
def admin(app, db_session, settings):
    seeded = seed_channels(db_session, settings)
    person = create_user(db_session, settings, username="admin", display_name="Admin",
                         password=HANDLER_PASSWORD, roles={"admin"}).user
    db_session.commit()
    return {"client": signed_in(app, db_session, settings, person), "user": person, **seeded}


def audited(db_session, action: str) -> list[AuditEvent]:
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def channel_data(**changes):
    data = {"track": "obstacle", "name": "Förbättring Syd", "name_en": "Improvement South",
            "description": "Läser hinder i region syd.", "description_en": "Reads obstacles in the south.",
            "retention_months": "36"}
    return {**data, **changes}


def test_a_channel_is_created_with_its_texts_and_audited(admin, db_session):
    done = admin["client"].post_form("/admin/channels/new", channel_data(), headers=EN)
    assert done.status_code == 302
    channel = db_session.scalar(select(Channel).where(Channel.name == "Förbättring Syd"))
    assert (channel.track, channel.name_en, channel.retention_months) == ("obstacle", "Improvement South", 36)
    assert done.headers["Location"].endswith(f"/admin/channels/{channel.id}")
    page = admin["client"].get(done.headers["Location"], headers=EN).get_data(as_text=True)
    assert "was created" in page and "Reads obstacles in the south." in page
    assert [e.target_id for e in audited(db_session, "channel.create")] == [channel.id]
    listing = admin["client"].get("/admin/channels", headers=EN).get_data(as_text=True)
    assert "Förbättring Syd" in listing and "none: no report reaches it" in listing


@pytest.mark.parametrize("changes, field_message", [
    ({"name": ""}, "This field is required."),
    ({"name": "x" * 121}, "Too long: at most 120 characters."),
    ({"retention_months": "ten"}, "Enter a whole number, such as 12."),
    ({"retention_months": "0"}, "Between 1 and 120 months."),
    ({"track": "misconduct", "retention_months": "36"}, "At most 24 months for this kind of report."),
    ({"name": "improvement"}, "That name is already used. Choose another."),
    ({"track": "gossip"}, None),
])
def test_a_bad_channel_is_refused_with_a_message_and_keeps_the_input(admin, db_session, changes, field_message):
    refused = admin["client"].post_form("/admin/channels/new", channel_data(**changes), headers=EN)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "There is a problem" in body
    if field_message:
        assert field_message in body
    assert "Reads obstacles in the south." in body  # what was typed is still there
    assert db_session.scalar(select(func.count()).select_from(Channel)) == 2


def test_the_refusal_is_in_swedish_on_swedish_pages(admin):
    refused = admin["client"].post_form("/admin/channels/new", channel_data(retention_months="ten"), headers=SV)
    assert refused.status_code == 400 and "Ange ett heltal" in refused.get_data(as_text=True)


def test_admin_forms_refuse_a_missing_or_wrong_token(admin, db_session):
    client, channel = admin["client"], admin["improvement"]
    unit = db_session.scalar(select(Unit))
    posts = [("/admin/channels/new", channel_data()), (f"/admin/channels/{channel.id}", channel_data()),
             (f"/admin/channels/{channel.id}/members", {"user_id": admin["handlers"]["carin"].id}),
             (f"/admin/channels/{channel.id}/members/{admin['handlers']['anna'].id}/remove", {}),
             ("/admin/units", {"name": "Ny enhet"}), (f"/admin/units/{unit.id}/rename", {"name": "Nytt"}),
             (f"/admin/units/{unit.id}/retire", {}), ("/admin/routing/obstacle", {"obstacle-channel_id": channel.id,
                                                                                "obstacle-category": "other"}),
             ("/admin/statistics", {"k": "9", "k_misconduct": "12"}),
             (f"/admin/people/{admin['handlers']['anna'].id}/roles", {"roles": "viewer"})]
    before = db_session.scalar(select(func.count()).select_from(AuditEvent))
    for url, data in posts:
        for token in ({}, {"csrf_token": "wrong"}):
            assert client.post(url, data={**data, **token}).status_code == 400, url
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_a_channel_is_edited_but_its_track_stays(admin, db_session):
    channel = admin["improvement"]
    done = admin["client"].post_form(f"/admin/channels/{channel.id}",
                                     channel_data(track="misconduct", name="Förbättring", retention_months="60"))
    assert done.status_code == 302
    db_session.expire_all()
    assert (channel.name, channel.track, channel.retention_months) == ("Förbättring", "obstacle", 60)
    [event] = audited(db_session, "channel.update")
    detail = json.loads(event.detail)
    assert detail["retention_months"] == [24, 60] and detail["name"] == ["Improvement", "Förbättring"]
    page = admin["client"].get("/admin/audit", headers=EN).get_data(as_text=True)
    assert "Improvement → Förbättring" in page  # before → after, not a list (second review)


def test_adding_a_handler_queues_grants_and_removing_keeps_their_keys(admin, app, db_session, settings):
    channel, carin, anna = admin["improvement"], admin["handlers"]["carin"], admin["handlers"]["anna"]
    new_report(db_session, settings)  # a case of Improvement that Carin cannot read yet
    page = admin["client"].get(f"/admin/channels/{channel.id}", headers=EN).get_data(as_text=True)
    assert "Carin (carin)" in page and "Anna (anna)" not in page  # only handlers not in it are offered
    done = admin["client"].post_form(f"/admin/channels/{channel.id}", {"user_id": carin.id},
                                     action=f"/admin/channels/{channel.id}/members", headers=EN)
    assert done.status_code == 302
    page = admin["client"].get(done.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Carin was added. 1 earlier case waits" in page
    assert db_session.scalar(select(func.count()).select_from(KeyGrant).where(KeyGrant.user_id == carin.id)) == 1
    assert not db_session.scalar(select(ReportKey).where(ReportKey.user_id == admin["user"].id))
    keys_before = db_session.scalar(select(func.count()).select_from(ReportKey).where(ReportKey.user_id == anna.id))
    done = admin["client"].post_form(f"/admin/channels/{channel.id}", {},
                                     action=f"/admin/channels/{channel.id}/members/{anna.id}/remove")
    assert done.status_code == 302
    db_session.expire_all()
    assert db_session.get(Membership, (channel.id, anna.id)) is None
    assert db_session.scalar(select(func.count()).select_from(ReportKey)
                             .where(ReportKey.user_id == anna.id)) == keys_before == 1
    assert len(audited(db_session, "channel.member_added")) == 1
    assert len(audited(db_session, "channel.member_removed")) == 1


@pytest.mark.parametrize("user_id", ["", "nobody", "admin"])
def test_only_an_offered_handler_can_be_added(admin, db_session, user_id):
    channel = admin["improvement"]
    user_id = admin["user"].id if user_id == "admin" else user_id  # an admin who is no handler
    refused = admin["client"].post_form(f"/admin/channels/{channel.id}", {"user_id": user_id},
                                        action=f"/admin/channels/{channel.id}/members", headers=EN)
    assert refused.status_code == 400 and "Choose a handler from the list." in refused.get_data(as_text=True)
    assert db_session.get(Membership, (channel.id, admin["user"].id)) is None


def test_units_are_added_renamed_retired_and_restored(admin, app, db_session):
    client = admin["client"]
    assert client.post_form("/admin/units", {"name": "Region Nord"}).status_code == 302
    unit = db_session.scalar(select(Unit).where(Unit.name == "Region Nord"))
    refused = client.post_form("/admin/units", {"name": "region nord"}, headers=EN)
    assert refused.status_code == 400 and "That name is already used" in refused.get_data(as_text=True)
    assert "region nord" in refused.get_data(as_text=True)
    refused = client.post_form("/admin/units", {"name": "Unit A"}, action=f"/admin/units/{unit.id}/rename",
                               headers=EN)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "That name is already used" in body and 'value="Unit A"' in body
    assert client.post_form("/admin/units", {"name": "Region Norr"},
                            action=f"/admin/units/{unit.id}/rename").status_code == 302
    assert client.post_form("/admin/units", {}, action=f"/admin/units/{unit.id}/retire").status_code == 302
    db_session.expire_all()
    assert (unit.name, unit.active) == ("Region Norr", False)
    form = app.test_client().get("/report/obstacle?category=other&chain_level=management").get_data(as_text=True)
    assert "Region Norr" not in form and "Unit A" in form
    assert client.post_form("/admin/units", {}, action=f"/admin/units/{unit.id}/restore").status_code == 302
    assert [len(audited(db_session, a)) for a in ("unit.create", "unit.rename", "unit.retire", "unit.restore")] \
        == [1, 1, 1, 1]


def test_routing_rules_are_added_previewed_and_deleted(admin, db_session):
    client = admin["client"]
    it_channel = Channel(name="IT", track="obstacle")
    db_session.add(it_channel)
    db_session.commit()
    data = {"obstacle-category": "it_systems", "obstacle-chain_level": "staff_functions",
            "obstacle-channel_id": it_channel.id}
    assert client.post_form("/admin/routing", data, action="/admin/routing/obstacle").status_code == 302
    page = client.get("/admin/routing", headers=EN).get_data(as_text=True)
    # The preview: IT obstacles from staff functions go to IT, the rest of IT's levels to Improvement.
    row = page.split("IT and systems</th>")[-1].split("</tr>")[0]
    assert "IT: Staff functions (HR, finance, IT, ...)" in row and "Improvement: not stated, Political decisions" in row
    again = client.post_form("/admin/routing", data, action="/admin/routing/obstacle", headers=EN)
    assert again.status_code == 400 and "A rule for exactly this kind of report exists already" in \
        again.get_data(as_text=True)
    rule_id = db_session.scalar(select(RoutingRule.id).where(RoutingRule.channel_id == it_channel.id))
    assert client.post_form("/admin/routing", {}, action=f"/admin/routing/rules/{rule_id}/delete").status_code == 302
    db_session.expire_all()
    assert db_session.get(RoutingRule, rule_id) is None
    assert len(audited(db_session, "routing.add")) == 1 and len(audited(db_session, "routing.delete")) == 1


@pytest.mark.parametrize("data", [
    {"misconduct-category": "fraud", "misconduct-channel_id": "improvement"},  # a channel of the other track
    {"misconduct-category": "<script>", "misconduct-channel_id": "whistle"},
    {"misconduct-category": "fraud", "misconduct-channel_id": ""},
])
def test_a_wrong_rule_is_refused_without_an_error_page(admin, db_session, data):
    data = {key: admin[value].id if value in ("improvement", "whistle") else value for key, value in data.items()}
    refused = admin["client"].post_form("/admin/routing", data, action="/admin/routing/misconduct", headers=EN)
    assert refused.status_code == 400 and "There is a problem" in refused.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(RoutingRule)) == 2
    assert admin["client"].post_form("/admin/routing", data, action="/admin/routing/gossip").status_code == 404


def test_a_track_without_a_default_is_pointed_out(admin, db_session):
    db_session.delete(db_session.scalar(select(RoutingRule).where(RoutingRule.track == "misconduct")))
    db_session.commit()
    page = admin["client"].get("/admin/routing", headers=EN).get_data(as_text=True)
    assert "No default rule" in page and "nowhere: cannot be sent" in page


def test_thresholds_can_be_raised_but_not_below_the_floor(admin, db_session, settings):
    client = admin["client"]
    refused = client.post_form("/admin/statistics", {"k": str(settings.k_anonymity - 1), "k_misconduct": "12"},
                               headers=EN)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "configuration sets the lowest value" in body
    assert f'value="{settings.k_anonymity - 1}"' in body
    assert db_session.get(Setting, "insights.k") is None
    done = client.post_form("/admin/statistics", {"k": "9", "k_misconduct": str(settings.k_anonymity_misconduct + 2)})
    assert done.status_code == 302
    db_session.expire_all()
    assert db_session.get(Setting, "insights.k").value == "9"
    [event] = audited(db_session, "settings.thresholds")
    assert json.loads(event.detail)["k"] == [settings.k_anonymity, 9]


def test_roles_change_and_taking_the_handler_role_destroys_keys(admin, db_session, settings):
    anna = admin["handlers"]["anna"]
    alone = new_report(db_session, settings, exclude=[admin["handlers"]["bjorn"].id])  # Anna alone holds it
    new_report(db_session, settings)  # Anna and Bjorn hold this one
    page = admin["client"].get(f"/admin/people/{anna.id}/roles", headers=EN).get_data(as_text=True)
    assert "1 case only this person can open." in page and "The key to 1 of them is kept" in page
    refused = admin["client"].post_form(f"/admin/people/{anna.id}/roles", {}, headers=EN)
    assert refused.status_code == 400 and "Choose at least one role." in refused.get_data(as_text=True)
    done = admin["client"].post_form(f"/admin/people/{anna.id}/roles", {"roles": ["viewer"]})
    assert done.status_code == 302
    db_session.expire_all()
    assert db_session.get(User, anna.id).roles == ("viewer",)
    assert list(db_session.scalars(select(ReportKey.report_id).where(ReportKey.user_id == anna.id))) \
        == [alone.report_id]  # the replaceable key went, the only one stays
    [event] = audited(db_session, "user.roles")
    assert json.loads(event.detail)["after"] == ["viewer"] and json.loads(event.detail)["keys_destroyed"] == 1


def test_the_last_admin_keeps_the_admin_role(admin, db_session):
    me = admin["user"]
    refused = admin["client"].post_form(f"/admin/people/{me.id}/roles", {"roles": ["viewer"]}, headers=EN)
    assert refused.status_code == 409 and "last active administrator" in refused.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(User, me.id).is_admin



def test_reporters_see_the_channel_their_report_goes_to(admin, app, db_session):
    channel = admin["improvement"]
    admin["client"].post_form(f"/admin/channels/{channel.id}", channel_data(
        name="Förbättringsgruppen", name_en="", description="Vi läser <b>hinder</b>.", description_en="We read it."))
    reporter = app.test_client()
    url = "/report/obstacle?category=other&chain_level=management"
    swedish = reporter.get(url, headers=SV).get_data(as_text=True)
    english = reporter.get(url, headers=EN).get_data(as_text=True)
    assert "Förbättringsgruppen" in swedish and "Vi läser &lt;b&gt;hinder&lt;/b&gt;." in swedish
    assert "goes to Förbättringsgruppen." in english and "We read it." in english  # no English name: the Swedish


def test_without_units_the_form_does_not_ask_for_one(admin, app, db_session):
    for unit in db_session.scalars(select(Unit)):
        unit.active = False
    db_session.commit()
    form = app.test_client().get("/report/obstacle?category=other&chain_level=management", headers=EN)
    assert 'name="unit"' not in form.get_data(as_text=True)


def test_shortening_retention_says_how_many_cases_go_and_asks_first(admin, db_session, settings):
    """Admin review: one change from 24 to 1 month made 30 closed cases due
    at the next purge, unannounced. The count is shown, and only a post
    that confirms it changes the channel."""
    import datetime as dt

    from portal.models import Report
    from portal.reports import workflow

    channel = admin["improvement"]
    for closed_on in (dt.date.today() - dt.timedelta(days=100), dt.date.today() - dt.timedelta(days=400),
                      dt.date.today() - dt.timedelta(days=5)):
        submitted = new_report(db_session, settings)
        report = db_session.get(Report, submitted.report_id)
        workflow.transition(db_session, report, submitted.data_key, "acknowledged", on=closed_on)
        workflow.transition(db_session, report, submitted.data_key, "closed", outcome="explained", on=closed_on)
    db_session.commit()
    asked = admin["client"].post_form(f"/admin/channels/{channel.id}", channel_data(retention_months="2"),
                                      headers=EN)
    body = asked.get_data(as_text=True)
    # All three come closer (second review: a cut that made none due at once
    # asked nothing); two of them go at the next purge.
    assert asked.status_code == 200 and "3 closed cases will be deleted earlier" in body
    assert "2 of them at the next purge." in body and 'name="confirm_sooner" value="3"' in body
    db_session.expire_all()
    assert channel.retention_months == 24 and not audited(db_session, "channel.update")
    # A confirmation of another count (the cases changed meanwhile) asks again.
    stale = admin["client"].post_form(f"/admin/channels/{channel.id}",
                                      channel_data(retention_months="2", confirm_sooner="2"), headers=EN)
    assert stale.status_code == 200 and "3 closed cases will be deleted earlier" in stale.get_data(as_text=True)
    done = admin["client"].post_form(f"/admin/channels/{channel.id}",
                                     channel_data(retention_months="2", confirm_sooner="3"))
    assert done.status_code == 302
    db_session.expire_all()
    assert channel.retention_months == 2


@pytest.mark.parametrize("name", ["Anna", "anna\u200b", "Аnna"])  # the same; with a hidden space; Cyrillic А
def test_a_second_person_who_passes_for_a_colleague_is_refused(admin, db_session, name):
    """Admin review: a second "Carin Berg" looked exactly like the real one
    on the report form and to the anchor's holder."""
    refused = admin["client"].post_form("/admin/people/new", {
        "username": "anna2", "display_name": name, "email": "", "language": "sv", "roles": ["handler"]}, headers=EN)
    assert refused.status_code == 400
    assert "looks like one already in use" in refused.get_data(as_text=True) or \
        "Write each word in one alphabet" in refused.get_data(as_text=True)
    assert db_session.scalar(select(User).where(User.username == "anna2")) is None


def test_channel_and_unit_names_lose_invisible_characters_and_lookalikes_are_refused(admin, db_session):
    refused = admin["client"].post_form("/admin/channels/new", channel_data(name="Whistleblоwing"), headers=EN)
    assert refused.status_code == 400 and "Write each word in one alphabet" in refused.get_data(as_text=True)
    refused = admin["client"].post_form("/admin/channels/new", channel_data(name="Nytt", name_en="IMPROVEMENT "),
                                        headers=EN)  # its English name passes for the Improvement channel
    assert refused.status_code == 400 and "looks like one already in use" in refused.get_data(as_text=True)
    done = admin["client"].post_form("/admin/units", {"name": "Region\u202e Syd\u200b"})
    assert done.status_code == 302
    assert db_session.scalar(select(Unit.name).where(Unit.name.like("Region%"))) == "Region Syd"
    again = admin["client"].post_form("/admin/units", {"name": "REGION SYD"}, headers=EN)
    assert again.status_code == 400


def test_an_account_is_not_switched_back_on_beside_its_twin(admin, db_session, settings):
    """Second review: with the real Anna switched off, a twin "Anna" was
    made, and reactivating the real one left two. Creating the twin is now
    refused too; here a database writer made it, and reactivation refuses."""
    from portal.staff import administration

    anna = admin["handlers"]["anna"]
    administration.deactivate(db_session, admin["user"], anna)
    twin = create_user(db_session, settings, username="anna2", display_name="Anna 2",
                       password=HANDLER_PASSWORD, roles={"handler"}).user
    twin.display_name = "Anna"  # as a database writer would
    db_session.commit()
    refused = admin["client"].post_form("/admin/people", {}, action=f"/admin/people/{anna.id}/reactivate",
                                        headers=EN)
    assert refused.status_code == 302
    page = admin["client"].get("/admin/people", headers=EN).get_data(as_text=True)
    assert "looks like one already in use" in page
    db_session.expire_all()
    assert not db_session.get(User, anna.id).active
