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
