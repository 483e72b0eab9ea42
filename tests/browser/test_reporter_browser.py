"""The reporter's whole path in Chromium with JavaScript disabled (as in Tor
Browser at its safest level): landing page, the two form steps, attachments,
the one-time receipt, follow-up with a forgiving receipt, the case page and
the dialogue. Everything here is plain links, GET and POST forms."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image, PngImagePlugin
from playwright.sync_api import expect
from sqlalchemy import select

from crypto.kdf import Argon2Params
from crypto.receipt import parse_receipt
from portal.models import Attachment, Exclusion, Message, Report, ReportKey

pytestmark = pytest.mark.browser

SV_TODAY = "Vi för in samma siffror i tre olika system varje månad."
SV_CHANGE = "Ett system räcker.\nDå sparar vi en dag i månaden."
EN_WHAT = "Invoices from one supplier were paid twice in the spring."
EN_WHO = "A supplier and someone in accounts payable."
EN_EVIDENCE = "Ledger entries 4711 and 4712."


def text_file(name: str, body: str) -> dict:
    return {"name": name, "mimeType": "text/plain", "buffer": body.encode()}


def png_with_author(name: str) -> dict:
    """A small PNG whose text chunk names its author: cleaning must remove it."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Erika Exempel")
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG", pnginfo=info)
    return {"name": name, "mimeType": "image/png", "buffer": buffer.getvalue()}


def main(page):
    return page.locator("main")


def answers(page) -> dict[str, str]:
    """The "What you reported" list on the case page as {question: answer}."""
    terms = page.locator(".answers dt").all_inner_texts()
    details = page.locator(".answers dd").all_inner_texts()
    assert len(terms) == len(details)
    return dict(zip(terms, details))


def post_status(page, action):
    """Run action (a click that sends a POST) and return the POST's HTTP status."""
    with page.expect_response(lambda r: r.request.method == "POST") as response:
        action()
    page.wait_for_load_state()
    return response.value.status


def test_live_servers_use_the_fast_test_argon2_parameters(live_server, live_server_factory):
    # Receipts and handler keys are derived with Argon2; production parameters
    # would make every journey below take seconds per step.
    assert live_server.app.config["TILLIT"].argon2 == Argon2Params.TEST
    assert live_server_factory(seeded=False).app.config["TILLIT"].argon2 == Argon2Params.TEST


def test_obstacle_journey_in_swedish(seeded_live_server, nojs_context_factory, live_db):
    server = seeded_live_server
    page = nojs_context_factory("sv-SE").new_page()
    page.goto(server.url + "/")
    assert page.locator("html").get_attribute("lang") == "sv"

    # Step 1: what it is about and where in the governance chain it comes from.
    page.get_by_role("link", name="Rapportera ett hinder").first.click()
    expect(page.locator(".step")).to_have_text("Steg 1 av 2")
    expect(page.locator("h1")).to_have_text("Rapportera ett hinder")
    page.get_by_label("Rapporterings- och mätbörda").check()
    page.get_by_label("Ledningen", exact=True).check()
    page.get_by_role("button", name="Fortsätt").click()

    # Step 2: the choices are carried over; the questions are answered.
    expect(page.locator(".step")).to_have_text("Steg 2 av 2")
    assert page.locator("select[name=category]").input_value() == "reporting_burden"
    assert page.locator("select[name=chain_level]").input_value() == "management"
    page.get_by_role("radio", name="Tillit").check()
    page.get_by_label("Vad händer i dag?").fill(SV_TODAY)
    page.get_by_label("Vad borde ändras?").fill(SV_CHANGE)
    page.get_by_label("1 till 3 timmar i veckan").check()
    page.locator("input[name=publish_consent]").check()
    page.get_by_label("Bilagor (frivilligt)").set_input_files(
        [text_file("anteckningar.txt", "Tre system, samma siffror.\n")])
    assert post_status(page, lambda: page.get_by_role("button", name="Skicka rapporten").click()) == 302

    # The receipt page: the code once, and what cleaning did to the file.
    expect(page).to_have_url(server.url + "/report/sent")
    expect(page.locator("h1")).to_have_text("Din rapport har skickats")
    receipt = page.locator(".receipt code").inner_text().strip()
    assert parse_receipt(receipt)
    file_line = page.locator(".file-report li")
    expect(file_line).to_have_count(1)
    expect(file_line).to_contain_text("anteckningar.txt")
    expect(file_line).to_contain_text("inget att ta bort.")

    report = live_db(server).scalars(select(Report))
    assert len(report) == 1
    assert (report[0].track, report[0].category, report[0].chain_level, report[0].principle,
            report[0].time_lost, report[0].publish_consent) == \
        ("obstacle", "reporting_burden", "management", "trust", "1to3", True)

    # Follow-up with the code typed carelessly: lower case, spaces for dashes.
    main(page).get_by_role("link", name="Följ upp en rapport").click()
    expect(page.locator("h1")).to_have_text("Följ upp en rapport")
    typed = receipt.lower().replace("-", " ")
    assert typed != receipt
    page.get_by_label("Din kvittokod").fill(typed)
    page.get_by_role("button", name="Öppna rapporten").click()

    expect(page).to_have_url(server.url + "/follow-up/case")
    expect(page.locator("h1")).to_have_text("Din rapport")
    expect(page.locator(".status-line")).to_have_text("Mottagen")
    expect(page.locator(".timeline li")).to_have_count(1)
    expect(page.locator(".timeline li")).to_contain_text("Mottagen")
    expect(page.locator(".facts")).to_contain_text("Rapporterings- och mätbörda")
    assert answers(page) == {"Vad händer i dag?": SV_TODAY, "Vad borde ändras?": SV_CHANGE}
    expect(page.get_by_role("link", name="anteckningar.txt")).to_be_visible()
    expect(page.locator(".messages")).to_have_count(0)

    # A reply with an attachment joins the dialogue.
    page.get_by_label("Ditt meddelande").fill("Det gäller också kvartalsrapporten.")
    page.get_by_label("Bilagor (frivilligt)").set_input_files(
        [text_file("kvartal.txt", "Samma sak varje kvartal.\n")])
    assert post_status(page, lambda: page.get_by_role("button", name="Skicka meddelandet").click()) == 302
    expect(page).to_have_url(server.url + "/follow-up/case#dialogue")
    message = page.locator(".messages li.message")
    expect(message).to_have_count(1)
    expect(message.locator(".body")).to_have_text("Det gäller också kvartalsrapporten.")
    expect(message.locator(".meta")).to_contain_text("Du")
    expect(message.get_by_role("link", name="kvartal.txt")).to_be_visible()

    # The attachment comes back decrypted, as a download.
    with page.expect_download() as download:
        message.get_by_role("link", name="kvartal.txt").click()
    assert download.value.suggested_filename == "kvartal.txt"
    assert open(download.value.path(), encoding="utf-8").read() == "Samma sak varje kvartal.\n"
    assert live_db(server).count(Message) == 1
    assert live_db(server).count(Attachment) == 2


def test_misconduct_journey_in_english(seeded_live_server, nojs_context_factory, live_db):
    server = seeded_live_server
    page = nojs_context_factory("en-GB").new_page()
    page.goto(server.url + "/")
    page.get_by_role("link", name="Report misconduct", exact=True).click()
    expect(page.locator(".step")).to_have_text("Step 1 of 2")
    expect(page.locator("input[name=chain_level]")).to_have_count(0)
    page.get_by_label("Fraud or misuse of funds").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.locator(".step")).to_have_text("Step 2 of 2")
    handlers = page.get_by_role("group", name="Exclude handlers (optional)")
    expect(handlers.get_by_role("checkbox")).to_have_count(2)
    expect(handlers).to_contain_text("Carin")
    expect(handlers).to_contain_text("David")
    month = page.get_by_label("When did it happen? (optional)")
    month.fill("last spring, around Easter")  # words are fine
    page.get_by_label("Who is involved? (optional)").fill(EN_WHO)
    page.get_by_label("Is there evidence, or others who know? (optional)").fill(EN_EVIDENCE)
    handlers.get_by_label("Carin").check()
    page.get_by_label("Attachments (optional)").set_input_files([png_with_author("ledger.png")])

    # The required answer left out is explained; the rest is kept, the file must be chosen again.
    assert post_status(page, lambda: page.get_by_role("button", name="Send the report").click()) == 400
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link", name="What happened?: This field is required.")).to_have_attribute(
        "href", "#what")
    expect(summary).to_contain_text("Files you chose must be chosen again")
    expect(month).to_have_value("last spring, around Easter")
    expect(page.get_by_label("What happened?")).to_have_attribute("aria-invalid", "true")
    expect(handlers.get_by_label("Carin")).to_be_checked()
    expect(handlers.get_by_label("David")).not_to_be_checked()
    assert live_db(server).count(Report) == 0

    page.get_by_label("What happened?").fill(EN_WHAT)
    page.get_by_label("Attachments (optional)").set_input_files([png_with_author("ledger.png")])
    assert post_status(page, lambda: page.get_by_role("button", name="Send the report").click()) == 302

    expect(page.locator("h1")).to_have_text("Your report has been sent")
    receipt = page.locator(".receipt code").inner_text().strip()
    file_line = page.locator(".file-report li")
    expect(file_line).to_contain_text("ledger.png")
    expect(file_line).to_contain_text("removed: text fields.")

    # Carin was excluded: she gets no key, David does.
    ids = seeded_live_server.handlers
    assert live_db(server).scalars(select(ReportKey.user_id)) == [ids["david"]]
    assert live_db(server).scalars(select(Exclusion.user_id)) == [ids["carin"]]

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Follow up a report").click()
    page.get_by_label("Your receipt code").fill(receipt.lower().replace("-", " "))
    page.get_by_role("button", name="Open the report").click()
    expect(page).to_have_url(server.url + "/follow-up/case")
    expect(page.locator(".status-line")).to_have_text("Received")
    expect(page.locator(".timeline li")).to_contain_text("Received")
    expect(page.locator(".facts")).to_contain_text("Misconduct: Fraud or misuse of funds")
    assert answers(page) == {
        "What happened?": EN_WHAT,
        "When did it happen? (optional)": "last spring, around Easter",
        "Who is involved? (optional)": EN_WHO,
        "Is there evidence, or others who know? (optional)": EN_EVIDENCE,
    }
    expect(page.get_by_role("link", name="ledger.png")).to_be_visible()

    page.get_by_label("Your message").fill("The second payment went to a new bank account.")
    page.get_by_label("Attachments (optional)").set_input_files([text_file("bank.txt", "IBAN changed in March.\n")])
    page.get_by_role("button", name="Send the message").click()
    expect(page).to_have_url(server.url + "/follow-up/case#dialogue")
    message = page.locator(".messages li.message")
    expect(message).to_have_count(1)
    expect(message.locator(".body")).to_have_text("The second payment went to a new bank account.")
    expect(message.get_by_role("link", name="bank.txt")).to_be_visible()

    # Asking for a meeting joins the dialogue too; signing out ends the session.
    page.get_by_role("button", name="Ask for a meeting").click()
    expect(message).to_have_count(2)
    expect(message.nth(1).locator(".meta")).to_contain_text("Meeting request")
    page.get_by_role("button", name="Close the case").click()
    expect(page.locator("h1")).to_have_text("The case is closed on this device")
    page.goto(server.url + "/follow-up/case")
    expect(page).to_have_url(server.url + "/follow-up")
    assert live_db(server).count(Report) == 1


def _send_obstacle_report(page, server) -> dict:
    """Step two of an obstacle report, answered and sent (either language).
    Returns the form's fields as sent, files aside."""
    page.goto(server.url + "/report/obstacle?category=it_systems&chain_level=management")
    page.locator("textarea[name=today]").fill(SV_TODAY)
    page.locator("textarea[name=change]").fill(SV_CHANGE)
    page.locator("input[name=attachments]").set_input_files([text_file("a.txt", "a\n")])
    form = page.locator("form[enctype='multipart/form-data']")
    sent = form.evaluate("""f => Object.fromEntries([...new FormData(f).entries()]
                                 .filter(([, v]) => typeof v === 'string'))""")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(server.url + "/report/sent")
    return sent


def test_receipt_is_shown_once_and_back_or_replay_sends_nothing_twice(
        seeded_live_server, nojs_context_factory, live_db):
    server = seeded_live_server
    context = nojs_context_factory("sv-SE")
    page = context.new_page()
    sent = _send_obstacle_report(page, server)
    receipt = page.locator(".receipt code").inner_text().strip()
    assert live_db(server).count(Report) == 1

    # Reloading the receipt page does not show the code again.
    page.reload()
    expect(page.locator("h1")).to_have_text("Kvittokoden visas inte längre")
    assert receipt not in page.content()
    expect(page.locator(".receipt")).to_have_count(0)

    # Back to the form and send again: no second report.
    page.go_back()
    expect(page.locator(".step")).to_have_text("Steg 2 av 2")
    # The report text is not left behind in the browser's history either.
    expect(page.get_by_label("Vad händer i dag?")).to_have_value("")
    page.get_by_role("button", name="Skicka rapporten").click()
    page.wait_for_load_state()
    expect(page.locator("h1")).not_to_have_text("Din rapport har skickats")
    assert live_db(server).count(Report) == 1

    # The very same form sent again (same cookies, same token) is refused.
    replay = context.request.post(server.url + "/report/obstacle", multipart=sent, max_redirects=0)
    assert replay.status == 409, re.sub(r"\s+", " ", replay.text())[-2500:]
    assert "Rapporten har redan skickats" in replay.text()
    assert live_db(server).count(Report) == 1


def test_reply_is_not_sent_twice_by_back_and_resend(seeded_live_server, nojs_context_factory, live_db):
    server = seeded_live_server
    page = nojs_context_factory("sv-SE").new_page()
    _send_obstacle_report(page, server)
    receipt = page.locator(".receipt code").inner_text().strip()
    page.goto(server.url + "/follow-up")
    page.get_by_label("Din kvittokod").fill(receipt)
    page.get_by_role("button", name="Öppna rapporten").click()
    page.get_by_label("Ditt meddelande").fill("Ett svar.")
    page.get_by_role("button", name="Skicka meddelandet").click()
    expect(page.locator(".messages li.message")).to_have_count(1)
    page.go_back()
    page.get_by_role("button", name="Skicka meddelandet").click()
    page.wait_for_load_state()
    assert live_db(server).count(Message) == 1


def test_session_that_ran_out_keeps_the_typed_reply(seeded_live_server, nojs_context_factory, live_db):
    server = seeded_live_server
    context = nojs_context_factory("en-GB")
    page = context.new_page()
    _send_obstacle_report(page, server)
    receipt = page.locator(".receipt code").inner_text().strip()
    page.goto(server.url + "/follow-up")
    page.get_by_label("Your receipt code").fill(receipt)
    page.get_by_role("button", name="Open the report").click()
    expect(page.locator(".session-notice")).to_contain_text("15 minutes")

    # Ten minutes away: "Keep the case open" keeps the session.
    server.age_reporter_session(context, 10 * 60)
    page.get_by_role("button", name="Keep the case open").click()
    expect(page).to_have_url(server.url + "/follow-up/case")

    # Sixteen minutes away while writing: the reply is kept through signing in again.
    page.get_by_label("Your message").fill("Written before the break.")
    server.age_reporter_session(context, 16 * 60)
    assert post_status(page, lambda: page.get_by_role("button", name="Send the message").click()) == 401
    expect(page.locator("h1")).to_have_text("Follow up a report")
    expect(page.locator(".notice")).to_contain_text("Your session ended")
    expect(page.locator(".notice")).to_contain_text("The message you wrote is kept")
    assert live_db(server).count(Message) == 0
    page.get_by_label("Your receipt code").fill(receipt)
    page.get_by_role("button", name="Open the report").click()
    expect(page).to_have_url(server.url + "/follow-up/case")
    expect(page.locator(".messages li.message .body")).to_have_text("Written before the break.")
    assert live_db(server).count(Message) == 1


def test_missing_answer_without_javascript_keeps_everything_typed(
        seeded_live_server, nojs_context_factory, live_db):
    server = seeded_live_server
    page = nojs_context_factory("sv-SE").new_page()
    page.goto(server.url + "/report/obstacle")
    page.get_by_label("IT och system").check()
    page.get_by_label("Ledningen", exact=True).check()
    page.get_by_role("button", name="Fortsätt").click()
    page.locator("input[name=principle][value=openness]").check()
    page.get_by_label("Vad borde ändras?").fill(SV_CHANGE)
    page.get_by_label("Mer än 8 timmar i veckan").check()
    page.locator("input[name=publish_consent]").check()
    page.get_by_label("Bilagor (frivilligt)").set_input_files([text_file("a.txt", "a\n")])
    assert post_status(page, lambda: page.get_by_role("button", name="Skicka rapporten").click()) == 400

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator("h2")).to_have_text("Det finns ett problem")
    link = summary.get_by_role("link", name="Fältet måste fyllas i.")
    expect(link).to_have_attribute("href", "#today")
    expect(summary).to_contain_text("Filer som du valt måste väljas igen")
    today = page.get_by_label("Vad händer i dag?")
    expect(today).to_have_attribute("aria-invalid", "true")
    expect(today).to_have_attribute("aria-describedby", re.compile(r"\btoday-error\b"))
    expect(page.locator("#today-error")).to_contain_text("Fältet måste fyllas i.")
    # Everything else comes back as it was typed and chosen.
    expect(page.get_by_label("Vad borde ändras?")).to_have_value(SV_CHANGE)
    assert page.locator("select[name=category]").input_value() == "it_systems"
    assert page.locator("select[name=chain_level]").input_value() == "management"
    assert page.locator("input[name=principle][value=openness]").is_checked()
    expect(page.get_by_label("Mer än 8 timmar i veckan")).to_be_checked()
    expect(page.locator("input[name=publish_consent]")).to_be_checked()
    assert live_db(server).count(Report) == 0

    # The link in the summary leads to the field; answering it sends the report.
    link.click()
    expect(page).to_have_url(re.compile(r"#today$"))
    today.fill(SV_TODAY)
    assert post_status(page, lambda: page.get_by_role("button", name="Skicka rapporten").click()) == 302
    expect(page.locator("h1")).to_have_text("Din rapport har skickats")
    assert live_db(server).count(Report) == 1


@pytest.mark.parametrize("locale, track, message", [
    ("sv-SE", "obstacle", "Fältet måste fyllas i."),
    ("en-GB", "misconduct", "This field is required."),
], ids=["sv-obstacle", "en-misconduct"])
def test_continue_without_a_choice_explains_what_is_missing(
        seeded_live_server, nojs_context_factory, locale, track, message):
    page = nojs_context_factory(locale).new_page()
    page.goto(seeded_live_server.url + f"/report/{track}")
    page.locator("form[method=get] button[type=submit]").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link", name=message)).to_have_attribute("href", "#category")
    expect(page.locator(".step")).to_contain_text("1")
    if track == "obstacle":
        # A chain level chosen without a category is kept while the category is asked for.
        page.get_by_label("Ledningen", exact=True).check()
        page.locator("form[method=get] button[type=submit]").click()
        expect(page.locator(".error-summary")).to_be_visible()
        expect(page.get_by_label("Ledningen", exact=True)).to_be_checked()
        page.get_by_label("Annat").check()
        page.locator("form[method=get] button[type=submit]").click()
        expect(page.locator(".step")).to_have_text("Steg 2 av 2")
        assert page.locator("select[name=category]").input_value() == "other"


def test_page_titles_are_plain_text(seeded_live_server, nojs_context_factory):
    page = nojs_context_factory("en-GB").new_page()
    for path, title in [("/", "Report safely – Tillit"), ("/report/obstacle", "Report an obstacle – Tillit"),
                        ("/follow-up", "Follow up a report – Tillit")]:
        page.goto(seeded_live_server.url + path)
        assert page.title() == title


def _scrolled_down(page, tries: int = 50) -> bool:
    """Chromium scrolls to the fragment a moment after load; give it that
    moment rather than reading the position at the instant of commit."""
    for _ in range(tries):
        if page.evaluate("window.scrollY") > 0:
            return True
        page.wait_for_timeout(100)
    return False


def test_an_empty_reply_comes_back_scrolled_to_its_error(seeded_live_server, nojs_context_factory):
    """Without JavaScript: the page that says what was wrong opens at the
    error summary, which names the field and links to it."""
    server = seeded_live_server
    page = nojs_context_factory("sv-SE").new_page()
    page.set_viewport_size({"width": 390, "height": 800})
    _send_obstacle_report(page, server)
    receipt = page.locator(".receipt code").inner_text().strip()
    page.goto(server.url + "/follow-up")
    page.get_by_label("Din kvittokod").fill(receipt)
    page.get_by_role("button", name="Öppna rapporten").click()
    page.get_by_role("button", name="Skicka meddelandet").click()
    page.wait_for_load_state("load")
    summary = page.locator("#reply-errors")
    expect(summary).to_be_visible()
    assert page.url.endswith("#reply-errors")
    assert _scrolled_down(page)
    box = summary.bounding_box()
    assert -1 <= box["y"] < 800  # in view as the page opens, not half-way down
    link = summary.get_by_role("link")
    assert link.inner_text().startswith("Ditt meddelande:")
    link.click()
    assert page.evaluate("document.activeElement.id") == "body"
