"""Who may see which figures: /insights is public unless configured not to
be; trends are for leadership (viewers, admins, handlers) and never for an
anonymous caller or a reporter; a viewer reaches no case route."""
import pytest

from portal import create_app
from portal.staff.accounts import create_user
from support import HANDLER_PASSWORD, FormClient, enrol_totp, make_settings, new_report, seed_channels, staff_login


@pytest.fixture
def viewer(app, db_session, settings):
    user = create_user(db_session, settings, username="ledning", display_name="Ledning", password=HANDLER_PASSWORD,
                       roles={"viewer"}).user
    db_session.commit()
    return user, enrol_totp(db_session, settings, user)


def test_trends_refuse_anonymous_callers_and_reporters(app, db_session, settings):
    seed_channels(db_session, settings)
    submitted = new_report(db_session, settings)
    anonymous = app.test_client().get("/insights/trends")
    assert anonymous.status_code == 302 and "/handler/login" in anonymous.headers["Location"]
    reporter = FormClient(app.test_client())
    reporter.post_form("/follow-up", {"receipt": submitted.receipt})
    assert reporter.get("/follow-up/case").status_code == 200  # a reporter's session...
    response = reporter.get("/insights/trends")  # ...is no staff session
    assert response.status_code == 302 and "/handler/login" in response.headers["Location"]


def test_a_viewer_lands_on_trends_and_reaches_no_case_route(app, db_session, settings, viewer):
    seed_channels(db_session, settings)
    submitted = new_report(db_session, settings)
    user, secret = viewer
    client = FormClient(app.test_client())
    landing = staff_login(client, db_session, user, secret)
    assert landing.status_code == 302 and landing.headers["Location"].endswith("/insights/trends")
    assert client.get("/insights/trends").status_code == 200
    for path in ("/handler/", f"/handler/case/{submitted.report_id}", "/handler/stories", "/admin/"):
        assert client.get(path).status_code == 403, path


def test_insights_can_be_staff_only(tmp_path, database, db_session):
    app = create_app(make_settings(tmp_path, database.url, insights_public=False))
    for path in ("/insights", "/insights/data.json", "/insights/data.csv"):
        response = app.test_client().get(path)
        assert response.status_code == 302 and "/handler/login" in response.headers["Location"], path
    app.extensions["tillit.db"].engine.dispose()


def test_insights_are_public_by_default(client):
    for path in ("/insights", "/insights/data.json", "/insights/data.csv"):
        assert client.get(path).status_code == 200, path
