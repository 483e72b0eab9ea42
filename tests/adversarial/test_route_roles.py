"""The route-by-role matrix over every blueprint: each route of the URL map,
asked for by each role, answers as its access level says, and a route
nobody listed here fails the test until it is. Content of the case never
reaches a role that may not read it."""
import pytest

from portal.web import staff_access as access
from adversarial.world import ROLES, build

# What each level lets through, by role: True opens the page, False gets a
# 403 (signed in) or the sign-in page (not signed in).
STAFF_ROLES = {"handler", "outsider", "admin", "viewer"}
ALLOWED = {
    access.PUBLIC: set(ROLES),
    access.FIGURES: set(ROLES),
    access.STAFF: STAFF_ROLES,
    access.LEADERSHIP: STAFF_ROLES,
    access.REVIEW: {"handler", "outsider", "admin"},
    access.ADMIN: {"admin"},
    access.HANDLER: {"handler", "outsider"},
}
# Routes of one case: the outside handler holds no key to it.
CASE_ARGUMENTS = {"report_id"}
CONTENT = ("Three systems", "One system", "From the reporter", "A note", "handler file", "reporter file")
# The reporter's and the public pages have no level: who may see what there
# is the sealed reporter session's business (tests/integration).
UNLEVELLED_BLUEPRINTS = {"reporter", "site"}


@pytest.fixture
def world(app, db_session, settings):
    return build(app, db_session, settings)


def _get_routes(app):
    return [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods]


def test_every_get_route_answers_each_role_as_its_level_says(app, world):
    checked = 0
    for rule in _get_routes(app):
        level = getattr(app.view_functions[rule.endpoint], "access_level", None)
        if level is None:
            assert rule.endpoint == "static" or rule.endpoint.split(".")[0] in UNLEVELLED_BLUEPRINTS, rule.endpoint
            continue
        url = world.url(rule)
        for role in ROLES:
            response = world.clients[role].get(url)
            allowed = role in ALLOWED[level] and not (CASE_ARGUMENTS & set(rule.arguments) and role == "outsider")
            where = (rule.endpoint, role, response.status_code)
            if level == access.PUBLIC:
                assert response.status_code in (200, 302), where
            elif allowed:
                assert response.status_code == 200, where
            elif role in ("anonymous", "reporter"):
                assert response.status_code == 302 and "/handler/login" in response.headers["Location"], where
            else:
                assert response.status_code == 403, where
            if role not in ("handler",):
                body = response.get_data(as_text=True)
                assert not [c for c in CONTENT if c in body], where
            checked += 1
    assert checked >= 25 * len(ROLES)


def test_every_post_route_refuses_the_roles_its_level_leaves_out(app, world):
    """Refused before anything is read: the request carries a valid token
    of the caller's own session, so only the level can stop it."""
    checked = 0
    for rule in app.url_map.iter_rules():
        level = getattr(app.view_functions[rule.endpoint], "access_level", None)
        if "POST" not in rule.methods or level in (None, access.PUBLIC):
            continue
        url = world.url(rule)
        for role in ROLES:
            if role in ALLOWED[level] and not (CASE_ARGUMENTS & set(rule.arguments) and role == "outsider"):
                continue
            client = world.clients[role]
            response = client.post_form("/handler/login" if role in ("anonymous", "reporter") else "/handler/account",
                                        {"body": "x", "kind": "message", "outcome": "removed"}, action=url)
            where = (rule.endpoint, role, response.status_code)
            if role in ("anonymous", "reporter"):
                assert response.status_code == 302 and "/handler/login" in response.headers["Location"], where
            else:
                assert response.status_code == 403, where
            checked += 1
    assert checked >= 30
