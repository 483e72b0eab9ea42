"""Deactivating staff and changing roles (staff/administration.py): the
person's case keys, grants and sessions go; a case only they held waits for
the escrow key, and opens for a newcomer after an escrow grant, not before."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crypto.keys import generate_keypair
from portal.models import AuditEvent, KeyGrant, ReportKey, ServerSession, User
from portal.reports.access import NoKey, open_for_handler
from portal.reports.grants import add_member, fulfil_with_escrow
from portal.reports.reading import answers
from portal.staff import administration
from portal.staff.accounts import create_user
from support import HANDLER_PASSWORD, enrol_totp, make_own_keys, new_report, seed_channels


@pytest.fixture
def escrow(settings):
    private_key, public_key = generate_keypair()
    return settings.with_overrides(escrow_public_key=public_key.hex()), private_key


def _admin(session, settings, username="admin"):
    return create_user(session, settings, username=username, display_name=username.title(),
                       password=HANDLER_PASSWORD, roles={"admin"}).user


def _keys_of(session, user):
    return session.scalar(select(func.count()).select_from(ReportKey).where(ReportKey.user_id == user.id))


def test_the_admin_sees_how_many_cases_only_this_handler_holds(db_session, escrow):
    settings, _ = escrow
    world = seed_channels(db_session, settings)
    anna, bjorn = world["handlers"]["anna"], world["handlers"]["bjorn"]
    new_report(db_session, settings)  # both hold it
    new_report(db_session, settings, exclude={bjorn.id})  # anna alone, escrow can open it
    new_report(db_session, settings.with_overrides(escrow_public_key=""), exclude={bjorn.id})  # anna alone
    assert administration.sole_holder_cases(db_session, anna) == administration.SoleHolder(2, 1)
    assert administration.sole_holder_cases(db_session, bjorn) == administration.SoleHolder(0, 0)
    # A colleague already switched off does not count as another holder.
    bjorn.active = False
    db_session.flush()
    assert administration.sole_holder_cases(db_session, anna).cases == 3


def test_deactivation_destroys_keys_grants_and_sessions(db_session, settings, client):
    world = seed_channels(db_session, settings)
    anna, bjorn = world["handlers"]["anna"], world["handlers"]["bjorn"]
    admin = _admin(db_session, settings)
    report = new_report(db_session, settings)
    db_session.add(KeyGrant(report_id=new_report(db_session, settings, category="rules").report_id,
                            user_id=anna.id))
    db_session.commit()
    secret = enrol_totp(db_session, settings, anna)
    from support import staff_login

    assert staff_login(client, db_session, anna, secret).status_code == 302
    assert db_session.scalar(select(func.count()).select_from(ServerSession)
                             .where(ServerSession.user_id == anna.id)) == 1
    assert _keys_of(db_session, anna) >= 1
    destroyed = administration.deactivate(db_session, admin, anna)
    db_session.commit()
    assert destroyed >= 1 and _keys_of(db_session, anna) == 0 and _keys_of(db_session, bjorn) >= 1
    assert db_session.scalar(select(func.count()).select_from(KeyGrant).where(KeyGrant.user_id == anna.id)) == 0
    assert db_session.scalar(select(func.count()).select_from(ServerSession)
                             .where(ServerSession.user_id == anna.id)) == 0
    # The browser that was signed in is signed out.
    page = client.get("/handler/")
    assert page.status_code == 302 and "/handler/login" in page.headers["Location"]
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "user.deactivate")).one()
    assert event.actor_user_id == admin.id and event.target_id == anna.id
    assert report.receipt not in event.detail


def test_a_case_only_the_deactivated_held_opens_for_a_newcomer_after_an_escrow_grant(db_session, escrow):
    settings, escrow_private_key = escrow
    world = seed_channels(db_session, settings)
    anna, bjorn = world["handlers"]["anna"], world["handlers"]["bjorn"]
    admin = _admin(db_session, settings)
    only_anna = new_report(db_session, settings, exclude={bjorn.id})
    assert administration.sole_holder_cases(db_session, anna).cases == 1
    administration.deactivate(db_session, admin, anna)
    erik = create_user(db_session, settings, username="erik", display_name="Erik", password=HANDLER_PASSWORD,
                       roles={"handler"}).user
    assert add_member(db_session, world["improvement"], erik, actor_user_id=admin.id) >= 1
    db_session.commit()
    enrol_totp(db_session, settings, erik)
    erik_key = make_own_keys(db_session, settings, erik)
    with pytest.raises(NoKey):
        open_for_handler(db_session, erik, erik_key, only_anna.report_id)
    granted, _ = fulfil_with_escrow(db_session, settings, escrow_private_key)
    db_session.commit()
    assert granted >= 1
    case = open_for_handler(db_session, erik, erik_key, only_anna.report_id)
    assert dict(answers(case.report, case.dek))["today"] == "Three systems"
    # Anna, switched off, gets nothing from the escrow grant.
    assert _keys_of(db_session, anna) == 0


def test_taking_the_handler_role_away_destroys_the_case_keys(db_session, settings):
    world = seed_channels(db_session, settings)
    anna = world["handlers"]["anna"]
    admin = _admin(db_session, settings)
    new_report(db_session, settings)
    administration.set_roles(db_session, admin, anna, {"viewer"})
    db_session.commit()
    assert anna.roles == ("viewer",) and _keys_of(db_session, anna) == 0
    # Giving it back gives no keys: they come from a holder or the escrow key.
    administration.set_roles(db_session, admin, anna, {"handler", "viewer"})
    assert _keys_of(db_session, anna) == 0
    with pytest.raises(ValueError):
        administration.set_roles(db_session, admin, anna, set())
    with pytest.raises(ValueError):
        administration.set_roles(db_session, admin, anna, {"owner"})


def test_the_last_active_admin_cannot_be_removed(db_session, settings):
    admin = _admin(db_session, settings)
    with pytest.raises(administration.LastAdmin):
        administration.deactivate(db_session, admin, admin)
    with pytest.raises(administration.LastAdmin):
        administration.set_roles(db_session, admin, admin, {"viewer"})
    other = _admin(db_session, settings, "second")
    administration.deactivate(db_session, admin, other)
    with pytest.raises(administration.LastAdmin):
        administration.set_roles(db_session, admin, admin, {"handler"})
    assert db_session.get(User, admin.id).is_admin


def test_two_deactivations_at_once_keep_a_key_to_the_case_they_shared(app, db_session, settings):
    """Second review, on PostgreSQL: deactivating Anna and Bjorn at the same
    moment, each counted the other as the case's remaining holder, and the
    case was lost. The second change now waits for the first."""
    import threading

    from portal.web import db as web_db

    seeded = seed_channels(db_session, settings)
    admin = _admin(db_session, settings)
    report_id = new_report(db_session, settings).report_id  # Anna and Bjorn hold it, no escrow
    ids = {name: seeded["handlers"][name].id for name in ("anna", "bjorn")}
    admin_id = admin.id
    db_session.commit()
    db_session.close()
    first_done, errors = threading.Event(), []

    def deactivate(name, hold):
        try:
            with app.app_context(), web_db.unit_of_work() as session:
                administration.deactivate(session, session.get(User, admin_id), session.get(User, ids[name]))
                if hold:
                    first_done.set()  # changed, not yet committed
                    threading.Event().wait(0.5)
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)
            first_done.set()

    first = threading.Thread(target=deactivate, args=("anna", True))
    first.start()
    first_done.wait(10)
    second = threading.Thread(target=deactivate, args=("bjorn", False))
    second.start()
    first.join()
    second.join()
    assert errors == []
    db_session.expire_all()
    holders = set(db_session.scalars(select(ReportKey.user_id).where(ReportKey.report_id == report_id)))
    assert holders == {ids["bjorn"]}  # the later one kept the last key
