"""Digest emails, captured by a real SMTP server (aiosmtpd) on localhost."""
import contextlib
import email
import email.policy
import socket
import threading

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.staff import notifications as notify
from portal.models import User
from support import make_settings, new_report, run_at_once, seed_channels


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, f"Subject: {parsed['Subject']}\n{parsed.get_content()}"))
        return "250 OK"


@contextlib.contextmanager
def mail_sink():
    """An SMTP server on a free port that keeps what it receives: (Inbox, port)."""
    handler = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd cannot take port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def smtp():
    with mail_sink() as sink:
        yield sink


@pytest.fixture
def mail_app(tmp_path, database, smtp):
    from portal import create_app

    _handler, port = smtp
    settings = make_settings(tmp_path, database.url, smtp_host="127.0.0.1", smtp_port=port,
                             smtp_sender="portal@example.org", organisation_name="Exempelkommunen")
    application = create_app(settings)
    yield application
    application.extensions["tillit.db"].engine.dispose()


def _session(app):
    return app.extensions["tillit.db"].sessionmaker()


def test_digest_counts_cases_and_says_nothing_else(mail_app, smtp):
    inbox, _port = smtp
    session = _session(mail_app)
    settings = mail_app.config["TILLIT"]
    seeded = seed_channels(session, settings)
    for name in ("anna", "bjorn", "carin"):
        seeded["handlers"][name].email = f"{name}@example.org"
    seeded["handlers"]["anna"].language = "en"
    session.commit()
    first = new_report(session, settings)
    second = new_report(session, settings, exclude=[seeded["handlers"]["bjorn"].id])
    result = mail_app.test_cli_runner().invoke(args=["portal", "notify"])
    assert result.exit_code == 0, result.output
    recipients = sorted(r for rcpts, _body in inbox.messages for r in rcpts)
    # carin's channel has no cases: no mail; bjorn was excluded from one.
    assert recipients == ["anna@example.org", "bjorn@example.org"]
    bodies = {rcpts[0]: body for rcpts, body in inbox.messages}
    assert "2 cases in the reporting portal need action" in bodies["anna@example.org"]
    assert "1 ärende i rapportportalen" in bodies["bjorn@example.org"]
    for body in bodies.values():
        for secret in (first.receipt, second.receipt, first.report_id, second.report_id,
                       "Three systems", "One system", "http", "/handler", "it_systems"):
            assert secret not in body
    again = mail_app.test_cli_runner().invoke(args=["portal", "notify"])
    assert again.exit_code == 0 and len(inbox.messages) == 2  # at most one per interval


def test_two_nodes_at_once_send_one_digest(mail_app, smtp):
    inbox, _port = smtp
    session = _session(mail_app)
    settings = mail_app.config["TILLIT"]
    seeded = seed_channels(session, settings)
    seeded["handlers"]["anna"].email = "anna@example.org"
    session.commit()
    new_report(session, settings)
    barrier = threading.Barrier(2)
    results = []

    def node():
        own = _session(mail_app)
        barrier.wait()
        with mail_app.app_context():
            results.append(notify.send_digests(own, settings))
        own.close()

    threads = [threading.Thread(target=node) for _ in range(2)]
    run_at_once(threads)
    assert sum(r.sent for r in results) == 1
    assert [r for rcpts, _b in inbox.messages for r in rcpts] == ["anna@example.org"]


def test_a_failed_send_is_retried_next_run(mail_app, smtp):
    inbox, port = smtp
    session = _session(mail_app)
    settings = mail_app.config["TILLIT"]
    seeded = seed_channels(session, settings)
    seeded["handlers"]["anna"].email = "anna@example.org"
    session.commit()
    new_report(session, settings)
    broken = settings.with_overrides(smtp_port=1)  # nothing listens there
    with mail_app.app_context():
        assert notify.send_digests(session, broken).failed == 1
        session.expire_all()
        assert session.scalar(select(User.last_notified_at).where(User.username == "anna")) is None
        assert notify.send_digests(session, settings).sent == 1
    assert len(inbox.messages) == 1
