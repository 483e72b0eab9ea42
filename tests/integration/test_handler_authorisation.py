"""Authorisation matrix: every staff route, every kind of caller that must not
see a case. Routes are read from the app itself, so a new route is covered
(or, without a declared level, refused) without anybody editing this file."""
import io
import re

import pytest

from portal.web import staff_access as access
from support import (
    HANDLER_PASSWORD,
    FormClient,
    admin_and_viewer,
    csrf_token_from,
    enrol_totp,
    new_report,
    seed_channels,
    staff_login,
)

# Endpoints meant for everybody (reporters, the public, sign-in pages).
PUBLIC_BLUEPRINTS = {"site", "reporter"}
PUBLIC_ENDPOINTS = {"static"}


def _endpoints(app):
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()}


def test_every_endpoint_is_public_by_design_or_declares_an_access_level(app):
    undeclared = []
    for endpoint in _endpoints(app):
        blueprint = endpoint.split(".")[0] if "." in endpoint else None
        if blueprint in PUBLIC_BLUEPRINTS or endpoint in PUBLIC_ENDPOINTS:
            continue
        if getattr(app.view_functions[endpoint], "access_level", None) not in access.LEVELS:
            undeclared.append(endpoint)
    assert undeclared == []


def test_a_staff_route_without_a_level_is_refused_to_everyone(app):
    app.add_url_rule("/handler/forgotten", "handler.forgotten", lambda: "secret content")
    response = app.test_client().get("/handler/forgotten")
    assert response.status_code == 403 and b"secret content" not in response.data


@pytest.fixture
def matrix(app, db_session, settings):
    seeded = seed_channels(db_session, settings)
    anna, bjorn, carin = (seeded["handlers"][n] for n in ("anna", "bjorn", "carin"))
    admin, viewer = admin_and_viewer(db_session, settings)
    submitted = new_report(db_session, settings, exclude=[bjorn.id])
    # Give the case a message, a file and a note, so "content" exists everywhere.
    owner = FormClient(app.test_client())
    staff_login(owner, db_session, anna, enrol_totp(db_session, settings, anna))
    owner.post_form(f"/handler/case/{submitted.report_id}", {"kind": "message", "body": "CANARY-REPLY",
                    "attachments": [(io.BytesIO(b"CANARY-FILE"), "f.txt")]},
                    action=f"/handler/case/{submitted.report_id}/reply")
    html = owner.get(f"/handler/case/{submitted.report_id}").get_data(as_text=True)
    attachment_id = re.search(r"/attachment/([A-Za-z0-9_-]+)", html).group(1)

    callers = {"anonymous": FormClient(app.test_client())}
    for name, user in [("outside handler", carin), ("excluded handler", bjorn), ("admin", admin),
                       ("viewer", viewer)]:
        client = FormClient(app.test_client())
        assert staff_login(client, db_session, user, enrol_totp(db_session, settings, user)).status_code == 302
        callers[name] = client
    return {"report_id": submitted.report_id, "attachment_id": attachment_id, "callers": callers,
            "csrf_page": "/handler/login", "user_id": bjorn.id}


CONTENT = ("Three systems", "One system", "CANARY-REPLY", "CANARY-FILE")


def _url(rule, matrix):
    values = {"report_id": matrix["report_id"], "attachment_id": matrix["attachment_id"], "action": "acknowledge",
              "user_id": matrix["user_id"]}
    path = rule.rule
    for name in rule.arguments:
        path = path.replace(f"<{name}>", values[name])
    return path


def test_nobody_outside_the_case_gets_content_from_any_handler_route(app, matrix):
    case_routes = [rule for endpoint, rule in _endpoints(app).items()
                   if getattr(app.view_functions[endpoint], "access_level", None) == access.HANDLER]
    assert len(case_routes) >= 9
    checked = 0
    for rule in case_routes:
        url = _url(rule, matrix)
        for caller_name, client in matrix["callers"].items():
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if method == "GET":
                    response = client.get(url)
                else:
                    token_page = client.get(matrix["csrf_page"]).get_data(as_text=True)
                    token = csrf_token_from(token_page) if "csrf_token" in token_page else ""
                    response = client.post(url, data={"csrf_token": token, "kind": "message", "body": "x",
                                                      "outcome": "removed", "format": "json",
                                                      "password": HANDLER_PASSWORD})
                body = response.get_data(as_text=True)
                case_specific = "report_id" in rule.arguments
                if case_specific or caller_name in ("anonymous", "admin", "viewer"):
                    assert response.status_code == 403 or (
                        response.status_code == 302 and "/handler/login" in response.headers["Location"]), \
                        (caller_name, method, url, response.status_code)
                else:  # a handler's own inbox: fine, but without this case
                    assert matrix["report_id"][:8] not in body, (caller_name, url)
                assert not any(text in body for text in CONTENT), (caller_name, method, url)
                checked += 1
    assert checked >= 9 * 5
