"""The reporter's path through the test client: forms, receipt, follow-up, dialogue."""
import io
import re
import time

import pytest
from datetime import time as dt_time

from sqlalchemy import func, select
from sqlalchemy import types as sa_types

from crypto.receipt import parse_receipt
from portal.models import Exclusion, Message, Report, ReportKey
from support import csrf_token_from, seed_channels

OBSTACLE = {"category": "reporting_burden", "chain_level": "management", "principle": "trust",
            "today": "We fill in the same numbers in three systems.", "change": "One system is enough.",
            "time_lost": "1to3", "publish_consent": "y"}
MISCONDUCT = {"category": "fraud", "what": "Invoices paid twice.", "when": "2026-09",
              "who": "A supplier.", "evidence": "Ledger entries.", "contact": ""}


@pytest.fixture
def seeded(app, db_session, settings):
    return seed_channels(db_session, settings)


def form_page(client, track, category, chain_level="management", lang="en"):
    query = f"category={category}" + (f"&chain_level={chain_level}" if track == "obstacle" else "")
    return client.get(f"/report/{track}?{query}", headers={"Accept-Language": lang})


def hidden(html, name):
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"'
                      rf'|id="{name}" name="{name}" type="hidden" value="([^"]*)"', html)
    if not match:
        match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
    assert match, name
    return next(g for g in match.groups() if g is not None)


def submit(client, track, fields, files=None, lang="en"):
    page = form_page(client, track, fields["category"], fields.get("chain_level", "management"), lang)
    html = page.get_data(as_text=True)
    data = {**fields, "csrf_token": csrf_token_from(html), "nonce": hidden(html, "nonce"),
            "channel_shown": hidden(html, "channel_shown")}
    if files:
        data["attachments"] = files
    response = client.post(f"/report/{track}", data=data, content_type="multipart/form-data",
                           headers={"Accept-Language": lang})
    return response, data


def receipt_from(client):
    page = client.get("/report/sent", headers={"Accept-Language": "en"}).get_data(as_text=True)
    return re.search(r'<p class="receipt"[^>]*><code>([^<]+)</code>', page).group(1)


def count(db_session, model):
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model))


def test_step_one_asks_for_the_kind_of_report(client, seeded):
    page = client.get("/report/obstacle", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'method="get"' in page and 'name="category"' in page and 'name="chain_level"' in page
    misconduct = client.get("/report/misconduct", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'name="chain_level"' not in misconduct


def test_unknown_track_is_404(client, seeded):
    assert client.get("/report/gossip").status_code == 404


def test_form_lists_the_handlers_of_the_receiving_channel(client, seeded):
    html = form_page(client, "obstacle", "it_systems").get_data(as_text=True)
    assert "Anna" in html and "Bjorn" in html and "Carin" not in html
    html = form_page(client, "misconduct", "fraud").get_data(as_text=True)
    assert "Carin" in html and "David" in html and "Anna" not in html


def test_obstacle_report_is_sent_and_the_receipt_shown_once(client, seeded, db_session):
    response, _ = submit(client, "obstacle", OBSTACLE)
    assert response.status_code == 302 and response.headers["Location"].endswith("/report/sent")
    receipt = receipt_from(client)
    assert parse_receipt(receipt)
    again = client.get("/report/sent", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert receipt not in again and "shown only once" in again
    report = db_session.scalars(select(Report)).one()
    assert (report.track, report.category, report.chain_level, report.time_lost) == \
        ("obstacle", "reporting_burden", "management", "1to3")
    assert report.publish_consent and report.status == "new"
    assert report.receipt_selector == parse_receipt(receipt).selector
    assert count(db_session, ReportKey) == 2


def test_a_file_that_cannot_be_cleaned_is_asked_about_before_anything_is_sent(client, seeded, db_session):
    """Without JavaScript: the reporter learns before sending that a file
    keeps what it holds, and sends it only after saying so."""
    broken = (io.BytesIO(b"%PDF-1.4\nnot really a pdf\n"), "minutes.pdf")
    response, _ = submit(client, "obstacle", OBSTACLE, files=[broken])
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and count(db_session, Report) == 0
    assert "minutes.pdf: This file could not be read for cleaning" in html
    assert 'name="send_uncleaned"' in html and OBSTACLE["today"] in html  # asked, and nothing typed is lost
    broken = (io.BytesIO(b"%PDF-1.4\nnot really a pdf\n"), "minutes.pdf")
    response, _ = submit(client, "obstacle", {**OBSTACLE, "send_uncleaned": "y"}, files=[broken])
    assert response.status_code == 302 and count(db_session, Report) == 1


def test_a_file_that_can_be_cleaned_is_sent_without_asking(client, seeded, db_session):
    response, _ = submit(client, "obstacle", OBSTACLE, files=[(io.BytesIO(b"plain words\n"), "notes.txt")])
    assert response.status_code == 302 and count(db_session, Report) == 1


def test_a_misconduct_date_may_be_vague_words(client, seeded, db_session):
    """'Only as exact as you want' means it: a season in words is accepted."""
    response, _ = submit(client, "misconduct", {**MISCONDUCT, "when": "förra våren, runt påsk"}, lang="sv")
    assert response.status_code == 302
    assert count(db_session, Report) == 1


def test_each_principle_is_explained_and_none_may_be_chosen(client, seeded, db_session):
    page = form_page(client, "obstacle", "reporting_burden", "management", "sv").get_data(as_text=True)
    assert "Problem och idéer kan tas upp öppet, utan rädsla." in page  # openness, explained
    assert 'name="principle" type="radio" value=""' in page or 'type="radio" value=""' in page
    response, _ = submit(client, "obstacle", {**OBSTACLE, "principle": ""})
    assert response.status_code == 302
    assert db_session.scalars(select(Report)).one().principle is None


def _send_again(client, data):
    return client.post("/report/misconduct", data=data, content_type="multipart/form-data",
                       headers={"Accept-Language": "en"})


def test_the_receipt_page_offers_nothing_that_reloads_it(client, seeded):
    """The receipt is shown once: the language switch (a POST that comes back
    to the page) would throw it away, so that page has none."""
    submit(client, "misconduct", MISCONDUCT)
    page = client.get("/report/sent", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert re.search(r'<p class="receipt"[^>]*><code>', page)
    assert 'action="/language"' not in page
    assert 'action="/language"' in client.get("/report/sent").get_data(as_text=True)  # shown: switch back


def test_reload_or_replay_creates_no_second_report(client, seeded, db_session):
    response, data = submit(client, "misconduct", MISCONDUCT)
    assert response.status_code == 302
    receipt = receipt_from(client)
    replay = _send_again(client, data)
    assert replay.status_code == 409
    assert "already been sent" in replay.get_data(as_text=True)
    assert receipt not in replay.get_data(as_text=True)
    assert count(db_session, Report) == 1


def test_a_double_click_makes_one_report_and_shows_its_receipt(client, seeded, db_session):
    """The browser shows the answer to the second click; the first answer,
    with the receipt, is lost. The second copy must show that receipt."""
    first, data = submit(client, "misconduct", MISCONDUCT)
    second = _send_again(client, data)
    assert first.status_code == second.status_code == 302
    receipt = receipt_from(client)
    assert count(db_session, Report) == 1
    report = db_session.scalars(select(Report)).one()
    assert report.receipt_selector == parse_receipt(receipt).selector
    assert "no longer shown" in client.get("/report/sent", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _send_again(client, data).status_code == 409


def test_two_copies_sent_at_the_same_moment_make_one_report(client, seeded, db_session, monkeypatch):
    """Both copies pass the 'already used?' check before either commits: the
    token's primary key lets one commit, the other shows the same receipt."""
    from portal.reports import form_tokens

    _, data = submit(client, "misconduct", MISCONDUCT)
    monkeypatch.setattr(form_tokens, "is_used", lambda db, token: False)
    second = _send_again(client, data)
    assert second.status_code == 302
    receipt = receipt_from(client)
    assert count(db_session, Report) == 1
    assert db_session.scalars(select(Report)).one().receipt_selector == parse_receipt(receipt).selector


def test_the_held_receipt_goes_only_to_the_browser_that_sent_the_form(app, client, seeded, db_session):
    """Someone else with the page's token (not the cookie) gets no receipt."""

    _, data = submit(client, "misconduct", MISCONDUCT)
    stranger = app.test_client()
    response = stranger.post("/report/misconduct", data=data, content_type="multipart/form-data",
                             headers={"Accept-Language": "en"})
    assert response.status_code == 400 and "nothing was sent" in response.get_data(as_text=True)
    assert "no longer shown" not in client.get("/report/sent", headers={"Accept-Language": "en"}).get_data(
        as_text=True)  # the sender still gets it, once
    assert count(db_session, Report) == 1


def test_the_same_token_written_differently_is_the_same_token(client, seeded, db_session):
    first, data = submit(client, "misconduct", MISCONDUCT)
    receipt_from(client)
    again = _send_again(client, {**data, "nonce": data["nonce"] + "="})
    assert again.status_code == 409
    assert count(db_session, Report) == 1


def test_a_damaged_form_token_keeps_the_text_and_creates_nothing(client, seeded, db_session):
    page = form_page(client, "misconduct", MISCONDUCT["category"]).get_data(as_text=True)
    data = {**MISCONDUCT, "csrf_token": csrf_token_from(page), "nonce": "not-a-token",
            "channel_shown": hidden(page, "channel_shown")}
    response = _send_again(client, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Invoices paid twice." in html and "nothing was sent" in html
    assert hidden(html, "nonce") != "not-a-token"
    assert count(db_session, Report) == 0


@pytest.mark.parametrize("track, fields, missing", [
    ("obstacle", {**OBSTACLE, "today": ""}, "today"),
    ("misconduct", {**MISCONDUCT, "what": "  "}, "what"),
])
def test_missing_required_answer_keeps_the_rest(client, seeded, db_session, track, fields, missing):
    response, _ = submit(client, track, fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html and f'href="#{missing}"' in html
    kept = fields["change"] if track == "obstacle" else fields["evidence"]
    assert kept in html
    assert count(db_session, Report) == 0


def test_overlong_text_is_explained(client, seeded, db_session):
    response, _ = submit(client, "misconduct", {**MISCONDUCT, "what": "x" * 20_001, "when": "y" * 201})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "at most 20000 characters" in html and "at most 200 characters" in html
    assert "Ledger entries." in html
    assert count(db_session, Report) == 0


def test_swedish_errors_are_translated(client, seeded):
    response, _ = submit(client, "obstacle", {**OBSTACLE, "change": ""}, lang="sv")
    html = response.get_data(as_text=True)
    assert "Det finns ett problem" in html and "Fältet måste fyllas i." in html


def test_honeypot_stops_bots(client, seeded, db_session):
    response, _ = submit(client, "obstacle", {**OBSTACLE, "website": "http://spam.example"})
    assert response.status_code == 400
    assert count(db_session, Report) == 0


def test_excluded_handler_gets_no_key(client, seeded, db_session):
    anna = seeded["handlers"]["anna"]
    response, _ = submit(client, "obstacle", {**OBSTACLE, "exclude": [anna.id]})
    assert response.status_code == 302
    keys = db_session.scalars(select(ReportKey.user_id)).all()
    assert keys == [seeded["handlers"]["bjorn"].id]
    assert db_session.scalars(select(Exclusion.user_id)).all() == [anna.id]


def test_excluding_everyone_is_refused(client, seeded, db_session):
    ids = [seeded["handlers"]["anna"].id, seeded["handlers"]["bjorn"].id]
    response, _ = submit(client, "obstacle", {**OBSTACLE, "exclude": ids})
    assert response.status_code == 400
    assert "At least one handler must remain" in response.get_data(as_text=True)
    assert count(db_session, Report) == 0


def test_excluding_someone_outside_the_channel_is_refused(client, seeded, db_session):
    response, _ = submit(client, "obstacle", {**OBSTACLE, "exclude": [seeded["handlers"]["carin"].id]})
    assert response.status_code == 400
    assert count(db_session, Report) == 0


def test_wrong_receipts_get_one_neutral_answer(client, seeded):
    submit(client, "obstacle", OBSTACLE)
    real = receipt_from(client)
    other = "0000-0000-0000-0000-0000-0000-0000-0000"
    flipped = real[:-6] + ("A" if real[-6] != "A" else "B") + real[-5:]
    answers = set()
    for attempt in ("not a code", other, flipped):
        response = client.post_form("/follow-up", {"receipt": attempt}, headers={"Accept-Language": "en"})
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        answers.add(re.search(r'<li><a href="#receipt">([^<]+)</a></li>', html).group(1))
        # What was typed stays in the field so a typo can be corrected.
        assert f'value="{attempt}"' in html
        assert response.headers["Cache-Control"].startswith("no-store")
    assert answers == {"No report could be opened with that code. Check the code and try again."}


def test_follow_up_with_a_forgiving_receipt_shows_the_case(client, seeded):
    submit(client, "obstacle", OBSTACLE)
    receipt = receipt_from(client)
    typed = receipt.lower().replace("-", " ")
    response = client.post_form("/follow-up", {"receipt": typed}, headers={"Accept-Language": "en"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/follow-up/case")
    html = client.get("/follow-up/case", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert OBSTACLE["today"] in html and OBSTACLE["change"] in html
    assert "Received" in html and "Timeline" in html and "Confirmation of receipt due" in html


def _open(client):
    submit(client, "misconduct", MISCONDUCT)
    receipt = receipt_from(client)
    client.post_form("/follow-up", {"receipt": receipt})
    return receipt


def test_reply_and_meeting_request_join_the_dialogue(client, seeded, db_session):
    _open(client)
    response = client.post_form("/follow-up/case", {"body": "More details: it happened twice."},
                                action="/follow-up/reply")
    assert response.status_code == 302
    client.post_form("/follow-up/case", {"body": "Tuesdays suit me."}, action="/follow-up/meeting")
    html = client.get("/follow-up/case", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "More details: it happened twice." in html and "Tuesdays suit me." in html
    assert "Meeting request" in html
    messages = db_session.scalars(select(Message).order_by(Message.seq)).all()
    assert [(m.seq, m.author, m.kind) for m in messages] == [(1, "reporter", "message"),
                                                             (2, "reporter", "meeting_request")]
    assert all(b"happened twice" not in m.body_ct for m in messages)


def test_empty_reply_is_refused_without_losing_the_session(client, seeded, db_session):
    _open(client)
    response = client.post_form("/follow-up/case", {"body": ""}, action="/follow-up/reply",
                                headers={"Accept-Language": "en"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert count(db_session, Message) == 0
    # The summary names the field and links to it, and the form posts to the
    # summary's fragment, so that without JavaScript the page opens at it.
    summary = html[html.index('id="reply-errors"'):]
    summary = summary[:summary.index("</div>")]
    assert re.search(r'<a href="#body">[^<]+: This field is required\.</a>', summary), summary
    assert 'action="/follow-up/reply#reply-errors"' in html


def _age_session(client, seconds):
    with client.session_transaction() as cookie:
        data = dict(cookie["reporter"])
        data["seen"] = int(time.time()) - seconds
        cookie["reporter"] = data


def test_idle_session_expires_and_a_typed_reply_survives(client, seeded, db_session):
    receipt = _open(client)
    page = client.get("/follow-up/case").get_data(as_text=True)
    token = csrf_token_from(page)
    _age_session(client, 16 * 60)
    response = client.post("/follow-up/reply", data={"csrf_token": token, "body": "Typed before expiry."},
                           headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "Your session ended" in html and "Typed before expiry." in html
    assert client.get("/follow-up/case").status_code == 302
    again = client.post("/follow-up", data={"csrf_token": csrf_token_from(html), "receipt": receipt,
                                            "pending_reply": "Typed before expiry."})
    assert again.status_code == 302
    case = client.get("/follow-up/case", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Typed before expiry." in case
    assert count(db_session, Message) == 1


def test_session_within_the_idle_limit_stays_open(client, seeded):
    _open(client)
    _age_session(client, 10 * 60)
    assert client.get("/follow-up/case").status_code == 200


def test_sign_out_ends_the_session_and_its_server_half(client, seeded, db_session):
    from portal.models import ServerSession

    _open(client)
    assert count(db_session, ServerSession) == 1
    client.post_form("/follow-up/case", {}, action="/follow-up/sign-out")
    assert count(db_session, ServerSession) == 0
    assert client.get("/follow-up/case").status_code == 302


def test_receipt_download_is_plain_text_from_a_post(client, seeded):
    submit(client, "obstacle", OBSTACLE)
    receipt = receipt_from(client)
    response = client.post_form("/", {"receipt": receipt}, action="/report/receipt.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "attachment" in response.headers["Content-Disposition"]
    assert receipt in response.get_data(as_text=True)
    # Named in the page's language.
    assert 'filename="tillit-kvitto.txt"' in response.headers["Content-Disposition"]
    english = client.post_form("/", {"receipt": receipt}, action="/report/receipt.txt",
                               headers={"Accept-Language": "en"})
    assert 'filename="tillit-receipt.txt"' in english.headers["Content-Disposition"]


def test_receipt_download_is_not_available_by_get(client, seeded):
    # GET falls through to /report/<track>, which knows no such track.
    response = client.get("/report/receipt.txt")
    assert response.status_code in (404, 405) and "Receipt code" not in response.get_data(as_text=True)


def _times_in_database(db_session):
    """Every date-time value in every table, by (table, primary key, column)."""
    import datetime as dt

    from portal.models.base import Base

    db_session.expire_all()
    found = {}
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, sa_types.DateTime)]
        if not columns:
            continue
        keys = list(table.primary_key.columns)
        for row in db_session.execute(select(*keys, *columns)):
            for column, value in zip(columns, row[len(keys):]):
                if isinstance(value, dt.datetime):
                    found[(table.name, tuple(row[:len(keys)]), column.name)] = value
    return found


def test_nothing_a_reporter_does_stores_an_exact_time(client, seeded, db_session, settings):
    """Whatever rows a reporter's actions write or change (report, answers,
    keys, grants for handlers whose key is not confirmed yet, messages, attachments,
    sessions, audit), no time of day may be stored: only dates."""
    from sqlalchemy import delete

    from portal.models import RecipientStatement

    # The anchor has not confirmed david's key: he gets a grant, not a key.
    db_session.execute(delete(RecipientStatement).where(RecipientStatement.user_id == seeded["handlers"]["david"].id))
    db_session.commit()
    before = _times_in_database(db_session)
    submit(client, "misconduct", MISCONDUCT, files=[(io.BytesIO(b"ledger"), "ledger.txt")])
    client.post_form("/follow-up", {"receipt": receipt_from(client)})
    client.post_form("/follow-up/case", {"body": "More", "attachments": [(io.BytesIO(b"x"), "x.txt")]},
                     action="/follow-up/reply")
    client.post_form("/follow-up/case", {"body": "Tuesdays"}, action="/follow-up/meeting")
    after = _times_in_database(db_session)
    written = {key: value for key, value in after.items() if before.get(key) != value}
    assert {key[0] for key in written} >= {"key_grants", "server_sessions"}
    exact = {key: value for key, value in written.items() if value.time() != dt_time()}
    assert exact == {}


@pytest.mark.parametrize("token", ["", "forged-token"])
def test_stale_or_forged_csrf_token_keeps_the_report_and_creates_nothing(client, seeded, db_session, token):
    page = form_page(client, "obstacle", OBSTACLE["category"]).get_data(as_text=True)
    data = {**OBSTACLE, "csrf_token": token, "nonce": hidden(page, "nonce"),
            "channel_shown": hidden(page, "channel_shown"),
            "attachments": [(io.BytesIO(b"notes"), "notes.txt")]}
    response = client.post("/report/obstacle", data=data, content_type="multipart/form-data",
                           headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The form had expired" in html and "must be chosen again" in html
    assert OBSTACLE["today"] in html and OBSTACLE["change"] in html
    assert count(db_session, Report) == 0
    # The page carries a fresh token and the same nonce: sending again works once.
    data["csrf_token"] = csrf_token_from(html)
    data["attachments"] = []
    assert client.post("/report/obstacle", data=data, content_type="multipart/form-data").status_code == 302
    assert count(db_session, Report) == 1


def test_forged_csrf_on_reply_keeps_the_message(client, seeded, db_session):
    _open(client)
    response = client.post("/follow-up/reply", data={"body": "Kept text", "csrf_token": "x"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Kept text" in html and "The form had expired" in html
    assert count(db_session, Message) == 0


def test_landing_links_to_external_channels_and_admin_text_replaces_it(client, seeded, db_session):
    from portal.models import Setting

    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Other ways to report" in html and 'href="https://www.av.se/"' in html
    db_session.add_all([Setting(key="external_channels.text.en", value="Call the county board."),
                        Setting(key="external_channels.url", value="https://example.org/report")])
    db_session.commit()
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Call the county board." in html and 'href="https://example.org/report"' in html


def test_a_carried_reply_obeys_the_reply_limit(client, seeded, db_session):
    from portal.web.forms import TEXT_MAX

    receipt = _open(client)
    page = client.get("/follow-up/case", headers={"Accept-Language": "en"}).get_data(as_text=True)

    response = client.post("/follow-up", data={"csrf_token": csrf_token_from(page), "receipt": receipt,
                                               "pending_reply": "x" * (TEXT_MAX + 1)})
    assert response.status_code == 400
    assert count(db_session, Message) == 0


def test_a_reporter_session_row_does_not_name_the_report(client, seeded, db_session):
    from portal.models import ServerSession

    _open(client)
    report_id = db_session.scalars(select(Report.id)).one()
    row = db_session.scalars(select(ServerSession).where(ServerSession.kind == "reporter")).one()
    stored = " ".join(str(getattr(row, c.key)) for c in ServerSession.__table__.columns)
    assert report_id not in stored and report_id.encode() not in row.sealed
    assert client.get("/follow-up/case").status_code == 200  # and the session still opens the case


def test_a_file_is_cleaned_once_and_before_the_report_is_written(app, client, db_session, seeded, monkeypatch):
    """A hostile picture may take its time to clean: it must not do so inside
    the report's write transaction, which holds every other writer back
    (review finding), nor twice."""
    import io as _io

    from PIL import Image

    from portal.attachments import cleaning

    real, cleanings = cleaning.clean_file, []

    def watched(name, data):
        cleanings.append(_someone_is_writing(app))
        return real(name, data)

    monkeypatch.setattr(cleaning, "clean_file", watched)
    picture = _io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(picture, "PNG")
    response, _data = submit(client, "obstacle", OBSTACLE, files=[(_io.BytesIO(picture.getvalue()), "photo.png")])
    assert response.status_code == 302
    assert cleanings == [False]
    assert count(db_session, Report) == 1


def _someone_is_writing(app) -> bool:
    """Whether a transaction that has written is open: SQLite's write lock
    cannot be taken at once; on PostgreSQL one holds a write lock on this
    test's form-token or report table (the first things a submission writes)."""
    engine = app.extensions["tillit.db"].engine
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA busy_timeout=0")
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            except Exception:
                return True
            connection.exec_driver_sql("ROLLBACK")
            return False
        return bool(connection.exec_driver_sql(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname IN ('used_form_tokens', 'reports') AND c.relnamespace = current_schema()::regnamespace "
            "AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()").scalar())


def test_the_receipts_argon2id_runs_before_anything_is_written(app, client, db_session, seeded, monkeypatch):
    """On SQLite the write lock used to be taken before the Argon2id and held
    across it, so submissions ran one at a time (issue 16): the derivation
    now runs before the report's first write, on both databases."""
    from crypto import receipt as crypto_receipt

    real, during = crypto_receipt.wrap_dek_for_reporter, []

    def watched(*args, **kwargs):
        during.append(_someone_is_writing(app))
        return real(*args, **kwargs)

    monkeypatch.setattr(crypto_receipt, "wrap_dek_for_reporter", watched)
    response, _data = submit(client, "obstacle", OBSTACLE)
    assert response.status_code == 302
    assert during == [False]
    assert count(db_session, Report) == 1


@pytest.fixture
def one_slot(app, monkeypatch):
    """One Argon2id at a time, and a short wait for it."""
    import dataclasses

    app.config["TILLIT"] = dataclasses.replace(app.config["TILLIT"], argon2_at_once=1, argon2_wait_seconds=1)
    from portal.reports import derivations

    return derivations._semaphore(1)


def test_when_every_argon2id_slot_stays_taken_the_report_waits_with_its_text(app, client, db_session, seeded,
                                                                             one_slot):
    assert one_slot.acquire(timeout=5)  # another submission holds the only slot
    try:
        busy, _data = submit(client, "obstacle", {**OBSTACLE, "today": "Kept while busy."})
    finally:
        one_slot.release()
    page = busy.get_data(as_text=True)
    assert busy.status_code == 503
    assert "Kept while busy." in page and "The portal is very busy just now" in page
    assert count(db_session, Report) == 0
    sent, _data = submit(client, "obstacle", OBSTACLE)  # the slot is free again
    assert sent.status_code == 302 and count(db_session, Report) == 1


def test_a_reference_already_taken_is_not_given_again(app, db_session, settings, monkeypatch):
    """8 characters of 30 collide about once in a million cases; the
    submission then draws again instead of failing on the unique index."""
    from portal.domain import case_reference
    from portal.models import Report
    from support import new_report, seed_channels

    seed_channels(db_session, settings)
    first = db_session.get(Report, new_report(db_session, settings).report_id).reference
    drawn = iter([first, first, "ABCD-EFGH"])
    monkeypatch.setattr(case_reference, "new_reference", lambda: next(drawn))
    second = db_session.get(Report, new_report(db_session, settings).report_id).reference
    assert second == "ABCD-EFGH" != first


def test_a_reference_taken_by_a_report_committed_meanwhile_is_drawn_again(app, client, db_session, settings, seeded,
                                                                           monkeypatch):
    """Review finding: a report committed between the reference check and
    the insert (two submissions at once drawing the same reference) made
    the unique index refuse this one, and every IntegrityError was taken
    for the same form sent twice: "already sent", and nothing was."""
    from portal.reports import submission
    from support import new_report

    taken = db_session.get(Report, new_report(db_session, settings).report_id).reference
    drawn = iter([taken])
    real = submission._unused_reference
    monkeypatch.setattr(submission, "_unused_reference", lambda session: next(drawn, None) or real(session))
    response, _data = submit(client, "obstacle", {**OBSTACLE, "today": "Sent despite the collision."})
    assert response.status_code == 302 and response.headers["Location"].endswith("/report/sent")
    assert count(db_session, Report) == 2
    assert "already been sent" not in client.get("/report/sent").get_data(as_text=True)
