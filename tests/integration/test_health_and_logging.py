import logging

from support import make_settings
from portal import create_app


def test_healthz_reports_ok_with_a_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_reports_unavailable_without_a_database(tmp_path):
    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path}/missing/dir/db.sqlite3"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}


def test_no_request_address_or_user_agent_reaches_any_log(app, caplog):
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    headers = {"User-Agent": "CanaryAgent/9.9", "X-Forwarded-For": "198.51.100.23"}
    for path in ("/", "/no-such-page", "/healthz", "/insights"):
        client.get(path, headers=headers, environ_base={"REMOTE_ADDR": "203.0.113.77"})
    assert "203.0.113.77" not in caplog.text
    assert "198.51.100.23" not in caplog.text
    assert "CanaryAgent" not in caplog.text
    assert logging.getLogger("werkzeug").disabled


def test_a_failed_commit_logs_no_sql_or_values_and_saves_nothing(app, caplog, monkeypatch):
    """A database error's message holds the SQL and its values (an id that
    names a case); the log gets its type and where it happened, no more."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    statement = " ".join(["UPDATE messages", "SET read_by_reporter=? WHERE messages.id = ?"])
    values = (1, "Canary" + "MessageId")

    def failing_commit(self):  # the strings are built so that no source line holds them
        raise OperationalError(statement, values, Exception("database " + "is locked"))

    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(Session, "commit", failing_commit)
    response = app.test_client().get("/", headers={"Accept-Language": "en"})
    assert response.status_code == 500 and "Something went wrong" in response.get_data(as_text=True)
    assert "OperationalError" in caplog.text  # logged, as far as it is safe
    for leaked in ("CanaryMessageId", "UPDATE messages", "database is locked"):
        assert leaked not in caplog.text


def test_an_exception_flask_handles_itself_is_logged_without_its_message(app, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "CanaryReceipt ABCD-EFGH"
    try:
        raise RuntimeError(secret)
    except RuntimeError:
        import sys

        app.log_exception(sys.exc_info())
    assert "RuntimeError" in caplog.text and "CanaryReceipt" not in caplog.text
