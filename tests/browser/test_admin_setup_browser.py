"""An administrator sets up a new channel with a handler and a routing rule
in Chromium, and axe-core finds no WCAG violation on any page of the way,
error states included."""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crypto import totp
from portal.models import Channel, Membership, RoutingRule, User
from portal.staff.accounts import create_user
from support import HANDLER_PASSWORD, enrol_totp, seed_channels

pytestmark = pytest.mark.browser


def _axe_clean(axe_violations, context, page):
    def same_session(axe_page):
        axe_page.context.add_cookies(context.cookies())
        axe_page.goto(page.url)
    assert axe_violations(page.url, locale="en", prepare=same_session) == [], page.url


def test_an_admin_sets_up_a_channel_with_a_handler_and_a_rule(browser, live_server, live_db, axe_violations):
    app = live_server.app
    session = app.extensions["tillit.db"].sessionmaker()
    settings = app.config["TILLIT"]
    seed_channels(session, settings)
    admin = create_user(session, settings, username="admin", display_name="Eva Admin",
                        password=HANDLER_PASSWORD, roles={"admin"}).user
    session.commit()
    secret = enrol_totp(session, settings, admin)
    session.close()

    context = browser.new_context(locale="en-GB", extra_http_headers={"Accept-Language": "en"})
    page = context.new_page()
    page.goto(live_server.url + "/handler/login")
    page.fill("#username", "admin")
    page.fill("#password", HANDLER_PASSWORD)
    page.fill("#code", totp.code_for_step(secret, totp.step_at(time.time())))
    page.click("button.primary")
    page.click("nav.site-nav >> text=Administration")
    page.click("nav.sub-nav >> text=Channels")
    page.click("text=New channel")

    # A mistake first: the message is shown, what was typed stays.
    page.fill("#name_en", "IT support")
    page.fill("#retention_months", "")
    page.click("text=Create the channel")
    expect(page.locator(".error-summary")).to_contain_text("This field is required.")
    assert page.input_value("#name_en") == "IT support"
    _axe_clean(axe_violations, context, page)

    page.fill("#name", "IT-stöd")
    page.fill("#description", "Tar emot hinder som gäller IT.")
    page.fill("#retention_months", "36")
    page.click("text=Create the channel")
    expect(page.locator("main")).to_contain_text("The channel IT-stöd was created")
    _axe_clean(axe_violations, context, page)

    page.click("nav.sub-nav >> text=People")
    page.click("text=New person")
    page.fill("#username", "sara.it")
    page.fill("#display_name", "Sara Svensson")
    page.check("input[name=roles][value=handler]")
    page.click("text=Create the account")
    expect(page.locator("main")).to_contain_text("Sara Svensson")

    page.click("nav.sub-nav >> text=Channels")
    page.click("text=IT-stöd")
    page.select_option("#user_id", label="Sara Svensson (sara.it)")
    page.click("text=Add to the channel")
    expect(page.locator("main")).to_contain_text("Sara Svensson was added.")
    expect(page.locator("main")).to_contain_text("not yet: has never signed in")
    _axe_clean(axe_violations, context, page)

    page.click("nav.sub-nav >> text=Routing")
    page.select_option("#obstacle-category", "it_systems")
    page.select_option("#obstacle-channel_id", label="IT-stöd")
    page.click("#routing-obstacle >> xpath=.. >> text=Add the rule")
    expect(page.locator("main")).to_contain_text("The rule was added.")
    row = page.locator("#routing-obstacle >> xpath=.. >> tr", has_text="IT and systems").last
    expect(row).to_contain_text("IT-stöd")
    _axe_clean(axe_violations, context, page)
    context.close()

    [channel] = live_db(live_server).scalars(select(Channel).where(Channel.name == "IT-stöd"))
    [sara] = live_db(live_server).scalars(select(User).where(User.username == "sara.it"))
    assert live_db(live_server).scalars(select(Membership).where(Membership.channel_id == channel.id,
                                                                 Membership.user_id == sara.id))
    assert live_db(live_server).scalars(select(RoutingRule.category).where(RoutingRule.channel_id == channel.id)) \
        == ["it_systems"]
