"""axe-core (WCAG 2.1 A and AA) on every page a reporter can reach, in both
languages, clean and in its error states.

axe needs JavaScript, so each page is reached in a JavaScript-enabled context;
the pages have no scripts, so they are the same pages a reporter without
JavaScript gets. The steps below use names and CSS classes rather than
labels so that one recipe serves both languages; each recipe checks that it
reached the state it is meant to check, with the expected HTTP status.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Callable

import pytest
from PIL import Image, PngImagePlugin
from playwright.sync_api import expect
from page_checks import ID_CHECK

pytestmark = pytest.mark.browser

LOCALES = {"sv": "sv-SE", "en": "en-GB"}
OBSTACLE_STEP_TWO = "/report/obstacle?category=it_systems&chain_level=management"
MISCONDUCT_STEP_TWO = "/report/misconduct?category=fraud"
FORM = "form[enctype='multipart/form-data']"
SEND = f"{FORM} button[type=submit]"


def text_file(name: str, body: bytes = b"Some notes.\n") -> dict:
    return {"name": name, "mimeType": "text/plain", "buffer": body}


def png_file(name: str) -> dict:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Erika Exempel")
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG", pnginfo=info)
    return {"name": name, "mimeType": "image/png", "buffer": buffer.getvalue()}


# --- steps ----------------------------------------------------------------------

def fill_obstacle(page, server):
    page.goto(server.url + OBSTACLE_STEP_TWO)
    page.fill("textarea[name=today]", "The same numbers go into three systems.")
    page.fill("textarea[name=change]", "One system is enough.")


def send_report(page, server, files=()):
    """Send an obstacle report; return its receipt code (the page shows the receipt)."""
    fill_obstacle(page, server)
    if files:
        page.set_input_files("input[name=attachments]", list(files))
    page.click(SEND)
    expect(page.locator(".receipt code")).to_be_visible()
    return page.locator(".receipt code").inner_text().strip()


def open_case(page, server, receipt):
    page.goto(server.url + "/follow-up")
    page.fill("input[name=receipt]", receipt)
    page.click("main form button[type=submit]")
    expect(page).to_have_url(server.url + "/follow-up/case")


def handler_acts(server, receipt):
    """What a case handler would do: acknowledge the report and write to the reporter."""
    from portal.reports import dialogue, workflow
    from support import open_report
    from portal.domain.taxonomy import AUTHOR_HANDLER, STATUS_ACKNOWLEDGED

    app = server.app
    with app.app_context():
        session = app.extensions["tillit.db"].sessionmaker()
        try:
            report, dek = open_report(session, app.config["TILLIT"], receipt)
            workflow.transition(session, report, dek, STATUS_ACKNOWLEDGED)
            dialogue.post_message(session, report, dek, author=AUTHOR_HANDLER,
                                  body="Thank you. Which systems are they?")
            dialogue.post_message(session, report, dek, author=AUTHOR_HANDLER, kind="minutes",
                                  body="Meeting on Monday: the reporter described the three systems.")
            session.commit()
        finally:
            session.close()


# --- the pages --------------------------------------------------------------------

@dataclass
class Page:
    reach: Callable  # (page, server) -> None
    status: int
    shows: tuple[str, ...] = ()  # selectors that must be visible on the page reached
    settings: dict = field(default_factory=dict)  # live server settings
    seeded: bool = True


def landing(page, server):
    page.goto(server.url + "/")


def chooser(track, error=False):
    def reach(page, server):
        page.goto(server.url + f"/report/{track}")
        if error:
            page.click("main form[method=get] button[type=submit]")
    return reach


def step_two(path):
    def reach(page, server):
        page.goto(server.url + path)
    return reach


def obstacle_with_errors(page, server):
    page.goto(server.url + OBSTACLE_STEP_TWO)
    page.fill("textarea[name=change]", "One system is enough.")
    page.set_input_files("input[name=attachments]", [text_file("program.exe")])
    page.click(SEND)


def excluding_everyone(page, server):
    fill_obstacle(page, server)
    for box in page.locator("input[name=exclude]").all():
        box.check()
    page.click(SEND)


def misconduct_with_errors(page, server):
    page.goto(server.url + MISCONDUCT_STEP_TWO)
    page.fill("input[name=when]", "last spring")
    page.fill("textarea[name=evidence]", "Ledger entries.")
    page.set_input_files("input[name=attachments]", [text_file("ledger.csv", b"x" * (1024 * 1024 + 1))])
    page.click(SEND)


def expired_form(page, server):
    fill_obstacle(page, server)
    page.locator(f"{FORM} input[name=csrf_token]").evaluate("input => { input.value = 'stale'; }")
    page.click(SEND)


def receipt(page, server):
    send_report(page, server, [text_file("notes.txt"), png_file("photo.png")])


def receipt_gone(page, server):
    send_report(page, server)
    page.reload()


def replayed(page, server):
    fill_obstacle(page, server)
    used = page.locator("input[name=nonce]").input_value()
    page.click(SEND)
    expect(page.locator(".receipt code")).to_be_visible()
    fill_obstacle(page, server)
    page.locator("input[name=nonce]").evaluate("(input, used) => { input.value = used; }", used)
    page.click(SEND)


def follow_up(page, server):
    page.goto(server.url + "/follow-up")


def follow_up_submitted(receipt_text):
    def reach(page, server):
        page.goto(server.url + "/follow-up")
        page.fill("input[name=receipt]", receipt_text)
        page.click("main form button[type=submit]")
    return reach


def follow_up_expired(page, server):
    open_case(page, server, send_report(page, server))
    page.fill("textarea[name=body]", "Written while the session ran out.")
    server.age_reporter_session(page.context, 16 * 60)
    page.click("form[action*='/follow-up/reply'] button[type=submit]")
    expect(page.locator("input[name=pending_reply]")).to_have_value("Written while the session ran out.")


def case_with_messages(page, server):
    code = send_report(page, server, [text_file("notes.txt")])
    handler_acts(server, code)
    open_case(page, server, code)
    page.fill("textarea[name=body]", "It is the time report, the budget and the quality system.")
    page.set_input_files("input[name=attachments]", [text_file("systems.txt")])
    page.click("form[action*='/follow-up/reply'] button[type=submit]")
    page.click("form[action*='/follow-up/meeting'] button[type=submit]")
    expect(page.locator(".messages > li")).to_have_count(4)


def case_with_reply_error(page, server):
    open_case(page, server, send_report(page, server))
    page.set_input_files("input[name=attachments]", [text_file("program.exe")])
    page.click("form[action*='/follow-up/reply'] button[type=submit]")


def signed_out(page, server):
    open_case(page, server, send_report(page, server))
    page.click("form[action$='/follow-up/sign-out'] button[type=submit]")


def not_found(page, server):
    page.goto(server.url + "/no-such-page")


PAGES = {
    "landing": Page(landing, 200, (".doors",)),
    "choose-obstacle": Page(chooser("obstacle"), 200, ("fieldset#category", "fieldset#chain_level")),
    "choose-misconduct": Page(chooser("misconduct"), 200, ("fieldset#category",)),
    "choose-obstacle-error": Page(chooser("obstacle", error=True), 200, (".error-summary", "#category-error")),
    "choose-misconduct-error": Page(chooser("misconduct", error=True), 200, (".error-summary", "#category-error")),
    "form-obstacle": Page(step_two(OBSTACLE_STEP_TWO), 200, ("textarea[name=today]", "fieldset#exclude")),
    "form-misconduct": Page(step_two(MISCONDUCT_STEP_TWO), 200, ("textarea[name=what]", "fieldset#exclude")),
    "form-obstacle-errors": Page(obstacle_with_errors, 400,
                                 (".error-summary", "#today-error", "#attachments-error")),
    "form-excluding-everyone": Page(excluding_everyone, 400, (".error-summary", "#exclude-error")),
    "form-misconduct-too-large": Page(misconduct_with_errors, 413,
                                      (".error-summary", "#what-error", "#attachments-error"),
                                      settings={"max_upload_mib": 1}),
    "form-expired-token": Page(expired_form, 400, (".error-summary", "textarea[name=today]")),
    "no-route": Page(step_two(OBSTACLE_STEP_TWO), 503, ("main h1",), seeded=False),
    "receipt": Page(receipt, 200, (".receipt code", ".file-report")),
    "receipt-gone": Page(receipt_gone, 200, ("main h1",)),
    "replayed": Page(replayed, 409, ("main h1",)),
    "follow-up": Page(follow_up, 200, ("input[name=receipt]",)),
    "follow-up-empty": Page(follow_up_submitted(""), 400, (".error-summary", "#receipt-error")),
    "follow-up-wrong-receipt": Page(follow_up_submitted("0000-0000-0000-0000-0000-0000-0000-0000"), 400,
                                    (".error-summary",)),
    "follow-up-expired": Page(follow_up_expired, 401, (".notice", "input[name=receipt]")),
    "case-with-messages": Page(case_with_messages, 200,
                               (".messages .from-handler", ".messages .from-reporter", ".files", ".timeline",
                                ".minutes-check")),
    "case-reply-error": Page(case_with_reply_error, 400, (".error-summary", "#body-error", "#attachments-error")),
    "signed-out": Page(signed_out, 200, ("main h1",)),
    "not-found": Page(not_found, 404, ("main h1",)),
}


@pytest.mark.parametrize("lang", list(LOCALES))
@pytest.mark.parametrize("name", list(PAGES))
def test_reporter_page_has_no_wcag_violations(live_server_factory, axe_violations, name, lang):
    spec = PAGES[name]
    server = live_server_factory(seeded=spec.seeded, **spec.settings)
    statuses = []

    def prepare(page):
        page.on("response", lambda r: statuses.append(r.status)
                if r.request.is_navigation_request() and r.frame == page.main_frame else None)
        spec.reach(page, server)
        page.wait_for_load_state()
        assert statuses[-1] == spec.status, page.url
        assert page.locator("html").get_attribute("lang") == lang
        for selector in spec.shows:
            expect(page.locator(selector).first).to_be_visible()
        assert page.evaluate(ID_CHECK) == {"duplicated": [], "missing": [], "manyLabels": []}

    assert axe_violations(None, LOCALES[lang], prepare=prepare) == []
