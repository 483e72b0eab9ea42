"""A handler signs in with a TOTP code, acknowledges a case and replies; the
reporter, without JavaScript, sees the reply and the new status."""
import re
import time

import pytest
from playwright.sync_api import expect

from crypto import totp
from page_checks import ID_CHECK
from support import HANDLER_PASSWORD, enrol_totp, new_report, seed_channels

pytestmark = pytest.mark.browser


def test_handler_acknowledges_and_replies_and_reporter_sees_it(
        browser, live_server, nojs_context_factory, axe_violations):
    app = live_server.app
    session = app.extensions["tillit.db"].sessionmaker()
    settings = app.config["TILLIT"]
    anna = seed_channels(session, settings)["handlers"]["anna"]
    secret = enrol_totp(session, settings, anna)
    submitted = new_report(session, settings)
    session.close()

    staff = browser.new_context(locale="en-GB", extra_http_headers={"Accept-Language": "en"})
    page = staff.new_page()
    page.goto(live_server.url + "/handler/")
    assert "/handler/login" in page.url  # not signed in yet
    page.fill("#username", "anna")
    page.fill("#password", HANDLER_PASSWORD)
    page.fill("#code", totp.code_for_step(secret, totp.step_at(time.time())))
    page.click("button.primary")
    assert page.url.endswith("/handler/")
    assert axe_violations(page.url, locale="en", prepare=lambda p: _same_session(p, staff, page.url)) == []

    page.click(f"a[href='/handler/case/{submitted.report_id}']")
    assert "Three systems" in page.content()
    page.click("text=Acknowledge receipt")
    # expect() waits for the page the redirect leads to to be parsed, not
    # only committed: inner_text() could read a half-parsed page under load.
    expect(page.locator("main")).to_contain_text("Acknowledged")
    page.select_option("#kind", "message")
    page.fill("#body", "Thank you, we are looking into it.")
    page.click("text=Send to the reporter")
    expect(page.locator("main")).to_contain_text("Thank you, we are looking into it.")
    staff.close()

    reporter = nojs_context_factory("en-GB").new_page()
    reporter.goto(live_server.url + "/follow-up")
    reporter.fill("#receipt", submitted.receipt.lower().replace("-", " "))
    reporter.click("button.primary")
    text = reporter.inner_text("main")
    assert "Thank you, we are looking into it." in text
    assert re.search(r"Acknowledged", text)


def _same_session(axe_page, staff_context, url):
    """axe runs in its own context: give it the signed-in cookies."""
    axe_page.context.add_cookies(staff_context.cookies())
    axe_page.goto(url)
    assert axe_page.evaluate(ID_CHECK) == {"duplicated": [], "missing": [], "manyLabels": []}, url


import pytest  # noqa: E402


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_staff_pages_have_no_wcag_violations(browser, live_server, axe_violations, lang):
    app = live_server.app
    session = app.extensions["tillit.db"].sessionmaker()
    settings = app.config["TILLIT"]
    seeded = seed_channels(session, settings)
    anna = seeded["handlers"]["anna"]
    secret = enrol_totp(session, settings, anna)
    submitted = new_report(session, settings, publish_consent=True)
    session.close()
    url = live_server.url
    assert axe_violations(url + "/handler/login", locale=lang) == []
    assert axe_violations(url + "/handler/recover", locale=lang) == []

    def failed_login(page):
        page.goto(url + "/handler/login")
        page.fill("#username", "anna")
        page.fill("#password", "wrong password")
        page.click("button.primary")
        assert page.evaluate(ID_CHECK) == {"duplicated": [], "missing": [], "manyLabels": []}
    assert axe_violations(url, locale=lang, prepare=failed_login) == []

    def enrolment(page):
        page.goto(url + "/handler/login")
        page.fill("#username", "bjorn")
        page.fill("#password", HANDLER_PASSWORD)
        page.click("button.primary")
        assert "/handler/enrol" in page.url
        assert page.evaluate(ID_CHECK) == {"duplicated": [], "missing": [], "manyLabels": []}
    assert axe_violations(url, locale=lang, prepare=enrolment) == []

    context = browser.new_context(locale=lang, extra_http_headers={"Accept-Language": lang})
    page = context.new_page()
    page.goto(url + "/handler/login")
    page.fill("#username", "anna")
    page.fill("#password", HANDLER_PASSWORD)
    page.fill("#code", totp.code_for_step(secret, totp.step_at(time.time())))
    page.click("button.primary")
    for path in ("/handler/", f"/handler/case/{submitted.report_id}", "/handler/account"):
        assert axe_violations(url + path, locale=lang,
                              prepare=lambda p, path=path: _same_session(p, context, url + path)) == [], path
    context.close()
