"""The insights pages in Chromium, in both languages: no WCAG 2.1 AA
violation on /insights and /insights/trends, and every chart has an
accessible name and a description."""
import datetime as dt
import time

import pytest
from playwright.sync_api import expect

from crypto import totp
from portal.cli.demo_history import seed_history
from portal.staff.accounts import create_user
from support import HANDLER_PASSWORD, enrol_totp, seed_channels

pytestmark = pytest.mark.browser


def _seed(server):
    app = server.app
    session = app.extensions["tillit.db"].sessionmaker()
    settings = app.config["TILLIT"]
    seeded = seed_channels(session, settings)
    handlers = seeded["handlers"]
    from portal.models import Unit

    unit_ids = [u.id for u in session.query(Unit)]
    seed_history(session, settings, unit_ids, {"obstacle": handlers["anna"].id, "misconduct": handlers["carin"].id},
                 dt.date.today())
    viewer = create_user(session, settings, username="ledning", display_name="Ledning", password=HANDLER_PASSWORD,
                         roles={"viewer"}).user
    session.commit()
    secret = enrol_totp(session, settings, viewer)
    session.close()
    return secret


def _charts_are_named(page):
    page.wait_for_load_state("load")  # the URL changes at commit, before the charts are parsed
    charts = page.locator("svg[role=img]")
    expect(charts.first).to_be_attached()
    for index in range(charts.count()):
        chart = charts.nth(index)
        labelled = chart.get_attribute("aria-labelledby").split()
        for part in labelled:
            assert page.locator(f"#{part}").text_content().strip(), part


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_insights_and_trends_have_no_wcag_violations(browser, live_server_factory, axe_violations, lang):
    server = live_server_factory(seeded=False)
    secret = _seed(server)
    assert axe_violations(server.url + "/insights", locale=lang) == []
    context = browser.new_context(locale=lang, extra_http_headers={"Accept-Language": lang})
    page = context.new_page()
    page.goto(server.url + "/insights")
    assert page.locator("table.stats").count() >= 4
    _charts_are_named(page)

    page.goto(server.url + "/handler/login")
    page.fill("#username", "ledning")
    page.fill("#password", HANDLER_PASSWORD)
    page.fill("#code", totp.code_for_step(secret, totp.step_at(time.time())))
    page.click("button.primary")
    assert page.url.endswith("/insights/trends")
    _charts_are_named(page)

    def signed_in(axe_page):
        axe_page.context.add_cookies(context.cookies())
        axe_page.goto(server.url + "/insights/trends")

    assert axe_violations(server.url + "/insights/trends", locale=lang, prepare=signed_in) == []
    context.close()
