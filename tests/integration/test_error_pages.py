"""Error pages explain in plain words and reveal nothing about internals."""
from flask import abort


def _add_failing_routes(app):
    @app.get("/_boom")
    def boom():
        from flask import request
        raise RuntimeError(request.headers["X-Detail"])

    @app.get("/_forbidden")
    def forbidden():
        abort(403)

    @app.get("/_too_many")
    def too_many():
        abort(429)

    @app.post("/_upload")
    def upload():
        from flask import request
        return str(len(request.form))


def test_unexpected_error_gives_a_plain_500_without_details(app, caplog):
    _add_failing_routes(app)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/_boom", headers={"Accept-Language": "en", "X-Detail": "canary-7731"})
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "canary-7731" not in body and "Traceback" not in body and "RuntimeError" not in body
    # The log names the error type but not its message (which may hold report text).
    assert "RuntimeError" in caplog.text
    assert "canary-7731" not in caplog.text


def test_not_found_forbidden_and_rate_limited_pages(app):
    _add_failing_routes(app)
    client = app.test_client()
    for path, code, words in [("/nope", 404, "Page not found"), ("/_forbidden", 403, "Not allowed"),
                              ("/_too_many", 429, "Too many attempts")]:
        response = client.get(path, headers={"Accept-Language": "en"})
        assert response.status_code == code
        assert words in response.get_data(as_text=True)


def test_oversized_request_gets_a_413_page(app):
    _add_failing_routes(app)
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = app.test_client().post(
        "/_upload", data={"text": "x" * 5000}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_missing_csrf_token_is_refused_with_a_translated_page(client):
    response = client.post("/language", data={"lang": "en"}, headers={"Accept-Language": "sv"})
    assert response.status_code == 400
    assert "Formuläret har gått ut" in response.get_data(as_text=True)


def test_error_pages_are_swedish_by_accept_language(client):
    response = client.get("/nope", headers={"Accept-Language": "sv-SE,sv;q=0.9"})
    assert "Sidan finns inte" in response.get_data(as_text=True)
