"""Retention by crypto-shredding (reports/retention.py, `portal purge`): a
closed case past its channel's period loses every key and ciphertext, its
clear statistical fields stay counted, and running the job again, beside
another run, or as a dry run deletes nothing twice."""
from __future__ import annotations

import datetime as dt
import io
import secrets
import threading

import pytest
from sqlalchemy import func, select, text
from werkzeug.datastructures import FileStorage

from portal.cli import jobs
from portal.domain import retention as rules
from portal.insights import tables
from portal.models import (
    Answer,
    Attachment,
    AttachmentChunk,
    AuditEvent,
    KeyGrant,
    Message,
    Note,
    PublishedSummary,
    Report,
    ReportKey,
    StatusEvent,
)
from portal.models.stats import SUMMARY_APPROVED
from portal.reports import access, dialogue, retention, stories, work
from portal.reports.access import open_for_handler
from support import make_own_keys, new_report, seed_channels

LONG_AGO = dt.date(2021, 2, 10)  # closed then: past every allowed retention


def canary() -> str:
    return f"CANARY-{secrets.token_hex(8)}"


def closed_case(session, settings, seeded, *, closed_on=LONG_AGO, track="obstacle", approve_story=False):
    """A case with something in every encrypted place, closed on `closed_on`:
    answers, a reporter message with a file, a handler reply, a note, a
    waiting grant and a story. Returns (report id, receipt, canaries)."""
    marks = {name: canary() for name in ("reply", "file name", "file", "answer", "note", "handler", "story")}
    submitted = new_report(session, settings, track=track, publish_consent=track == "obstacle",
                           category="it_systems" if track == "obstacle" else "fraud")
    handler_name = "anna" if track == "obstacle" else "carin"
    handler = seeded["handlers"][handler_name]
    private_key = make_own_keys(session, settings, handler)
    case = open_for_handler(session, handler, private_key, submitted.report_id)
    session.add(Answer(report_id=case.report.id, field="extra", body_ct=marks["answer"].encode()))
    upload = FileStorage(io.BytesIO(marks["file"].encode() * 50), filename=f"{marks['file name']}.txt")
    reporter_case = access.open_with_receipt(session, settings, submitted.receipt)
    dialogue.reporter_reply(session, settings, reporter_case, marks["reply"], [upload])
    work.reply(session, settings, handler, case, "message", marks["handler"], [])
    work.add_note(session, handler, case, marks["note"])
    session.add(KeyGrant(report_id=case.report.id, user_id=seeded["handlers"]["bjorn"].id))
    work.change_status(session, handler, case, "acknowledged")
    outcome = "removed" if track == "obstacle" else "confirmed"
    story = None
    if track == "obstacle":
        story = work.close(session, handler, case, outcome, hours_saved=40, on=closed_on,
                           story=stories.StoryText(marks["story"], marks["story"], "sv"))
    else:
        work.close(session, handler, case, outcome, on=closed_on)
    if approve_story and story is not None:
        story.status = SUMMARY_APPROVED
    session.commit()
    return submitted.report_id, submitted.receipt, marks


def run_purge(app, *args):
    result = app.test_cli_runner().invoke(args=["portal", "purge", *args])
    assert result.exit_code == 0, result.output
    return result.output


def counts_for(session, report_id):
    return {model.__name__: session.scalar(select(func.count()).select_from(model).where(
        getattr(model, "report_id") == report_id))
        for model in (Answer, Message, Note, Attachment, ReportKey, KeyGrant, PublishedSummary, StatusEvent)}


def test_expiry_counts_calendar_months_from_closure_within_the_law():
    assert rules.expires_on(dt.date(2024, 1, 31), "obstacle", 1) == dt.date(2024, 2, 29)
    assert rules.expires_on(dt.date(2024, 3, 1), "misconduct", 24) == dt.date(2026, 3, 1)
    # A stored period beyond what the law allows counts as the limit.
    assert rules.expires_on(dt.date(2024, 3, 1), "misconduct", 600) == dt.date(2026, 3, 1)
    assert rules.allowed("misconduct", 24) and not rules.allowed("misconduct", 25)
    assert rules.allowed("obstacle", 60) and not rules.allowed("obstacle", 0)


def test_purge_shreds_an_expired_case_and_keeps_its_statistics(app, db_session, settings, database):
    seeded = seed_channels(db_session, settings)
    old_id, receipt, marks = closed_case(db_session, settings, seeded, approve_story=True)
    kept_id, kept_receipt, _ = closed_case(db_session, settings, seeded, closed_on=dt.date.today())
    quarter = f"{LONG_AGO.year}-Q1"
    received_quarter = tables.count_quarter(db_session, "2026-Q4", "category", frozenset())
    before = {table: tables.count_quarter(db_session, quarter, table, frozenset()).partitions
              for table in ("outcome", "removed_category")}
    assert before["outcome"]["all"].get("removed") == 1

    output = run_purge(app)
    assert "Cases deleted after their retention time: 1." in output
    db_session.expire_all()
    report = db_session.get(Report, old_id)
    assert report.purged_on == dt.date.today()
    assert report.reporter_wrapped_key == b"" and report.escrow_wrapped_key is None and report.manifest_ct is None
    assert counts_for(db_session, old_id) == {"Answer": 0, "Message": 0, "Note": 0, "Attachment": 0,
                                               "ReportKey": 0, "KeyGrant": 0, "PublishedSummary": 0,
                                               "StatusEvent": 3}
    assert db_session.scalar(select(func.count()).select_from(AttachmentChunk)) > 0  # the kept case's file
    assert all(e.chain_mac is None and e.actor_user_id is None
               for e in db_session.scalars(select(StatusEvent).where(StatusEvent.report_id == old_id)))
    # The approved story keeps its text, no longer linked to the case.
    story = db_session.scalar(select(PublishedSummary).where(PublishedSummary.title == marks["story"]))
    assert story is not None and story.report_id is None and story.status == SUMMARY_APPROVED
    # The statistics count it as before; the case kept is untouched.
    after = {table: tables.count_quarter(db_session, quarter, table, frozenset()).partitions
             for table in ("outcome", "removed_category")}
    assert after == before
    assert tables.count_quarter(db_session, "2026-Q4", "category", frozenset()).partitions == \
        received_quarter.partitions
    assert counts_for(db_session, kept_id)["Answer"] > 0
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "case.purge", AuditEvent.target_id == old_id)) == 1
    # The reporter is told plainly; the case kept still opens.
    try:
        access.open_with_receipt(db_session, settings, receipt)
        raise AssertionError("a purged case opened")
    except access.Purged:
        pass
    assert access.open_with_receipt(db_session, settings, kept_receipt).report.id == kept_id


def test_a_second_run_and_a_dry_run_change_nothing(app, db_session, settings):
    seeded = seed_channels(db_session, settings)
    old_id, _, _ = closed_case(db_session, settings, seeded)
    output = run_purge(app, "--dry-run")
    assert "Would delete 1 case(s)" in output and "nothing changed" in output
    db_session.expire_all()
    assert db_session.get(Report, old_id).purged_on is None and counts_for(db_session, old_id)["Answer"] > 0
    assert "Cases deleted after their retention time: 1." in run_purge(app)
    audit_rows = db_session.scalar(select(func.count()).select_from(AuditEvent))
    assert "Cases deleted after their retention time: 0." in run_purge(app)
    assert "Would delete 0 case(s)" in run_purge(app, "--dry-run")
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)) == audit_rows


def test_retention_follows_the_channel_and_spares_open_and_recent_cases(app, db_session, settings):
    seeded = seed_channels(db_session, settings)
    seeded["improvement"].retention_months = 6
    db_session.commit()
    seven_months_ago = dt.date.today() - dt.timedelta(days=215)
    five_months_ago = dt.date.today() - dt.timedelta(days=150)
    expired_id, _, _ = closed_case(db_session, settings, seeded, closed_on=seven_months_ago)
    recent_id, _, _ = closed_case(db_session, settings, seeded, closed_on=five_months_ago)
    # Misconduct: 24 months at most, whatever a writer stores.
    seeded["whistle"].retention_months = 600
    db_session.commit()
    misconduct_id, _, _ = closed_case(db_session, settings, seeded, track="misconduct",
                                      closed_on=dt.date.today() - dt.timedelta(days=800))
    open_report = new_report(db_session, settings)
    db_session.get(Report, open_report.report_id).received_on = LONG_AGO
    db_session.commit()
    run_purge(app)
    db_session.expire_all()
    assert db_session.get(Report, expired_id).purged_on is not None
    assert db_session.get(Report, misconduct_id).purged_on is not None
    assert db_session.get(Report, recent_id).purged_on is None
    assert db_session.get(Report, open_report.report_id).purged_on is None


def test_purged_cases_leave_the_inbox_and_do_not_open_for_handlers(app, db_session, settings):
    from portal.reports.access import NotVisible

    seeded = seed_channels(db_session, settings)
    old_id, _, _ = closed_case(db_session, settings, seeded)
    run_purge(app)
    db_session.expire_all()
    anna = seeded["handlers"]["anna"]
    try:
        open_for_handler(db_session, anna, b"\x00" * 32, old_id)
        raise AssertionError("a purged case was visible")
    except NotVisible:
        pass


def test_a_reporter_with_a_purged_receipt_is_told_it_was_deleted(app, db_session, settings, client):
    seeded = seed_channels(db_session, settings)
    _, receipt, _ = closed_case(db_session, settings, seeded)
    run_purge(app)
    page = client.post_form("/follow-up", {"receipt": receipt}, headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "This report has been deleted" in html
    assert "No report could be opened" not in html
    # A wrong secret with a live selector is still refused as before.
    wrong = client.post_form("/follow-up", {"receipt": "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AA"},
                             headers={"Accept-Language": "en"})
    assert "This report has been deleted" not in wrong.get_data(as_text=True)


def test_nothing_of_a_purged_case_remains_in_the_database_files(app, db_session, settings, database):
    seeded = seed_channels(db_session, settings)
    old_id, receipt, marks = closed_case(db_session, settings, seeded)
    blobs = [bytes(b) for b in db_session.scalars(select(Answer.body_ct).where(Answer.report_id == old_id))]
    blobs += [bytes(b) for b in db_session.scalars(select(Message.body_ct).where(Message.report_id == old_id))]
    blobs += [bytes(b) for b in db_session.scalars(select(Note.body_ct).where(Note.report_id == old_id))]
    blobs += [bytes(b) for b in db_session.scalars(select(ReportKey.wrapped).where(ReportKey.report_id == old_id))]
    blobs += [bytes(b) for b in db_session.scalars(
        select(AttachmentChunk.sealed).join(Attachment).where(Attachment.report_id == old_id))]
    report = db_session.get(Report, old_id)
    blobs += [bytes(report.reporter_wrapped_key), bytes(report.manifest_ct)]
    needles = [blob[8:40] for blob in blobs if len(blob) >= 40]  # inside each blob, past any fixed prefix
    needles += [value.encode() for value in marks.values()]
    assert len(needles) > 10
    db_session.close()
    run_purge(app)
    if database.file is not None:
        places = {path.name: path.read_bytes() for path in database.file.parent.glob(database.file.name + "*")}
        assert places[database.file.name] and any(b"CREATE TABLE" in blob for blob in places.values())
        leftovers = [(place, i) for place, blob in places.items() for i, needle in enumerate(needles)
                     if needle in blob]
        assert leftovers == []
    else:
        with app.app_context():
            from portal.web import db as web_db

            with web_db.database().engine.connect() as connection:
                dump = b"".join(
                    repr(row).encode() + b"".join(bytes(v) for v in row if isinstance(v, (bytes, memoryview)))
                    for table in ("report_answers", "messages", "notes", "report_keys", "attachment_chunks",
                                  "reports", "published_summaries", "key_grants")
                    for row in connection.execute(text(f"SELECT * FROM {table}")))
        assert dump and not [i for i, needle in enumerate(needles) if needle in dump]


def test_two_purges_at_once_delete_each_case_once(app, db_session, settings, database):
    seeded = seed_channels(db_session, settings)
    ids = [closed_case(db_session, settings, seeded)[0] for _ in range(4)]
    db_session.close()
    results, errors = [], []
    start = threading.Barrier(2)

    def one_run():
        try:
            with app.app_context():
                start.wait()
                results.append(jobs.purge_cases(dt.date.today(), show_progress=False))
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    runs = [threading.Thread(target=one_run) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert errors == []
    # A run that starts after the other has finished finds fewer due: what
    # matters is that together they purge each case once.
    assert len(results) == 2 and all(purged <= due <= 4 and unproven == 0 for due, purged, unproven in results)
    assert sum(purged for _, purged, _ in results) == 4
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "case.purge")) == 4
    assert all(db_session.get(Report, report_id).purged_on is not None for report_id in ids)


def test_a_reporter_signed_in_across_the_purge_is_sent_back(app, db_session, settings, client):
    seeded = seed_channels(db_session, settings)
    _, receipt, _ = closed_case(db_session, settings, seeded)
    assert client.post_form("/follow-up", {"receipt": receipt}).status_code == 302
    assert client.get("/follow-up/case").status_code == 200
    run_purge(app)
    page = client.get("/follow-up/case")
    assert page.status_code == 302 and page.headers["Location"].endswith("/follow-up")


def test_pages_that_listed_the_case_still_open_after_the_purge(app, db_session, settings, client):
    from support import enrol_totp, staff_login

    seeded = seed_channels(db_session, settings)
    closed_case(db_session, settings, seeded, approve_story=True)
    closed_case(db_session, settings, seeded)  # its draft story goes
    anna = seeded["handlers"]["anna"]
    secret = enrol_totp(db_session, settings, anna)
    run_purge(app)
    assert staff_login(client, db_session, anna, secret).status_code == 302
    for url in ("/handler/", "/handler/?status=closed", "/handler/stories", "/insights", "/insights/trends",
                "/insights/data.json"):
        assert client.get(url).status_code == 200, url


def test_a_purge_that_cannot_empty_the_log_says_so_and_fails(app, db_session, settings, database, monkeypatch):
    """Review finding: with a reader holding an old snapshot the purge said
    the write-ahead log was emptied, and the purged case was still in it."""
    import functools
    import sqlite3

    from portal.web import db as web_db

    seeded = seed_channels(db_session, settings)
    closed_case(db_session, settings, seeded)
    db_session.close()
    if database.file is None:  # PostgreSQL: no log to empty, and nothing claimed about one
        output = run_purge(app)
        assert "Cases deleted after their retention time: 1" in output and "write-ahead" not in output
        return
    reader = sqlite3.connect(database.file)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM reports").fetchone()  # a snapshot from before the purge
    quick = functools.partial(web_db.compact_after_delete, pause=0.05)  # the same tries, shorter waits
    monkeypatch.setattr(web_db, "compact_after_delete", quick)
    try:
        result = app.test_cli_runner().invoke(args=["portal", "purge"])
    finally:
        reader.rollback()
        reader.close()
    assert result.exit_code == 1 and "could not be emptied" in result.output
    assert "checkpointed and emptied" not in result.output
    assert "checkpointed and emptied" in run_purge(app)  # nothing reads now: emptied


def test_a_closing_the_audit_log_does_not_vouch_for_is_not_purged(app, db_session, settings):
    """Review finding: a database writer marked an open case closed long ago,
    and the purge shredded it as routine retention. Now the last status
    step in the audit log must be that closing, on that day, under the
    log's key; otherwise the case stays and the purge says so."""
    seeded = seed_channels(db_session, settings)
    genuine, _, _ = closed_case(db_session, settings, seeded)
    moved, _, _ = closed_case(db_session, settings, seeded)
    forged = new_report(db_session, settings).report_id  # still new: never closed
    db_session.execute(text("UPDATE reports SET status = 'closed', closed_on = :day WHERE id = :id"),
                       {"day": LONG_AGO, "id": forged})
    db_session.execute(text("UPDATE reports SET closed_on = :day WHERE id = :id"),
                       {"day": LONG_AGO - dt.timedelta(days=400), "id": moved})  # closed, but not then
    db_session.commit()
    dry = app.test_cli_runner().invoke(args=["portal", "purge", "--dry-run"])
    assert "Would delete 1 case(s)" in dry.output and "2 case(s) look closed" in dry.output
    result = app.test_cli_runner().invoke(args=["portal", "purge"])
    assert result.exit_code == 1 and "2 case(s) look closed" in result.output
    db_session.expire_all()
    assert db_session.get(Report, genuine).purged_on is not None
    assert db_session.get(Report, forged).purged_on is None and db_session.get(Report, moved).purged_on is None
    assert counts_for(db_session, forged)["ReportKey"] > 0  # its keys are all there


def test_a_forged_closing_event_does_not_count(app, db_session, settings):
    """Nor does an audit row the database writer added: it has no valid MAC."""

    seed_channels(db_session, settings)
    report_id = new_report(db_session, settings).report_id
    db_session.execute(text("UPDATE reports SET status = 'closed', closed_on = :day WHERE id = :id"),
                       {"day": LONG_AGO, "id": report_id})
    last = db_session.scalars(select(AuditEvent).order_by(AuditEvent.at.desc())).first()
    db_session.add(AuditEvent(lane=last.lane, seq=last.seq + 1, format=1, at=last.at, action="case.closed",
                              target_type="report", target_id=report_id,
                              detail=f'{{"on":"{LONG_AGO.isoformat()}","outcome":"removed"}}',
                              prev_hash=last.hash, hash=secrets.token_bytes(32)))
    db_session.commit()
    assert not retention.closing_proven(db_session, report_id, LONG_AGO)


def test_purged_cases_are_not_counted_in_the_inbox_either(app, db_session, settings):
    """The bench found the inbox's count (and so its pages) still including
    purged cases, while the list left them out."""
    from support import FormClient, enrol_totp, staff_login

    seeded = seed_channels(db_session, settings)
    closed_case(db_session, settings, seeded)
    new_report(db_session, settings)  # a live one
    run_purge(app)
    bjorn = seeded["handlers"]["bjorn"]
    client = FormClient(app.test_client())
    assert staff_login(client, db_session, bjorn, enrol_totp(db_session, settings, bjorn)).status_code == 302
    page = client.get("/handler/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "1 case" in page and "2 cases" not in page


def _reopened_then_forged(db_session, settings, seeded):
    """A case closed long ago and reopened; then a database writer marks it
    closed again on the old day. Returns (report id, the reopening's event)."""

    report_id, _, _ = closed_case(db_session, settings, seeded)
    anna = seeded["handlers"]["anna"]
    case = open_for_handler(db_session, anna, make_own_keys(db_session, settings, anna), report_id)
    work.change_status(db_session, anna, case, "in_progress")
    db_session.commit()
    db_session.execute(text("UPDATE reports SET status = 'closed', closed_on = :day, outcome = 'removed' "
                            "WHERE id = :id"), {"day": LONG_AGO, "id": report_id})
    db_session.commit()
    reopening = db_session.scalars(select(AuditEvent).where(AuditEvent.target_id == report_id,
                                                            AuditEvent.action == "case.in_progress")
                                   .order_by(AuditEvent.at.desc())).first()
    return report_id, reopening


@pytest.mark.parametrize("hide", ["delete", "backdate", "relabel", "retarget"])
def test_a_reopening_hidden_from_the_purge_stops_it(app, db_session, settings, hide):
    """Second review: with the reopening's audit row deleted, moved before
    the closing, relabelled or pointed at another case, the old closing
    looked like the last step, and a live case was shredded."""
    seeded = seed_channels(db_session, settings)
    report_id, reopening = _reopened_then_forged(db_session, settings, seeded)
    where = {"lane": reopening.lane, "seq": reopening.seq}
    statement = {
        "delete": "DELETE FROM audit_events WHERE lane = :lane AND seq = :seq",
        "backdate": "UPDATE audit_events SET at = '2021-01-01 00:00:00' WHERE lane = :lane AND seq = :seq",
        "relabel": "UPDATE audit_events SET action = 'case.view' WHERE lane = :lane AND seq = :seq",
        "retarget": "UPDATE audit_events SET target_id = 'elsewhere' WHERE lane = :lane AND seq = :seq",
    }[hide]
    db_session.execute(text(statement), where)
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["portal", "purge"])
    assert result.exit_code == 1, result.output
    db_session.expire_all()
    assert db_session.get(Report, report_id).purged_on is None


def test_a_case_closed_reopened_and_closed_again_is_purged_on_its_last_closing(app, db_session, settings):
    seeded = seed_channels(db_session, settings)
    report_id, _, _ = closed_case(db_session, settings, seeded)
    anna = seeded["handlers"]["anna"]
    case = open_for_handler(db_session, anna, make_own_keys(db_session, settings, anna), report_id)
    work.change_status(db_session, anna, case, "in_progress")
    work.close(db_session, anna, case, "explained", on=LONG_AGO + dt.timedelta(days=3))
    db_session.commit()
    assert "Cases deleted after their retention time: 1" in run_purge(app)
