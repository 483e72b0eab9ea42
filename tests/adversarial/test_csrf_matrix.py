"""CSRF over the URL map: every route with a POST method, sent by a caller
who may use it, with no token, a wrong token and a token of another session,
changes nothing in the database and is answered with a refusal; and no GET
route changes the database for any role (the audit log aside, which records
that a page was seen)."""
import pytest

from adversarial.world import ROLES, build, changed_tables, snapshot
from portal.web import staff_access as access
from support import csrf_token_from

CALLER = {access.ADMIN: "admin", access.HANDLER: "handler", access.REVIEW: "handler", access.STAFF: "handler",
          access.PUBLIC: "anonymous", access.LEADERSHIP: "viewer", access.FIGURES: "anonymous"}
# Every field any form here reads, filled plausibly, so that only the token can make a request fail.
FIELDS = {"body": "A message", "kind": "message", "outcome": "removed", "password": "ett långt och bra lösenord",
          "username": "anna", "code": "000000", "receipt": "x", "name": "New name", "display_name": "New Person",
          "roles": "handler", "title": "T", "text": "x", "language": "en", "format": "json",
          "today": "Text", "change": "Text", "category": "it_systems", "chain_level": "management",
          "time_lost": "1to3", "k": "5", "k_misconduct": "10", "channel_id": "x", "user_id": "x", "unit_id": "x",
          "retention_months": "12", "description": "x", "confirm": "y", "date": "2026-12-01"}


@pytest.fixture
def world(app, db_session, settings):
    return build(app, db_session, settings)


def _caller(rule, view):
    level = getattr(view, "access_level", None)
    if level is not None:
        return CALLER[level]
    return "reporter" if rule.rule.startswith("/follow-up") else "anonymous"


def _post_routes(app):
    return [rule for rule in app.url_map.iter_rules() if "POST" in rule.methods]


def _foreign_token(app):
    other = app.test_client()
    return csrf_token_from(other.get("/handler/login").get_data(as_text=True))


@pytest.mark.parametrize("token", ["none", "wrong", "other session"])
def test_no_post_route_acts_without_its_own_sessions_token(app, db_session, world, token):
    routes = _post_routes(app)
    assert len(routes) >= 40
    failures = []
    for rule in routes:
        role = _caller(rule, app.view_functions[rule.endpoint])
        data = dict(FIELDS)
        if token == "wrong":
            data["csrf_token"] = "IjFhMmIzYzRkNWU2ZjdnOGg5aTBqIg.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb"
        elif token == "other session":
            data["csrf_token"] = _foreign_token(app)
        before = snapshot(db_session)
        response = world.clients[role].post(world.url(rule), data=data)
        changed = changed_tables(before, snapshot(db_session))
        if changed or response.status_code != 400:
            failures.append((rule.endpoint, role, response.status_code, changed))
    assert failures == []


def test_control_with_its_own_token_the_same_posts_do_act(app, db_session, world):
    """The matrix above would pass if the fields alone made every post fail:
    with the caller's own token, the same fields change the database."""
    acted = set()
    ending = {"handler.logout", "reporter.sign_out"}  # last: they end the caller's session
    for rule in sorted(_post_routes(app), key=lambda rule: rule.endpoint in ending):
        role = _caller(rule, app.view_functions[rule.endpoint])
        client = world.clients[role]
        page = "/follow-up/case" if role == "reporter" else "/handler/login" if role == "anonymous" else \
            "/handler/account"
        before = snapshot(db_session)
        client.post_form(page, dict(FIELDS), action=world.url(rule))
        if changed_tables(before, snapshot(db_session)):
            acted.add(rule.endpoint)
    assert {"handler.note", "handler.reply", "handler.change_status", "handler.close", "reporter.reply",
            "reporter.request_meeting", "admin.add_unit", "admin.retire_unit", "admin.deactivate",
            "admin.thresholds", "handler.logout", "reporter.sign_out"} <= acted


def test_no_get_route_changes_the_database(app, db_session, world):
    failures, checked = [], 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        for role in ROLES:
            before = snapshot(db_session)
            response = world.clients[role].get(world.url(rule))
            changed = changed_tables(before, snapshot(db_session))
            if changed:
                failures.append((rule.endpoint, role, response.status_code, changed))
            checked += 1
    assert checked >= 30 * len(ROLES)
    assert failures == []
