"""Data written by an earlier version of the portal still opens.

tests/fixtures/written_before_feature_packages.sqlite3 was written by the code
of commit a35669a (the flat portal/ before the feature packages), through its
own services: two reports with every answer field, a file with each report
and one with a handler message, a reporter message, a handler feedback, an
internal note. Its receipts, pepper, handler password and TOTP secrets are in
the .json beside it. Field labels are part of every ciphertext's associated
data: if a label's bytes changed, nothing below would decrypt.

The file is migrated to the current head first, so every later migration is
run on real data too.
"""
import json
import re
import shutil
import time
from pathlib import Path

import pytest

from crypto import totp
from portal import create_app
from support import FormClient, make_settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NAME = "written_before_feature_packages"
EN = {"Accept-Language": "en"}


@pytest.fixture
def old_portal(tmp_path):
    from portal.cli.migrate import upgrade

    known = json.loads((FIXTURES / f"{NAME}.json").read_text())
    database = tmp_path / "old.sqlite3"
    shutil.copyfile(FIXTURES / f"{NAME}.sqlite3", database)
    url = f"sqlite:///{database}"
    upgrade(url)
    app = create_app(make_settings(tmp_path, url, pepper=bytes.fromhex(known["pepper"])))
    yield app, known
    app.extensions["tillit.db"].engine.dispose()


def _downloads(html):
    return re.findall(r'href="([^"]*/attachment/[^"]+)"', html)


@pytest.mark.parametrize("track", ["obstacle", "misconduct"])
def test_the_reporter_reads_an_old_report_with_the_old_receipt(old_portal, track):
    app, known = old_portal
    report = known["reports"][track]
    client = FormClient(app.test_client())
    response = client.post_form("/follow-up", {"receipt": report["receipt"]}, headers=EN)
    assert response.status_code == 302
    html = client.get("/follow-up/case", headers=EN).get_data(as_text=True)
    for text in report["answers"].values():
        assert text in html
    assert f"Fixture {track}: reporter writes" in html
    assert f"Fixture {track}: handler answers" in html
    assert f"Fixture {track}: internal note" not in html
    contents = {client.get(link).get_data() for link in _downloads(html)}
    assert b"fixture text file\n" in contents
    assert any(body.startswith(b"\x89PNG") for body in contents)


@pytest.mark.parametrize("track", ["obstacle", "misconduct"])
def test_the_handler_reads_an_old_case_answers_dialogue_notes_and_files(old_portal, track):
    app, known = old_portal
    report = known["reports"][track]
    username = report["handler"]
    client = FormClient(app.test_client())
    code = totp.code_for_step(bytes.fromhex(known["totp"][username]), totp.step_at(time.time()))
    response = client.post_form("/handler/login", {"username": username, "password": known["handler_password"],
                                                   "code": code})
    assert response.status_code == 302
    html = client.get(f"/handler/case/{report['id']}", headers=EN).get_data(as_text=True)
    for text in report["answers"].values():
        assert text in html
    for text in ("reporter writes", "handler answers", "internal note"):
        assert f"Fixture {track}: {text}" in html
    assert "bild.png" in html and "notes.txt" in html
    contents = {client.get(link).get_data() for link in _downloads(html)}
    assert b"fixture text file\n" in contents
    assert any(body.startswith(b"\x89PNG") for body in contents)


def _handler_client(app, known, username):
    client = FormClient(app.test_client())
    code = totp.code_for_step(bytes.fromhex(known["totp"][username]), totp.step_at(time.time()))
    assert client.post_form("/handler/login", {"username": username, "password": known["handler_password"],
                                               "code": code}).status_code == 302
    return client


def test_an_old_case_is_sealed_at_a_handlers_first_view_and_never_again(old_portal):
    from sqlalchemy import select

    from portal.models import Message, Report

    app, known = old_portal
    report = known["reports"]["obstacle"]
    warning = "Parts of this case were changed outside the portal"
    handler = _handler_client(app, known, report["handler"])
    assert warning not in handler.get(f"/handler/case/{report['id']}", headers=EN).get_data(as_text=True)
    session = app.extensions["tillit.db"].sessionmaker()
    try:
        sealed = session.get(Report, report["id"])
        assert sealed.sealed == 1 and sealed.dialogue_count == 2 and sealed.timeline_count == 2
        reporter = FormClient(app.test_client())
        reporter.post_form("/follow-up", {"receipt": report["receipt"]})
        assert warning not in reporter.get("/follow-up/case", headers=EN).get_data(as_text=True)
        # A database writer strips the seals to have a change blessed at the next view.
        sealed.sealed, sealed.dialogue_head = 0, None
        for message in session.scalars(select(Message).where(Message.report_id == report["id"])):
            message.chain_mac = None
            message.kind = "feedback"
        session.commit()
    finally:
        session.close()
    assert warning in handler.get(f"/handler/case/{report['id']}", headers=EN).get_data(as_text=True)


def test_the_old_unkeyed_audit_events_are_anchored_by_the_keyed_ones_after_them(old_portal):
    from sqlalchemy import select

    from portal import audit
    from portal.domain.audit_chain import KEYED, LEGACY, AuditFields, legacy_hash
    from portal.models import AuditEvent

    app, known = old_portal
    _handler_client(app, known, "anna").get(f"/handler/case/{known['reports']['obstacle']['id']}")
    session = app.extensions["tillit.db"].sessionmaker()
    try:
        lane0 = list(session.scalars(select(AuditEvent).where(AuditEvent.lane == 0).order_by(AuditEvent.seq)))
        formats = [event.format for event in lane0]
        assert LEGACY in formats and KEYED in formats and formats.index(KEYED) > 0
        pinned = next(event.hash for event in reversed(lane0) if event.format == LEGACY)
        assert audit.verify(session).unpinned_legacy == pinned  # says what to pin
        assert audit.verify(session, pinned) is None
        # A database writer edits an old event and re-links the unkeyed events after it.
        legacy = [event for event in lane0 if event.format == LEGACY]
        prev = legacy[0].prev_hash
        for index, event in enumerate(legacy):
            if index == 0:
                event.action = "auth.login"
            event.prev_hash = prev
            event.hash = legacy_hash(prev, AuditFields(0, event.seq, event.at, event.actor_user_id, event.action,
                                                       event.target_type, event.target_id, event.detail))
            prev = event.hash
        session.commit()
        assert audit.verify(session, pinned) is not None
    finally:
        session.close()
