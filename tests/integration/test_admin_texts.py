"""The texts reporters read, as an administrator sets them: each language
shows its own text or its own default, nothing of them is markup, unsafe
links and overlong texts are refused with the input kept, only admins may
change them, the audit log names the changed keys without their text, and
the privacy notice is readable without a cookie."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from portal.models import AuditEvent, Setting
from portal.organisation import texts
from portal.staff.accounts import create_user
from support import FormClient, HANDLER_PASSWORD, enrol_totp, seed_channels, staff_login

EN = {"Accept-Language": "en"}
SV = {"Accept-Language": "sv"}
EMPTY = {name: "" for name in texts.EDITABLE}
OBSTACLE_DEFAULT_EN = "an obstacle report may become a public document"
MISCONDUCT_DEFAULT_SV = "Din rapport hanteras under sekretess"  # the catalog's Swedish default
EXTERNAL_DEFAULT_EN = "About thirty Swedish authorities"
PRIVACY_DEFAULT_EN = "Swedish Authority for Privacy Protection (IMY)"


@pytest.fixture
def world(app, db_session, settings):
    seed_channels(db_session, settings)
    people = {"admin": create_user(db_session, settings, username="admin", display_name="Admin",
                                   password=HANDLER_PASSWORD, roles={"admin"}).user,
              "viewer": create_user(db_session, settings, username="viewer", display_name="Viewer",
                                    password=HANDLER_PASSWORD, roles={"viewer"}).user}
    db_session.commit()
    people["anna"] = db_session.scalar(select(type(people["admin"])).filter_by(username="anna"))
    clients = {}
    for name, user in people.items():
        client = FormClient(app.test_client())
        assert staff_login(client, db_session, user, enrol_totp(db_session, settings, user)).status_code == 302
        clients[name] = client
    return {"people": people, "clients": clients, "admin": clients["admin"]}


def save(client, **typed):
    return client.post_form("/admin/texts", {**EMPTY, **typed}, headers=EN)


@pytest.fixture
def read(app):
    """A page as a fresh browser gets it: no session, no language chosen."""
    return lambda path, headers=EN: app.test_client().get(path, headers=headers).get_data(as_text=True)


def obstacle_form(read, headers):
    return read("/report/obstacle?category=reporting_burden&chain_level=management", headers)


def misconduct_form(read, headers):
    return read("/report/misconduct?category=fraud", headers)


def stored(db_session) -> dict[str, str]:
    db_session.expire_all()
    return {row.key: row.value for row in db_session.scalars(select(Setting))}


def text_events(db_session) -> list[AuditEvent]:
    db_session.expire_all()
    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == "settings.texts")))


def test_each_language_shows_its_own_text_or_its_own_default(world, read):
    done = save(world["admin"], privacy_sv="Första stycket om personuppgifter.\r\n\r\nAndra stycket.",
                notice_obstacle_sv="Hindertext på svenska.", notice_obstacle_en="Obstacle notice in English.",
                notice_misconduct_en="Misconduct notice in English.", external_text_sv="Ring länsstyrelsen.",
                external_url="https://example.org/visselblasning")
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/texts")
    after = world["admin"].get("/admin/texts", headers=EN).get_data(as_text=True)
    assert "The texts were saved" in after and "Hindertext på svenska." in after  # shown for editing

    swedish = read("/privacy", SV)
    assert "<p>Första stycket om personuppgifter.</p>" in swedish and "<p>Andra stycket.</p>" in swedish
    english = read("/privacy", EN)
    assert PRIVACY_DEFAULT_EN in english and "Första stycket" not in english  # English default, not Swedish
    assert "Första stycket" in read("/privacy?lang=sv", EN)  # the page's own language links

    landing_sv, landing_en = read("/", SV), read("/", EN)
    assert "Hindertext på svenska." in landing_sv and "Obstacle notice in English." not in landing_sv
    assert "Obstacle notice in English." in landing_en and OBSTACLE_DEFAULT_EN not in landing_en
    assert "Ring länsstyrelsen." in landing_sv and 'href="https://example.org/visselblasning"' in landing_sv
    assert EXTERNAL_DEFAULT_EN in landing_en and 'href="https://example.org/visselblasning"' in landing_en

    assert "Obstacle notice in English." in obstacle_form(read, EN) \
        and "Hindertext på svenska." in obstacle_form(read, SV)
    assert "Misconduct notice in English." in misconduct_form(read, EN)
    misconduct_sv = misconduct_form(read, SV)
    assert MISCONDUCT_DEFAULT_SV in misconduct_sv and "Misconduct notice in English." not in misconduct_sv


def test_an_emptied_text_goes_back_to_its_default(world, db_session, read):
    save(world["admin"], notice_obstacle_en="Our own notice.")
    assert "Our own notice." in read("/", EN)
    save(world["admin"], notice_obstacle_en="   \r\n ")
    assert "legal_notice.obstacle.en" not in stored(db_session)
    landing = read("/", EN)
    assert "Our own notice." not in landing and OBSTACLE_DEFAULT_EN in landing


def test_html_in_a_text_is_shown_as_text(world, read):
    attack = '<script>alert(1)</script> <b onmouseover="x()">bold</b>'
    assert save(world["admin"], privacy_en=attack, notice_misconduct_en=attack, external_text_en=attack,
                notice_obstacle_en=attack).status_code == 302
    for html in (read("/privacy", EN), read("/", EN), misconduct_form(read, EN)):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b onmouseover" in html
        assert "<script>" not in html and "<b " not in html
    editor = world["admin"].get("/admin/texts", headers=EN).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)" in editor and "<script>" not in editor


@pytest.mark.parametrize("address", ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,hi",
                                     "https://", "www.example.org", "https://user@example.org/",
                                     "ftp://example.org/"])
def test_an_unsafe_address_is_refused_and_everything_typed_kept(world, db_session, address, read):
    refused = save(world["admin"], external_url=address, privacy_sv="Kept Swedish text.")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Enter a web address that starts with https://" in html and 'href="#external_url"' in html
    assert "Kept Swedish text." in html and f'value="{address}"' in html
    assert stored(db_session) == {} and text_events(db_session) == []
    assert 'href="https://www.av.se/"' in read("/", EN)


def test_an_address_a_database_writer_made_unsafe_is_not_linked(world, db_session, read):
    db_session.add(Setting(key=texts.EXTERNAL_URL_KEY, value="javascript:alert(1)"))
    db_session.commit()
    landing = read("/", EN)
    assert "javascript:" not in landing and 'href="https://www.av.se/"' in landing


def test_the_service_refuses_what_the_form_would_refuse(world, db_session):
    with pytest.raises(texts.TextsRefused) as refused:
        texts.save_texts(db_session, world["people"]["admin"],
                         {"external_url": "javascript:alert(1)", "notice_obstacle_en": "x" * (texts.TEXT_MAX + 1)})
    assert refused.value.problems == {"external_url": texts.BAD_URL, "notice_obstacle_en": texts.TOO_LONG}
    assert stored(db_session) == {}


def test_a_too_long_text_is_refused_with_its_length_and_kept(world, db_session):
    too_long = "Lång text. " * (texts.PRIVACY_MAX // 11) + "x" * 20
    length = len(too_long.strip())
    assert length > texts.PRIVACY_MAX
    refused = save(world["admin"], privacy_sv=too_long, notice_obstacle_en="Also kept.")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert f"Too long: {length} characters, at most {texts.PRIVACY_MAX}." in html and 'href="#privacy_sv"' in html
    assert too_long.strip() in html and "Also kept." in html
    assert stored(db_session) == {} and text_events(db_session) == []


def test_length_counts_a_line_break_once_as_stored(world, db_session):
    # 10 lines of 99 characters and 9 line breaks: 999 characters stored,
    # 1008 as the browser sends them (\r\n).
    typed = "\r\n".join(["y" * 99] * 10)
    assert len(typed) > texts.TEXT_MAX
    assert save(world["admin"], notice_misconduct_sv=typed).status_code == 302
    assert stored(db_session)["legal_notice.misconduct.sv"] == "\n".join(["y" * 99] * 10)


def test_control_characters_are_removed_before_storing(world, db_session):
    save(world["admin"], external_text_en="Call\x00 the\tboard.\u202e\x1b\r\n\r\n\r\n\r\nThen write.  ")
    assert stored(db_session)["external_channels.text.en"] == "Call the board.\n\nThen write."


@pytest.mark.parametrize("token", [None, "wrong"])
def test_a_post_without_a_valid_token_changes_nothing(world, db_session, token):
    data = {**EMPTY, "privacy_en": "Sneaky"}
    if token:
        data["csrf_token"] = token
    assert world["admin"].post("/admin/texts", data=data).status_code == 400
    assert stored(db_session) == {}


@pytest.mark.parametrize("who", ["anna", "viewer"])
def test_only_an_admin_may_open_or_change_the_texts(world, db_session, who):
    client = world["clients"][who]
    assert client.get("/admin/texts").status_code == 403
    # With a valid token of their own session, so that the refusal is the admin check's.
    sneaky = client.post_form("/handler/account", {**EMPTY, "privacy_en": "Sneaky"}, action="/admin/texts")
    assert sneaky.status_code == 403
    assert stored(db_session) == {}


def test_one_audit_event_keeps_what_reporters_were_shown_before_and_after(world, db_session):
    """Admin review: the log said only which texts changed, so a phishing
    notice shown for a day and then reverted left no trace of its words."""
    save(world["admin"], privacy_en="A very particular privacy text.", external_url="https://example.org/x")
    events = text_events(db_session)
    assert len(events) == 1
    assert events[0].actor_user_id == world["people"]["admin"].id
    assert json.loads(events[0].detail) == {"texts": {"external_channels.url": ["", "https://example.org/x"],
                                                      "privacy_notice.en": ["", "A very particular privacy text."]}}

    same = save(world["admin"], privacy_en="A very particular privacy text.", external_url="https://example.org/x")
    assert same.status_code == 302 and len(text_events(db_session)) == 1  # nothing changed, nothing recorded
    assert "Nothing was changed" in world["admin"].get("/admin/texts", headers=EN).get_data(as_text=True)

    save(world["admin"], privacy_en="A very particular privacy text.")
    assert json.loads(text_events(db_session)[-1].detail) == {
        "texts": {"external_channels.url": ["https://example.org/x", ""]}}  # back to the default


def test_the_privacy_notice_sets_no_cookie_and_is_linked_from_the_reporter_pages(app, world, read):
    fresh = app.test_client()
    for path in ("/privacy", "/privacy?lang=en", "/privacy?lang=xx"):
        response = fresh.get(path, headers=SV)
        assert response.status_code == 200 and "Set-Cookie" not in response.headers, path
    html = fresh.get("/privacy", headers=EN).get_data(as_text=True)
    assert "csrf_token" not in html and 'href="/privacy?lang=sv"' in html and 'lang="sv"' in html
    # A browser that already has a session keeps it untouched.
    browser = app.test_client()
    assert "Set-Cookie" in browser.get("/").headers
    assert "Set-Cookie" not in browser.get("/privacy").headers
    # Linked from the start page (and its footer) and from the report form.
    assert read("/", EN).count('href="/privacy"') >= 2
    assert 'href="/privacy"' in misconduct_form(read, EN)


def test_the_default_privacy_notice_says_what_the_portal_does(world, read):
    html = read("/privacy", EN)
    for fact in ("does not store your IP address", "keeps only the date", "encrypted",
                 "counted from the day the case is closed", "at most two years after the case was closed",
                 "a count below a set threshold is not shown", "(2021:890)", "lodge a complaint"):
        assert fact in html, fact
