"""Every response carries the strict headers (docs/architecture.md, web rules), whatever its status."""
import pytest

from portal.web.headers import SECURITY_HEADERS


def _responses(client):
    yield "landing", client.get("/")
    yield "insights", client.get("/insights")
    yield "healthz", client.get("/healthz")
    yield "static", client.get("/static/tillit.css")
    yield "404", client.get("/no-such-page")
    yield "405", client.post("/healthz")
    yield "csrf-400", client.post("/language", data={"lang": "en"})


def test_every_response_carries_the_security_headers(client):
    for name, response in _responses(client):
        for header, value in SECURITY_HEADERS.items():
            assert response.headers.get(header) == value, (name, header)
        assert "Server" not in response.headers, name


def test_csp_forbids_inline_code_and_framing(client):
    csp = client.get("/").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for source in ("script-src", "style-src", "img-src", "form-action"):
        assert directives[source] == "'self'"


def test_session_cookie_is_httponly_and_samesite_strict(client):
    response = client.get("/")  # the language switch form puts a CSRF token in the session
    cookie = response.headers.get("Set-Cookie", "")
    assert "tillit_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


@pytest.mark.parametrize("secure", [True, False])
def test_cookie_secure_flag_follows_settings(tmp_path, database, secure):
    from support import make_settings
    from portal import create_app

    app = create_app(make_settings(tmp_path, database.url, cookie_secure=secure))
    cookie = app.test_client().get("/").headers.get("Set-Cookie", "")
    assert ("Secure" in cookie) is secure
