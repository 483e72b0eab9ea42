"""The two attacks an independent review showed, performed again: a database
writer who inserts a reader, and an operator who creates an account and adds
it to a channel. Neither may yield a single readable case: report keys reach
only keys the pinned anchor signed, and existing cases only with a key
holder's consent, never for a handler the reporter excluded."""
import base64
import datetime as dt
import json
import re
import secrets
import time

import pytest
from sqlalchemy import func, select, text

from crypto import DecryptionError, anchor, anchor_tool, envelope, keys, totp
from portal.models import AuditEvent, KeyGrant, RecipientStatement, Report, ReportKey, User
from portal.models.base import today
from portal.reports import grants
from portal.staff.accounts import create_user
from support import (
    HANDLER_PASSWORD,
    TEST_ANCHOR_PRIVATE,
    FormClient,
    enrol_totp,
    new_report,
    seed_channels,
    staff_login,
)

EN = {"Accept-Language": "en"}


@pytest.fixture
def world(app, db_session, settings):
    seeded = seed_channels(db_session, settings)
    seeded["secrets"] = {name: enrol_totp(db_session, settings, user) for name, user in seeded["handlers"].items()}
    return seeded


def signed_in(app, db_session, world, name):
    client = FormClient(app.test_client())
    assert staff_login(client, db_session, world["handlers"][name], world["secrets"][name]).status_code == 302
    return client


def opens_anything(db_session, user_id, private_key) -> list[str]:
    """Every report whose stored key `private_key` unwraps for `user_id` (at any key version)."""
    opened = []
    for row in db_session.scalars(select(ReportKey)):
        for version in range(0, 5):
            try:
                envelope.unwrap_for_recipient(row.wrapped, private_key, report_id=row.report_id,
                                              recipient_id=user_id, key_version=version)
            except DecryptionError:
                continue
            opened.append(row.report_id)
    return opened


def test_a_reader_inserted_into_the_database_gets_nothing(app, db_session, settings, world):
    old = new_report(db_session, settings)
    private_key, public_key = keys.generate_keypair()
    rogue_anchor, _ = anchor.generate_anchor_key()  # the writer's own "anchor": not pinned
    channel_id = world["improvement"].id
    with db_session.bind.begin() as sql:  # straight into the tables, as a database writer would
        sql.execute(text(
            "INSERT INTO users (id, username, display_name, language, is_handler, is_admin, is_viewer, active, "
            "login_salt, login_verifier, public_key, wrapped_private_key, recovery_wrapped_private_key, "
            "key_version, failed_logins, password_changed_at, created_at) VALUES (:id, 'mallory', 'Mallory', 'sv', "
            ":t, :f, :f, :t, :junk, :junk, :pk, :junk, :junk, 2, 0, :now, :now)"),
            {"id": "mallory-id", "t": True, "f": False, "junk": secrets.token_bytes(32), "pk": public_key,
             "now": "2026-12-01 10:00:00"})
        sql.execute(text("INSERT INTO memberships (channel_id, user_id, added_at) VALUES (:c, 'mallory-id', :now)"),
                    {"c": channel_id, "now": "2026-12-01 10:00:00"})
        sql.execute(text("INSERT INTO key_grants (report_id, user_id, requested_at) VALUES (:r, 'mallory-id', :now)"),
                    {"r": old.report_id, "now": "2026-12-01 00:00:00"})
        forged = anchor.RecipientStatement("mallory-id", channel_id, public_key, 2, today())
        sql.execute(text(
            "INSERT INTO recipient_statements (id, user_id, channel_id, public_key, key_version, not_before, "
            "signature, signed_at) VALUES ('forged', 'mallory-id', :c, :pk, 2, :day, :sig, :now)"),
            {"c": channel_id, "pk": public_key, "day": today(), "now": "2026-12-01 10:00:00",
             "sig": anchor.sign_statement(rogue_anchor, forged)})
    db_session.expire_all()

    # A real handler signs in, looks at the requests and even tries to approve.
    anna = signed_in(app, db_session, world, "anna")
    page = anna.get("/handler/access-requests", headers=EN).get_data(as_text=True)
    assert "Mallory" in page and "not yet confirmed by the organisation" in page
    anna.post_form("/handler/access-requests", {}, action="/handler/access-requests/mallory-id/approve")
    # A new report to the same channel, and an escrow batch.
    new = new_report(db_session, settings)
    granted, _left = grants.fulfil_with_escrow(db_session, settings, secrets.token_bytes(32))
    db_session.commit()

    db_session.expire_all()
    assert granted == 0
    assert db_session.get(ReportKey, (old.report_id, "mallory-id")) is None
    assert db_session.get(ReportKey, (new.report_id, "mallory-id")) is None
    assert opens_anything(db_session, "mallory-id", private_key) == []
    # Control: the same search finds what a real handler holds.
    anna_key = keys.unlock_with_password(
        HANDLER_PASSWORD, user_id=world["handlers"]["anna"].id, salt=world["handlers"]["anna"].login_salt,
        verifier=world["handlers"]["anna"].login_verifier,
        wrapped_private_key=world["handlers"]["anna"].wrapped_private_key,
        pepper=settings.pepper, params=settings.argon2)
    assert set(opens_anything(db_session, world["handlers"]["anna"].id, anna_key)) == {old.report_id, new.report_id}


def test_an_operators_new_account_reads_nothing_until_the_anchor_and_a_holder_agree(app, db_session, settings,
                                                                                     world, tmp_path):
    old = new_report(db_session, settings)
    runner = app.test_cli_runner()
    made = runner.invoke(args=["portal", "create-user", "--username", "erik", "--name", "Erik",
                               "--role", "handler", "--password-stdin"], input=HANDLER_PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    added = runner.invoke(args=["portal", "add-member", "--username", "erik", "--channel", "Improvement"])
    assert added.exit_code == 0, added.output
    db_session.expire_all()
    erik = db_session.scalar(select(User).where(User.username == "erik"))

    signed_in(app, db_session, world, "anna")  # a colleague merely signs in: nothing moves
    assert db_session.get(ReportKey, (old.report_id, erik.id)) is None

    # Erik's first sign-in gives him a key pair of his own; the anchor has not signed it.
    world["handlers"]["erik"] = erik
    world["secrets"]["erik"] = enrol_totp(db_session, settings, erik, anchored=False)
    before = new_report(db_session, settings)
    assert db_session.get(ReportKey, (before.report_id, erik.id)) is None
    listed = runner.invoke(args=["portal", "recipients"])
    assert "erik" in listed.output and anchor.fingerprint(bytes(erik.public_key)) in listed.output

    # Only a pinned anchor key can sign; then new reports reach him.
    unpinned = tmp_path / "other.key"
    unpinned.write_text(anchor.generate_anchor_key()[0].hex())
    wrong = runner.invoke(args=["portal", "sign-recipients", "--anchor-key-file", str(unpinned)])
    assert wrong.exit_code == 1 and "not pinned" in wrong.output
    key_file = tmp_path / "anchor.key"
    key_file.write_text(TEST_ANCHOR_PRIVATE.hex())
    asked = runner.invoke(args=["portal", "sign-recipients", "--anchor-key-file", str(key_file)], input="y\n")
    assert asked.exit_code == 0, asked.output
    assert anchor.fingerprint(bytes(erik.public_key)) in asked.output and "Signed: 1" in asked.output
    db_session.expire_all()
    after = new_report(db_session, settings)
    assert db_session.get(ReportKey, (after.report_id, erik.id)) is not None
    # The existing cases still wait for a holder's consent.
    assert db_session.get(ReportKey, (old.report_id, erik.id)) is None
    anna = signed_in(app, db_session, world, "anna")
    page = anna.get("/handler/access-requests", headers=EN).get_data(as_text=True)
    assert "Erik" in page and "not named: the command line" in page
    anna.post_form("/handler/access-requests", {}, action=f"/handler/access-requests/{erik.id}/approve")
    db_session.expire_all()
    assert db_session.get(ReportKey, (old.report_id, erik.id)) is not None
    granted = [json.loads(e.detail) | {"actor": e.actor_user_id} for e in db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "case.key_granted"))]
    assert {(g["actor"], g["user_id"]) for g in granted} == {(world["handlers"]["anna"].id, erik.id)}


def test_the_audit_names_who_asked_who_approved_and_who_received(app, db_session, settings, world):
    old = new_report(db_session, settings)
    admin = create_user(db_session, settings, username="ada", display_name="Ada Admin", password=HANDLER_PASSWORD,
                        roles={"admin"}).user
    erik = create_user(db_session, settings, username="erik", display_name="Erik", password=HANDLER_PASSWORD,
                       roles={"handler"}).user
    grants.add_member(db_session, world["improvement"], erik, actor_user_id=admin.id)
    db_session.commit()
    enrol_totp(db_session, settings, erik)
    anna = signed_in(app, db_session, world, "anna")
    assert "Ada Admin" in anna.get("/handler/access-requests", headers=EN).get_data(as_text=True)
    anna.post_form("/handler/access-requests", {}, action=f"/handler/access-requests/{erik.id}/approve")
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "case.key_granted",
                                                        AuditEvent.target_id == old.report_id)).one()
    assert event.actor_user_id == world["handlers"]["anna"].id
    assert json.loads(event.detail) == {"user_id": erik.id, "requested_by": admin.id}


def test_not_now_leaves_the_colleague_waiting_for_others(app, db_session, settings, world):
    old = new_report(db_session, settings)
    erik = create_user(db_session, settings, username="erik", display_name="Erik", password=HANDLER_PASSWORD,
                       roles={"handler"}).user
    grants.add_member(db_session, world["improvement"], erik)
    db_session.commit()
    enrol_totp(db_session, settings, erik)
    anna = signed_in(app, db_session, world, "anna")
    anna.post_form("/handler/access-requests", {}, action=f"/handler/access-requests/{erik.id}/refuse")
    assert "Nobody is waiting" in anna.get("/handler/access-requests", headers=EN).get_data(as_text=True)
    assert db_session.get(ReportKey, (old.report_id, erik.id)) is None
    bjorn = signed_in(app, db_session, world, "bjorn")  # another holder is still asked
    assert "Erik" in bjorn.get("/handler/access-requests", headers=EN).get_data(as_text=True)


def test_an_excluded_handler_never_receives_the_key_whoever_approves(app, db_session, settings, world):
    bjorn = world["handlers"]["bjorn"]
    excluded = new_report(db_session, settings, exclude=[bjorn.id])
    assert db_session.get(KeyGrant, (excluded.report_id, bjorn.id)) is None
    # A database writer queues the grant anyway.
    db_session.add(KeyGrant(report_id=excluded.report_id, user_id=bjorn.id))
    db_session.commit()
    anna = signed_in(app, db_session, world, "anna")
    anna.post_form("/handler/access-requests", {}, action=f"/handler/access-requests/{bjorn.id}/approve")
    db_session.expire_all()
    assert db_session.get(KeyGrant, (excluded.report_id, bjorn.id)) is None  # the approval dropped it
    assert anna.post_form(f"/handler/case/{excluded.report_id}", {"user_id": bjorn.id},
                          action=f"/handler/case/{excluded.report_id}/grant").status_code == 400
    # The writer also deletes the exclusion row: the exclusion sealed with the report still holds.
    db_session.execute(text("DELETE FROM exclusions WHERE report_id = :r"), {"r": excluded.report_id})
    db_session.add(KeyGrant(report_id=excluded.report_id, user_id=bjorn.id))
    db_session.commit()
    anna.post_form("/handler/access-requests", {}, action=f"/handler/access-requests/{bjorn.id}/approve")
    grants.fulfil_with_escrow(db_session, settings, secrets.token_bytes(32))
    db_session.commit()
    db_session.expire_all()
    assert db_session.get(ReportKey, (excluded.report_id, bjorn.id)) is None


def test_a_channel_nobody_trusted_can_read_takes_no_report(client, db_session, settings):
    seeded = seed_channels(db_session, settings, ready=False)
    assert seeded
    page = client.get("/report/obstacle?category=it_systems&chain_level=management", headers=EN)
    assert page.status_code == 503 and "cannot be received right now" in page.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Report)) == 0


def test_the_reporter_sees_who_holds_the_key_and_an_added_reader(app, db_session, settings, world):
    bjorn = world["handlers"]["bjorn"]
    submitted = new_report(db_session, settings, exclude=[bjorn.id])
    reporter = FormClient(app.test_client())
    reporter.post_form("/follow-up", {"receipt": submitted.receipt})

    def readers():
        html = reporter.get("/follow-up/case", headers=EN).get_data(as_text=True)
        return html.split('<ul class="readers">')[1].split("</ul>")[0]

    assert "Anna" in readers() and "Bjorn" not in readers()
    erik = create_user(db_session, settings, username="erik", display_name="Erik", password=HANDLER_PASSWORD,
                       roles={"handler"}).user
    grants.add_member(db_session, world["improvement"], erik)
    db_session.commit()
    enrol_totp(db_session, settings, erik)
    assert "Erik" not in readers()
    signed_in(app, db_session, world, "anna").post_form(
        "/handler/access-requests", {}, action=f"/handler/access-requests/{erik.id}/approve")
    assert "Erik" in readers()


def test_the_admin_dashboard_lists_keys_the_anchor_has_not_confirmed(app, db_session, settings, world):
    admin = create_user(db_session, settings, username="ada", display_name="Ada Admin", password=HANDLER_PASSWORD,
                        roles={"admin"}).user
    erik = create_user(db_session, settings, username="erik", display_name="Erik", password=HANDLER_PASSWORD,
                       roles={"handler"}).user
    grants.add_member(db_session, world["improvement"], erik)
    db_session.commit()
    client = FormClient(app.test_client())
    login = staff_login(client, db_session, admin, enrol_totp(db_session, settings, admin))
    assert login.headers["Location"].endswith("/admin/")  # an admin lands on the dashboard
    html = client.get("/admin/", headers=EN).get_data(as_text=True)
    assert "Erik" in html and "first sign-in" in html and "Anna" not in html
    enrol_totp(db_session, settings, erik, anchored=False)
    html = client.get("/admin/", headers=EN).get_data(as_text=True)
    assert anchor.fingerprint(bytes(erik.public_key)) in html and "recipients --export" in html
    assert signed_in(app, db_session, world, "anna").get("/admin/").status_code == 403


def test_an_account_marked_as_holding_its_own_keys_still_replaces_them_at_enrolment(app, db_session, settings,
                                                                                    world):
    """The review's attack: create an account, set key_version in the
    database so its creator-made key pair passes for the handler's own, and
    have the anchor sign it. Enrolment makes a new pair whatever the row says."""
    from support import csrf_token_from

    bob = create_user(db_session, settings, username="bob", display_name="Bob", password=HANDLER_PASSWORD,
                      roles={"handler"}).user
    grants.add_member(db_session, world["whistle"], bob)
    db_session.execute(text("UPDATE users SET key_version = 2 WHERE id = :id"), {"id": bob.id})
    db_session.commit()
    db_session.expire_all()
    creator_key = keys.unlock_with_password(
        HANDLER_PASSWORD, user_id=bob.id, salt=bob.login_salt, verifier=bob.login_verifier,
        wrapped_private_key=bob.wrapped_private_key, pepper=settings.pepper, params=settings.argon2)

    client = FormClient(app.test_client())
    start = client.post_form("/handler/login", {"username": "bob", "password": HANDLER_PASSWORD, "code": ""})
    assert start.headers["Location"].endswith("/handler/enrol")
    page = client.get("/handler/enrol", headers=EN).get_data(as_text=True)
    assert 'name="new_password"' in page  # a password of his own is asked for all the same
    secret = base64.b32decode(re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", ""))
    own = "ett alldeles eget lösenord här"
    done = client.post("/handler/enrol", data={"csrf_token": csrf_token_from(page), "saved": "y",
                                               "code": totp.code_for_step(secret, totp.step_at(time.time())),
                                               "new_password": own, "new_password_again": own})
    assert done.status_code == 302
    db_session.expire_all()
    bob = db_session.get(User, bob.id)
    assert bytes(bob.public_key) != keys.public_key_for(creator_key) and bob.key_version == 3
    from support import anchor_user

    anchor_user(db_session, settings, bob)
    db_session.commit()
    report = new_report(db_session, settings, track="misconduct", category="fraud")
    assert db_session.get(ReportKey, (report.report_id, bob.id)) is not None
    assert opens_anything(db_session, bob.id, creator_key) == []


def test_a_case_moved_to_another_channel_reaches_nobody_there(app, db_session, settings, world):
    """The review's attack: move a report into another channel in the
    database and queue a grant there; the channel sealed with it decides."""
    improvement = new_report(db_session, settings)
    carin = world["handlers"]["carin"]
    db_session.execute(text("UPDATE reports SET channel_id = :c WHERE id = :r"),
                       {"c": world["whistle"].id, "r": improvement.report_id})
    db_session.add(KeyGrant(report_id=improvement.report_id, user_id=carin.id))
    db_session.commit()
    anna = signed_in(app, db_session, world, "anna")
    anna.post_form("/handler/access-requests", {}, action=f"/handler/access-requests/{carin.id}/approve")
    db_session.expire_all()
    assert db_session.get(ReportKey, (improvement.report_id, carin.id)) is None
    from portal.reports import manifest

    moved = db_session.get(Report, improvement.report_id)
    assert "channel" in manifest.check(db_session, moved, improvement.data_key, chained=True).problems
    # The reporter, who still opens it, is told.
    reporter = FormClient(app.test_client())
    reporter.post_form("/follow-up", {"receipt": improvement.receipt})
    assert "no longer matches the sealed record" in reporter.get("/follow-up/case", headers=EN).get_data(
        as_text=True)


def test_the_escrow_batch_keeps_an_exclusion_whose_row_was_deleted(app, db_session, settings, world):
    from crypto.keys import generate_keypair

    escrow_private, escrow_public = generate_keypair()
    with_escrow = settings.with_overrides(escrow_public_key=escrow_public.hex())
    bjorn = world["handlers"]["bjorn"]
    excluded = new_report(db_session, with_escrow, exclude=[bjorn.id])
    db_session.execute(text("DELETE FROM exclusions WHERE report_id = :r"), {"r": excluded.report_id})
    db_session.add(KeyGrant(report_id=excluded.report_id, user_id=bjorn.id))
    db_session.commit()
    granted, _left = grants.fulfil_with_escrow(db_session, with_escrow, escrow_private)
    db_session.commit()
    assert granted == 0 and db_session.get(ReportKey, (excluded.report_id, bjorn.id)) is None
    assert db_session.get(KeyGrant, (excluded.report_id, bjorn.id)) is None  # excluded: the grant goes


def test_keys_are_signed_offline_with_the_ids_shown_and_come_back_verified(app, db_session, settings, world,
                                                                          tmp_path):
    """Export on the server, sign where the anchor key lives (it never comes
    to the server), import. The prompt shows the ids a statement binds, not
    only names a database writer could swap; a doctored signed file is refused."""
    erik = create_user(db_session, settings, username="erik", display_name="Erik", password=HANDLER_PASSWORD,
                       roles={"handler"}).user
    grants.add_member(db_session, world["whistle"], erik)
    db_session.commit()
    enrol_totp(db_session, settings, erik, anchored=False)
    runner = app.test_cli_runner()
    to_sign, signed = tmp_path / "to-sign.jsonl", tmp_path / "signed.jsonl"
    exported = runner.invoke(args=["portal", "recipients", "--export", str(to_sign)])
    assert exported.exit_code == 0 and "Exported 1" in exported.output, exported.output

    shown = []
    with open(to_sign) as source, open(signed, "w") as out:
        count = anchor_tool.sign_file(TEST_ANCHOR_PRIVATE, source, out, lambda text: shown.append(text) or True)
    assert count == 1
    assert erik.id in shown[0] and world["whistle"].id in shown[0]
    assert anchor.fingerprint(bytes(erik.public_key)) in shown[0]

    doctored = tmp_path / "doctored.jsonl"
    line = json.loads(signed.read_text())
    doctored.write_text(json.dumps({**line, "channel_id": world["improvement"].id}) + "\n")
    refused = runner.invoke(args=["portal", "recipients", "--import", str(doctored)])
    assert "refused: 1" in refused.output
    imported = runner.invoke(args=["portal", "recipients", "--import", str(signed)])
    assert "Recorded: 1" in imported.output, imported.output
    db_session.expire_all()
    report = new_report(db_session, settings, track="misconduct", category="fraud")
    assert db_session.get(ReportKey, (report.report_id, erik.id)) is not None
    row = db_session.scalars(select(RecipientStatement).where(RecipientStatement.user_id == erik.id)).one()
    assert row.not_after is not None  # statements expire (renewed yearly) unless told otherwise


# --- The third review's attacks -------------------------------------------------

def test_a_public_key_swapped_in_the_database_shows_as_a_mismatch_and_stops_sign_in(app, db_session, settings,
                                                                                      world):
    """The writer puts their own public key on Carin's row before her key is
    signed. The fingerprint Carin reads comes from the key her password
    unlocks, so it differs from the one the anchor holder is shown; and her
    next sign-in is refused (and audited) rather than carried on."""
    carin = world["handlers"]["carin"]
    client = signed_in(app, db_session, world, "carin")
    own = client.get("/handler/account", headers=EN).get_data(as_text=True)
    own_fingerprint = anchor.fingerprint(bytes(carin.public_key))
    assert own_fingerprint in own

    attacker_public = keys.generate_keypair()[1]
    db_session.execute(text("UPDATE users SET public_key = :pk WHERE id = :id"),
                       {"pk": attacker_public, "id": carin.id})
    db_session.commit()
    shown_to_carin = client.get("/handler/account", headers=EN).get_data(as_text=True)
    assert own_fingerprint in shown_to_carin and anchor.fingerprint(attacker_public) not in shown_to_carin
    exported = app.test_cli_runner().invoke(args=["portal", "recipients"])
    assert anchor.fingerprint(attacker_public) in exported.output  # what the anchor holder would compare

    again = FormClient(app.test_client())
    response = staff_login(again, db_session, carin, world["secrets"]["carin"])
    assert response.status_code == 400 and "inte din" in response.get_data(as_text=True)  # Swedish by default
    assert db_session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "trust.key_mismatch")) == 1


def test_an_old_statement_is_not_honoured_once_a_newer_key_is_signed(app, db_session, settings, world):
    """Rollback: after a recovery (a new key version, signed), putting the old
    key and version back on the row gets no new report wrapped for it."""
    anna = world["handlers"]["anna"]
    old_public, old_version = bytes(anna.public_key), anna.key_version
    new_private, new_public = keys.generate_keypair()
    anna.public_key, anna.key_version = new_public, old_version + 1
    db_session.commit()
    from support import anchor_user

    anchor_user(db_session, settings, anna)
    db_session.commit()
    db_session.execute(text("UPDATE users SET public_key = :pk, key_version = :v WHERE id = :id"),
                       {"pk": old_public, "v": old_version, "id": anna.id})
    db_session.commit()
    db_session.expire_all()
    report = new_report(db_session, settings)
    assert db_session.get(ReportKey, (report.report_id, anna.id)) is None


def test_swapped_names_unanchor_both_and_the_reporter_sees_it(app, db_session, settings, world):
    """The writer swaps Carin's and David's names so that a reporter who
    excludes "Carin" excludes David. Names are signed: neither is then a
    reader, and the form marks both names as not confirmed."""
    from portal.trust.statements import is_anchored

    carin, david = world["handlers"]["carin"], world["handlers"]["david"]
    db_session.execute(text("UPDATE users SET display_name = 'Carin' WHERE id = :id"), {"id": david.id})
    db_session.commit()
    db_session.expire_all()
    page = app.test_client().get("/report/misconduct?category=fraud&step=2", headers=EN).get_data(as_text=True)
    assert page.count("Carin (name not yet confirmed by the organisation)") == 1  # David's row, renamed
    assert not is_anchored(db_session, settings, david, world["whistle"].id)
    db_session.execute(text("UPDATE users SET display_name = 'David' WHERE id = :id"), {"id": carin.id})
    db_session.commit()
    db_session.expire_all()
    assert not is_anchored(db_session, settings, carin, world["whistle"].id)
    with pytest.raises(Exception):  # nobody trusted is left to read a misconduct report
        new_report(db_session, settings, track="misconduct", category="fraud")


def test_the_anchor_tool_shows_control_characters_instead_of_obeying_them():
    hostile = "Carin\n  fingerprint AAAA-BBBB-CCCC-DDDD\x1b[8m\u202e"
    shown = anchor_tool.printable(hostile)
    assert "\n" not in shown and "\x1b" not in shown and "\u202e" not in shown
    assert "\\u000a" in shown and "\\u001b" in shown


def test_the_anchor_holder_is_warned_of_an_admin_made_account_signed_in_at_once(app, db_session, settings, world):
    """An administrator makes an account, with the admin role too, and signs
    in with it minutes later (the password is theirs until then): the anchor
    holder sees all three before the fingerprint question."""
    from portal import audit
    from portal.models import Channel, Membership

    admin = create_user(db_session, settings, username="boss", display_name="Bo Ss", password=HANDLER_PASSWORD,
                        roles={"admin"}).user
    made = create_user(db_session, settings, username="frida", display_name="Frida", password=HANDLER_PASSWORD,
                       roles={"handler", "admin"}, actor_user_id=admin.id).user
    improvement = db_session.scalar(select(Channel).where(Channel.name == "Improvement"))
    db_session.add(Membership(channel_id=improvement.id, user_id=made.id))
    db_session.commit()
    enrol_totp(db_session, settings, made, anchored=False)
    audit.record(db_session, "auth.enrol", actor_user_id=made.id, target_type="user", target_id=made.id)
    db_session.commit()
    listed = app.test_cli_runner().invoke(args=["portal", "recipients"]).output
    frida = listed[listed.index("Frida"):]
    assert "CAUTION: also an administrator" in frida
    assert "CAUTION: created by Bo Ss (boss)" in frida
    assert "CAUTION: first signed in 0 minute(s) after the account was made" in frida

    # Days between creation and first sign-in, and no admin role: only who made it.
    made.created_at = made.created_at - dt.timedelta(days=2)
    made.is_admin = False
    db_session.commit()
    asked = app.test_cli_runner().invoke(args=["portal", "recipients"]).output
    frida = asked[asked.index("Frida"):]
    assert "created by Bo Ss" in frida and "administrator" not in frida and "first signed in" not in frida

