"""A stolen database plus the app's secret key and pepper opens nothing
without a password, recovery key, receipt or session cookie: every wrapped key
and ciphertext in the dump is tried with every value the dump holds."""
import io
import itertools

from sqlalchemy import inspect, select, text

from crypto import DecryptionError, ReceiptFormatError, envelope, keys, receipt, totp
from crypto.session import open_session_secret
from portal.reports import sealing
from portal.models import Report, ReportKey, ServerSession, User
from support import new_report, FormClient, enrol_totp, seed_channels, staff_login


def _dump(db_session):
    """Every value of every column of every table, as the attacker would have it."""
    values = []
    names = inspect(db_session.get_bind()).get_table_names()
    for table in names:
        for row in db_session.execute(text(f'SELECT * FROM "{table}"')):
            values.extend(v for v in row if v is not None)
    return values


def _candidates(values, settings):
    byte_values, text_values = set(), set()
    for value in values + [settings.secret_key, settings.pepper]:
        if isinstance(value, (bytes, bytearray, memoryview)):
            byte_values.add(bytes(value))
        else:
            text_values.add(str(value))
            byte_values.add(str(value).encode())
    # Every 32-byte window of every blob too: a key stored inside something else.
    windows = {b[i:i + 32] for b in byte_values if len(b) >= 32 for i in range(0, len(b) - 31)}
    keys32 = {b for b in byte_values | windows if len(b) == 32}
    return keys32, text_values, byte_values


def _fails(attempt):
    try:
        attempt()
    except (DecryptionError, ReceiptFormatError, ValueError, TypeError):
        return True
    return False


def test_a_dump_with_secret_key_and_pepper_decrypts_nothing(app, db_session, settings):
    seeded = seed_channels(db_session, settings)
    anna = seeded["handlers"]["anna"]
    submitted = new_report(db_session, settings)
    client = FormClient(app.test_client())
    staff_login(client, db_session, anna, enrol_totp(db_session, settings, anna))  # a live session row too
    client.post_form(f"/handler/case/{submitted.report_id}", {"kind": "message", "body": "reply",
                     "attachments": [(io.BytesIO(b"file"), "f.txt")]},
                     action=f"/handler/case/{submitted.report_id}/reply")
    db_session.expire_all()

    keys32, texts, blobs = _candidates(_dump(db_session), settings)
    assert len(keys32) > 100 and texts  # the dump is not trivially empty
    reports = db_session.scalars(select(Report)).all()
    users = db_session.scalars(select(User)).all()

    for report in reports:
        for dek in keys32:  # any value as the report key, against every answer and message
            for answer in report.answers:
                assert _fails(lambda: sealing.open_answer(dek, answer.body_ct, report_id=report.id,
                                                          answer_id=answer.id, code=answer.field))
        for secret in blobs | {t.encode() for t in texts}:  # any value as the receipt secret
            assert _fails(lambda: receipt.unwrap_dek_for_reporter(
                report.reporter_wrapped_key, secret, report_id=report.id, salt=report.receipt_salt,
                pepper=settings.pepper, params=settings.argon2))
        for key_row in db_session.scalars(select(ReportKey).where(ReportKey.report_id == report.id)):
            for private in keys32:
                assert _fails(lambda: envelope.unwrap_for_recipient(
                    key_row.wrapped, private, report_id=report.id, recipient_id=key_row.user_id,
                    key_version=key_row.key_version))

    for user in users:
        for password in texts:
            assert _fails(lambda: keys.unlock_with_password(
                password, user_id=user.id, salt=user.login_salt, verifier=user.login_verifier,
                wrapped_private_key=user.wrapped_private_key, pepper=settings.pepper, params=settings.argon2))
        for candidate in texts:
            assert _fails(lambda: keys.unlock_with_recovery(
                candidate, user_id=user.id, wrapped_by_recovery=user.recovery_wrapped_private_key))
        if user.totp_secret_ct:
            for private in keys32:
                assert _fails(lambda: totp.unwrap_secret(user.totp_secret_ct, private, user_id=user.id))

    for row in db_session.scalars(select(ServerSession)):
        # The session id is stored only hashed; try the hash and every text as the id.
        for cookie_key, session_id in itertools.product(keys32, list(texts)[:50] + [row.id]):
            assert _fails(lambda: open_session_secret(cookie_key, row.sealed, session_id=session_id,
                                                      purpose=row.kind))


def test_the_attack_harness_would_notice_a_leaked_key(app, db_session, settings):
    """Positive control: put a report key in clear into the dump and the same
    search opens the report, so the test above cannot pass by trying nothing."""
    seed_channels(db_session, settings)
    submitted = new_report(db_session, settings)
    from portal.models import Setting
    db_session.add(Setting(key="leak", value=submitted.data_key.hex()))
    db_session.commit()
    keys32, _texts, _blobs = _candidates(_dump(db_session), settings)
    keys32 |= {bytes.fromhex(v) for v in _texts if len(v) == 64 and all(c in "0123456789abcdef" for c in v)}
    report = db_session.get(Report, submitted.report_id)
    answer = report.answers[0]
    opened = [dek for dek in keys32 if not _fails(lambda: sealing.open_answer(
        dek, answer.body_ct, report_id=report.id, answer_id=answer.id, code=answer.field))]
    assert opened == [submitted.data_key]
