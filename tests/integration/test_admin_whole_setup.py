"""Issue 14's acceptance: from a new database holding only the first admin
(what `portal init` makes), a whole organisation is set up from the admin
area alone: channels, units, people, memberships, rules and texts. The only
step outside it is the trust anchor's signature of each handler's key,
which is made offline on purpose (docs/deployment.md). Then a report sent
from the reporter pages reaches the right handler."""
from __future__ import annotations

import re

from sqlalchemy import select

from portal.models import Channel, Report, ReportKey, Unit, User
from portal.staff.accounts import create_user
from support import HANDLER_PASSWORD, anchor_user, csrf_token_from, make_own_keys, signed_in

EN = {"Accept-Language": "en"}


def _post(client, page, data, action=None):
    response = client.post_form(page, data, action=action, headers=EN)
    assert response.status_code == 302, (page, action, response.get_data(as_text=True)[-3000:])
    return response


def test_a_whole_organisation_is_set_up_from_the_admin_area(app, db_session, settings):
    first = create_user(db_session, settings, username="admin", display_name="Admin",
                        password=HANDLER_PASSWORD, roles={"admin"}).user
    db_session.commit()
    admin = signed_in(app, db_session, settings, first)
    assert "There is no channel yet" in admin.get("/admin/channels", headers=EN).get_data(as_text=True)

    channels = {}
    for track, name in (("obstacle", "Förbättring"), ("misconduct", "Visselblåsning")):
        done = _post(admin, "/admin/channels/new", {"track": track, "name": name, "name_en": "",
                                                   "description": f"{name} läser.", "description_en": "",
                                                   "retention_months": "24"})
        channels[track] = done.headers["Location"].rsplit("/", 1)[-1]
    for unit in ("Ekonomi", "Skola"):
        _post(admin, "/admin/units", {"name": unit})

    passwords = {}
    for username, roles in (("hanna", ["handler"]), ("vera", ["handler"]), ("leif", ["viewer"])):
        page = admin.post_form("/admin/people/new", {"username": username, "display_name": username.title(),
                                                     "email": "", "language": "sv", "roles": roles}, headers=EN)
        assert page.status_code == 200
        passwords[username] = re.search(r'<code class="secret">([^<]+)</code>', page.get_data(as_text=True)).group(1)
    users = {u.username: u for u in db_session.scalars(select(User))}
    for username, track in (("hanna", "obstacle"), ("vera", "misconduct")):
        _post(admin, f"/admin/channels/{channels[track]}", {"user_id": users[username].id},
              action=f"/admin/channels/{channels[track]}/members")
    for track in channels:
        _post(admin, "/admin/routing", {f"{track}-category": "", f"{track}-chain_level": "",
                                        f"{track}-channel_id": channels[track]}, action=f"/admin/routing/{track}")
    _post(admin, "/admin/texts", {"notice_obstacle_en": "Write about the obstacle, not about people."})

    # Outside the admin area: each handler's first sign-in makes a key pair
    # of their own, and the anchor's holder signs it offline.
    for username in ("hanna", "vera"):
        user = db_session.get(User, users[username].id)
        make_own_keys(db_session, settings, user, password=passwords[username])
        anchor_user(db_session, settings, user)
    db_session.commit()

    reporter = app.test_client()
    form = reporter.get("/report/obstacle?category=it_systems&chain_level=management", headers=EN)
    html = form.get_data(as_text=True)
    assert "Write about the obstacle, not about people." in html and "Skola" in html
    token = csrf_token_from(html)
    fields = {name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', html).group(1)
              for name in ("nonce", "channel_shown")}
    unit_id = db_session.scalar(select(Unit.id).where(Unit.name == "Skola"))
    sent = reporter.post("/report/obstacle", headers=EN, content_type="multipart/form-data", data={
        **fields, "csrf_token": token, "category": "it_systems", "chain_level": "management", "unit": unit_id,
        "today": "Three logins a day.", "change": "One login."})
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/report/sent")
    db_session.expire_all()
    report = db_session.scalar(select(Report))
    assert report.channel_id == db_session.scalar(select(Channel.id).where(Channel.name == "Förbättring"))
    holders = set(db_session.scalars(select(ReportKey.user_id).where(ReportKey.report_id == report.id)))
    assert holders == {users["hanna"].id}  # the obstacle channel's handler, not the admin, not Vera
