"""Setting up the organisation (organisation/setup.py, thresholds.py):
channels, units and routing rules with their checks and audit entries, and
statistics thresholds an admin may raise but never lower below the
operator's configuration."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.domain.taxonomy import CATEGORIES, CHAIN_LEVELS
from portal.insights import names
from portal.insights import tables
from portal.models import AuditEvent, Report, RoutingRule, Setting
from portal.organisation import setup, thresholds
from portal.organisation.channels import active_units, route
from portal.staff.accounts import create_user
from support import HANDLER_PASSWORD, new_report, seed_channels


@pytest.fixture
def admin(db_session, settings):
    return create_user(db_session, settings, username="admin", display_name="Admin", password=HANDLER_PASSWORD,
                       roles={"admin"}).user


def text(name="Ekonomi", months=24):
    return setup.ChannelText(name, "Finance", "Ekonomiärenden", "Finance cases", months)


def test_channels_are_checked_and_audited(db_session, admin):
    channel = setup.create_channel(db_session, admin, "misconduct", text())
    assert (channel.name, channel.name_en, channel.retention_months) == ("Ekonomi", "Finance", 24)
    with pytest.raises(setup.SetupRefused) as refused:
        setup.create_channel(db_session, admin, "obstacle", text(name=" ekonomi "))
    assert refused.value.code == setup.NAME_TAKEN
    with pytest.raises(setup.SetupRefused) as refused:
        setup.update_channel(db_session, admin, channel, text(months=25))  # misconduct: 24 at most
    assert refused.value.code == setup.RETENTION_TOO_LONG
    with pytest.raises(setup.SetupRefused):
        setup.create_channel(db_session, admin, "gossip", text(name="Other"))
    setup.update_channel(db_session, admin, channel, text(months=12))
    assert channel.retention_months == 12
    actions = [e.action for e in db_session.scalars(select(AuditEvent).where(AuditEvent.actor_user_id == admin.id))]
    assert actions == ["channel.create", "channel.update"]


def test_routing_rules_send_every_kind_of_report_where_the_table_says(db_session, settings, admin):
    world = seed_channels(db_session, settings)
    it = setup.create_channel(db_session, admin, "obstacle", text(name="IT"))
    setup.add_rule(db_session, admin, "obstacle", "it_systems", None, it)
    with pytest.raises(setup.SetupRefused) as refused:
        setup.add_rule(db_session, admin, "obstacle", "it_systems", None, it)
    assert refused.value.code == setup.RULE_EXISTS
    for wrong in (("misconduct", None, None, it), ("obstacle", "fraud", None, it),
                  ("obstacle", None, "moon", it)):
        with pytest.raises(setup.SetupRefused):
            setup.add_rule(db_session, admin, *wrong)
    table = setup.routing_table(db_session, "obstacle")
    assert set(table) == {(c, lv) for c in CATEGORIES["obstacle"] for lv in (None,) + CHAIN_LEVELS}
    for (category, level), channel_id in table.items():
        assert channel_id == (it.id if category == "it_systems" else world["improvement"].id)
        assert route(db_session, "obstacle", category, level) == channel_id  # what a report really does
    # Without the default rule, other kinds go nowhere, and the table says so.
    rule = db_session.scalar(select(RoutingRule).where(RoutingRule.track == "obstacle",
                                                       RoutingRule.category.is_(None)))
    setup.delete_rule(db_session, admin, rule)
    table = setup.routing_table(db_session, "obstacle")
    assert table[("it_systems", None)] == it.id and table[("reporting_burden", None)] is None


def test_a_retired_unit_keeps_its_cases_named_and_counted(db_session, settings, admin):
    seed_channels(db_session, settings)
    unit = setup.add_unit(db_session, admin, "Lönekontoret")
    with pytest.raises(setup.SetupRefused):
        setup.add_unit(db_session, admin, "lönekontoret")
    submitted = new_report(db_session, settings, unit_id=unit.id)
    report = db_session.get(Report, submitted.report_id)
    quarter = tables.quarters.quarter_of(report.received_on)
    before = tables.count_quarter(db_session, quarter, "unit", frozenset()).partitions
    setup.set_unit_active(db_session, admin, unit, False)
    setup.rename_unit(db_session, admin, unit, "Lön och pension")
    db_session.commit()
    assert unit not in active_units(db_session)
    assert tables.count_quarter(db_session, quarter, "unit", frozenset()).partitions == before
    assert names.units(db_session)[unit.id] == "Lön och pension"


def test_thresholds_may_rise_but_never_fall_below_the_configuration(db_session, settings, admin):
    floor = thresholds.current(db_session, settings)
    assert floor == thresholds.Thresholds(settings.k_anonymity, settings.k_anonymity_misconduct)
    thresholds.save(db_session, settings, admin, thresholds.Thresholds(floor.k + 3, floor.k_misconduct))
    assert thresholds.applied(db_session, settings).k_anonymity == floor.k + 3
    for lower in (thresholds.Thresholds(floor.k - 1, floor.k_misconduct),
                  thresholds.Thresholds(floor.k, floor.k_misconduct - 1),
                  thresholds.Thresholds(thresholds.MAX_K + 1, floor.k_misconduct)):
        with pytest.raises(ValueError):
            thresholds.save(db_session, settings, admin, lower)
    # A database writer's lower value is ignored.
    db_session.get(Setting, thresholds.K_KEY).value = "1"
    db_session.flush()
    assert thresholds.current(db_session, settings).k == settings.k_anonymity
    db_session.get(Setting, thresholds.K_KEY).value = "not a number"
    assert thresholds.current(db_session, settings).k == settings.k_anonymity
    assert db_session.scalar(select(AuditEvent.action).where(AuditEvent.action == "settings.thresholds"))


def test_the_published_statistics_use_the_raised_threshold(db_session, settings, admin, client):
    assert client.get("/insights/data.json").get_json()["k"] == settings.k_anonymity
    thresholds.save(db_session, settings, admin, thresholds.Thresholds(settings.k_anonymity + 2,
                                                                       settings.k_anonymity_misconduct + 1))
    db_session.commit()
    document = client.get("/insights/data.json").get_json()
    assert (document["k"], document["k_misconduct"]) == (settings.k_anonymity + 2,
                                                          settings.k_anonymity_misconduct + 1)


def test_removing_a_member_stops_new_reports_but_keeps_the_keys_held(db_session, settings, admin):
    from portal.models import Membership, ReportKey
    from portal.organisation.channels import channel_handlers

    world = seed_channels(db_session, settings)
    anna = world["handlers"]["anna"]
    held = new_report(db_session, settings)
    setup.remove_member(db_session, admin, world["improvement"], anna)
    db_session.commit()
    assert db_session.get(Membership, (world["improvement"].id, anna.id)) is None
    assert anna not in channel_handlers(db_session, world["improvement"].id)
    assert db_session.get(ReportKey, (held.report_id, anna.id)) is not None
    later = new_report(db_session, settings)
    assert db_session.get(ReportKey, (later.report_id, anna.id)) is None
    assert db_session.scalar(select(AuditEvent.action).where(AuditEvent.action == "channel.member_removed",
                                                             AuditEvent.actor_user_id == admin.id))
