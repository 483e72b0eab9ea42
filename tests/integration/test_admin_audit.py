"""The admin area's audit log: translated action names, filters that narrow
the rows, dates checked without a 500, paging, admins only, and a CSV export
of the same filter that a spreadsheet cannot run as formulas."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask_babel import force_locale
from sqlalchemy import select, update

from portal import audit
from portal.models import AuditEvent, Unit
from portal.models.base import today
from portal.blueprints.admin.audit_rows import CSV_COLUMNS
from portal.organisation import audit_view, setup
from portal.staff.accounts import create_user
from support import FormClient, HANDLER_PASSWORD, enrol_totp, new_report, seed_channels, staff_login

EN = {"Accept-Language": "en"}
SV = {"Accept-Language": "sv"}
FORMULA = '=HYPERLINK("http://evil.example/","<b>click</b>")'


@pytest.fixture
def world(app, db_session, settings):
    seeded = seed_channels(db_session, settings)
    admin = create_user(db_session, settings, username="eva.admin", display_name="Eva Admin",
                        password=HANDLER_PASSWORD, roles={"admin"}).user
    viewer = create_user(db_session, settings, username="ledning", display_name="Ledning",
                         password=HANDLER_PASSWORD, roles={"viewer"}).user
    db_session.commit()
    anna = seeded["handlers"]["anna"]
    clients = {}
    for name, user in (("admin", admin), ("anna", anna), ("viewer", viewer)):
        client = FormClient(app.test_client())
        assert staff_login(client, db_session, user, enrol_totp(db_session, settings, user)).status_code == 302
        clients[name] = client
    clients["anonymous"] = FormClient(app.test_client())
    unit = setup.add_unit(db_session, admin, FORMULA)
    db_session.commit()
    return {"admin": admin, "anna": anna, "viewer": viewer, "unit": unit, "clients": clients,
            "improvement": seeded["improvement"]}


def _rows(html: str) -> list[str]:
    body = html[html.index("<tbody>"):html.index("</tbody>")] if "<tbody>" in html else ""
    return re.findall(r"<tr>.*?</tr>", body, re.S)


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_log_names_actions_in_the_admins_language(world):
    admin = world["clients"]["admin"]
    english = admin.get("/admin/audit", headers=EN)
    assert english.status_code == 200
    page = english.get_data(as_text=True)
    assert "Added a unit" in page and "Signed in" in page \
        and "<code>unit.create</code>" not in page  # codes: in the CSV
    assert "Eva Admin" in page and "eva.admin" in page
    swedish = admin.get("/admin/audit", headers=SV).get_data(as_text=True)
    assert "Lade till en enhet" in swedish and "Loggade in" in swedish and "Added a unit" not in swedish


def test_an_unknown_action_is_shown_by_its_code(world, db_session):
    audit.record(db_session, "legacy.something", actor_user_id=world["admin"].id)
    db_session.commit()
    page = world["clients"]["admin"].get("/admin/audit", headers=EN).get_data(as_text=True)
    assert "legacy.something" in _rows(page)[0]


def test_names_are_escaped_and_a_case_is_only_a_short_id(world, app, db_session, settings):
    submitted = new_report(db_session, settings)
    anna = world["clients"]["anna"]
    assert anna.get(f"/handler/case/{submitted.report_id}").status_code == 200  # audited: case.view
    page = world["clients"]["admin"].get("/admin/audit", headers=EN).get_data(as_text=True)
    assert "Opened the case" in page and f"Case: {submitted.report_id[:8]}…" in page
    assert submitted.report_id not in page and submitted.receipt not in page
    assert "Three systems" not in page
    assert "<b>click</b>" not in page and "&lt;b&gt;click&lt;/b&gt;" in page


def test_details_read_as_words(world, db_session):
    admin = world["admin"]
    audit.record(db_session, "channel.update", actor_user_id=admin.id, target_type="channel",
                 target_id=world["improvement"].id, retention_months=[24, 12])
    audit.record(db_session, "user.roles", actor_user_id=admin.id, target_type="user", target_id=world["anna"].id,
                 before=["handler"], after=["admin", "handler"], keys_destroyed=0)
    audit.record(db_session, "channel.member_added", actor_user_id=admin.id, target_type="channel",
                 target_id=world["improvement"].id, user_id=world["anna"].id, grants_requested=2)
    db_session.commit()
    page = world["clients"]["admin"].get("/admin/audit", headers=EN).get_data(as_text=True)
    assert "Keep closed cases for (months): 24 → 12" in page
    assert "Before: case handler" in page and "After: administrator, case handler" in page
    assert "Channel: Improvement" in page and "Colleague: Anna (anna)" in page and "Account: Anna (anna)" in page
    swedish = world["clients"]["admin"].get("/admin/audit", headers=SV).get_data(as_text=True)
    assert "Spara avslutade ärenden i (månader): 24 → 12" in swedish and "handläggare" in swedish


def test_filters_narrow_the_rows(world, db_session):
    admin = world["clients"]["admin"]
    everything = _rows(admin.get("/admin/audit", headers=EN).get_data(as_text=True))
    units = _rows(admin.get("/admin/audit", query_string={"action": "unit."}, headers=EN).get_data(as_text=True))
    assert len(units) == 1 < len(everything) and "Added a unit" in units[0]
    logins = _rows(admin.get("/admin/audit", query_string={"action": "auth.login"}, headers=EN)
                   .get_data(as_text=True))
    assert len(logins) == 3 and all("Signed in" in row for row in logins)  # admin, Anna, the viewer
    by_anna = _rows(admin.get("/admin/audit", query_string={"person": world["anna"].id}, headers=EN)
                    .get_data(as_text=True))
    assert by_anna and all("Anna" in row and "Eva Admin" not in row for row in by_anna)
    # Both filters at once, and the form shows what was chosen.
    both = admin.get("/admin/audit", query_string={"action": "auth.", "person": world["admin"].id}, headers=EN)
    html = both.get_data(as_text=True)
    assert len(_rows(html)) == 1 and '<option selected value="auth.">' in html


def test_the_date_range_is_inclusive_and_in_utc(world, db_session):
    admin = world["clients"]["admin"]
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "unit.create")).one()
    db_session.execute(update(AuditEvent).where(AuditEvent.lane == event.lane, AuditEvent.seq == event.seq)
                       .values(at=dt.datetime(2025, 1, 15, 23, 59, 30)))
    db_session.commit()

    def rows(**query):
        return _rows(admin.get("/admin/audit", query_string=query, headers=EN).get_data(as_text=True))

    assert [r for r in rows(date_from="2025-01-15", date_to="2025-01-15") if "Added a unit" in r]
    assert len(rows(date_from="2025-01-15", date_to="2025-01-15")) == 1
    assert rows(date_to="2025-01-14") == [] and rows(date_from="2025-01-16", date_to="2025-12-31") == []
    todays = rows(date_from=today().isoformat(), date_to=today().isoformat())
    assert todays and not any("Added a unit" in r for r in todays)
    assert rows(date_from=(today() + dt.timedelta(days=1)).isoformat()) == []


@pytest.mark.parametrize("query, message", [
    ({"date_from": "31/12/2026"}, "Enter a date as year-month-day"),
    ({"date_to": "2026-02-30"}, "Enter a date as year-month-day"),
    ({"date_from": "2026-W05-1"}, "Enter a date as year-month-day"),
    ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "same as or later than the from date"),
    ({"action": "drop table"}, "Choose an action from the list."),
    ({"person": "nobody"}, "Choose a person from the list."),
])
def test_a_bad_filter_is_a_400_that_says_why_and_keeps_the_input(world, query, message):
    for url in ("/admin/audit", "/admin/audit.csv"):
        response = world["clients"]["admin"].get(url, query_string=query, headers=EN)
        html = response.get_data(as_text=True)
        assert response.status_code == 400 and message in html, url
        assert 'class="field-error"' in html and 'aria-invalid="true"' in html and "There is a problem" in html
        assert _rows(html) == []
        for typed in (v for k, v in query.items() if k.startswith("date")):
            assert f'value="{typed}"' in html


def test_a_bad_page_number_is_the_first_page(world):
    for page in ("abc", "-3", "0", "99999999999999999999999"):
        response = world["clients"]["admin"].get("/admin/audit", query_string={"page": page}, headers=EN)
        assert response.status_code == 200, page


def test_paging_keeps_the_filter_and_never_repeats_a_row(world, db_session):
    admin = world["admin"]
    for number in range(audit_view.PAGE_SIZE + 5):
        audit.record(db_session, "unit.rename", actor_user_id=admin.id, target_type="unit",
                     target_id=world["unit"].id, files=number)
    db_session.commit()
    client = world["clients"]["admin"]
    first = client.get("/admin/audit", query_string={"action": "unit.rename"}, headers=EN).get_data(as_text=True)
    assert len(_rows(first)) == audit_view.PAGE_SIZE and "Newer" not in first
    older = re.search(r'<a href="([^"]+)" rel="next">Older</a>', first).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(older).query) == {"action": ["unit.rename"], "page": ["2"]}
    second = client.get(older, headers=EN).get_data(as_text=True)
    assert len(_rows(second)) == 5 and "Older" not in second and 'rel="prev"' in second
    numbers = [int(m) for m in re.findall(r"Files: (\d+)", first + second)]
    assert sorted(numbers) == list(range(audit_view.PAGE_SIZE + 5)) and numbers[0] == audit_view.PAGE_SIZE + 4


@pytest.mark.parametrize("url", ["/admin/audit", "/admin/audit.csv"])
def test_only_admins_see_the_log(world, url):
    for name in ("anna", "viewer"):
        assert world["clients"][name].get(url).status_code == 403, name
    anonymous = world["clients"]["anonymous"].get(url)
    assert anonymous.status_code == 302 and "/handler/login" in anonymous.headers["Location"]


def test_the_csv_has_translated_headers_the_filtered_rows_and_no_formulas(world, app):
    client = world["clients"]["admin"]
    rows = _csv(client.get("/admin/audit.csv", query_string={"action": "unit."}, headers=EN))
    assert rows[0] == ["Time (UTC)", "Action", "Action code", "Done by", "Username", "Target type", "Target",
                       "Details"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1]))
    assert row["Action"] == "Added a unit" and row["Action code"] == "unit.create"
    assert row["Done by"] == "Eva Admin" and row["Username"] == "eva.admin" and row["Target type"] == "Unit"
    assert row["Target"] == "'" + FORMULA  # a spreadsheet shows it as text
    assert dt.datetime.strptime(row["Time (UTC)"], "%Y-%m-%d %H:%M:%S").date() == today()
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in rows for cell in line)

    swedish = _csv(client.get("/admin/audit.csv", query_string={"action": "unit."}, headers=SV))
    assert swedish[1][1:3] == ["Lade till en enhet", "unit.create"] and swedish[1][5] == "Enhet"
    with app.test_request_context(), force_locale("sv"):
        assert swedish[0] == [str(column) for column in CSV_COLUMNS]  # the headers in the admin's language too


def test_the_csv_exports_every_matching_event_not_just_a_page(world, db_session, monkeypatch):
    monkeypatch.setattr(audit_view, "EXPORT_BATCH", 7)  # read in many batches
    for _number in range(audit_view.PAGE_SIZE * 2):
        audit.record(db_session, "case.purge", target_type="report", target_id="r" * 22)
    db_session.commit()
    rows = _csv(world["clients"]["admin"].get("/admin/audit.csv", query_string={"action": "case.purge"}))
    assert len(rows) == 1 + audit_view.PAGE_SIZE * 2
    assert {tuple(r[5:7]) for r in rows[1:]} == {("Ärende", "rrrrrrrr…")}
    everything = _csv(world["clients"]["admin"].get("/admin/audit.csv", headers=EN))
    assert len(everything) > len(rows) and {"auth.login", "unit.create", "case.purge"} <= {r[2] for r in everything}


def test_the_domain_resolves_names_in_batches(world, db_session):
    unit = db_session.get(Unit, world["unit"].id)
    entries = list(audit_view.every_entry(db_session, audit_view.AuditFilter(action="unit.")))
    assert [(e.action, e.target.name, e.actor.username) for e in entries] == [("unit.create", unit.name, "eva.admin")]
    missing = audit_view.audit_page(db_session, audit_view.AuditFilter(actor_user_id="nobody"))
    assert missing.entries == [] and not missing.has_next
