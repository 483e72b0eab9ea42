"""The `flask portal` commands: init, create-user and demo."""
from sqlalchemy import func, select

from portal import create_app
from portal.web import db
from support import make_settings
from portal.domain.taxonomy import STATUSES
from portal.models import AuditEvent, PublishedSummary, Report, User


def test_init_migrates_and_creates_the_first_admin(tmp_path, empty_database):
    app = create_app(make_settings(tmp_path, empty_database.url))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "init"],
                           input="Admin\nAda Admin\nett långt och bra lösenord\nett långt och bra lösenord\n")
    assert result.exit_code == 0, result.output
    assert "Recovery key" in result.output
    with app.app_context():
        admin = db.session().scalar(select(User).where(User.username == "admin"))
        assert admin.is_admin and not admin.is_handler
        # The recovery key is printed, never stored.
        recovery = result.output.split("offline, it restores access if the password is lost):")[1].split()[0]
        stored = b"".join(v for v in (admin.login_salt, admin.login_verifier, admin.wrapped_private_key,
                                      admin.recovery_wrapped_private_key) if v)
        assert recovery.encode() not in stored
    again = runner.invoke(args=["portal", "init"])
    assert "An admin exists already" in again.output


def test_create_user_enforces_the_password_policy(app, database):
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["portal", "create-user", "--username", "h1", "--name", "H One",
                               "--role", "handler", "--password-stdin"], input="short\n")
    assert weak.exit_code != 0
    assert "at least 12 characters" in weak.output
    ok = runner.invoke(args=["portal", "create-user", "--username", "h1", "--name", "H One",
                             "--role", "handler", "--role", "viewer", "--password-stdin"],
                       input="ett långt och bra lösenord\n")
    assert ok.exit_code == 0, ok.output
    taken = runner.invoke(args=["portal", "create-user", "--username", "H1", "--name", "Other",
                                "--role", "handler", "--password-stdin"], input="ett långt och bra lösenord\n")
    assert taken.exit_code != 0 and "taken" in taken.output
    with app.app_context():
        user = db.session().scalar(select(User).where(User.username == "h1"))
        assert user.roles == ("handler", "viewer")
        assert db.session().scalar(select(func.count()).select_from(AuditEvent)) == 1


def test_demo_seeds_every_state_once(app, database, settings):
    from config import DEV_ANCHOR_FILE
    from support import TEST_ANCHOR_PRIVATE

    # As in development: the anchor's private key under instance/.
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    (settings.instance_path / DEV_ANCHOR_FILE).write_text(TEST_ANCHOR_PRIVATE.hex())
    runner = app.test_cli_runner()
    first = runner.invoke(args=["portal", "demo"])
    assert first.exit_code == 0, first.output
    assert "anna" in first.output and "Demo receipts" in first.output
    second = runner.invoke(args=["portal", "demo"])
    assert "already there" in second.output
    with app.app_context():
        session = db.session()
        statuses = set(session.scalars(select(Report.status)))
        assert statuses == set(STATUSES)
        # The handful of cases above, and two years of history behind them.
        assert session.scalar(select(func.count()).select_from(Report)) > 300
        languages = set(session.scalars(select(PublishedSummary.language)))
        assert languages == {"sv", "en"}


def test_add_member_queues_grants_for_existing_cases(app, db_session, settings):
    from portal.staff.accounts import create_user
    from portal.models import KeyGrant
    from support import HANDLER_PASSWORD, new_report, seed_channels

    seed_channels(db_session, settings)
    new_report(db_session, settings)
    create_user(db_session, settings, username="erik", display_name="Erik", password=HANDLER_PASSWORD,
                roles={"handler"})
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["portal", "add-member", "--username", "erik",
                                                "--channel", "Improvement"])
    assert result.exit_code == 0 and "1 case(s) wait" in result.output
    assert db_session.query(KeyGrant).count() == 1
    missing = app.test_cli_runner().invoke(args=["portal", "add-member", "--username", "nobody",
                                                 "--channel", "Improvement"])
    assert missing.exit_code == 1


def test_escrow_key_grants_waiting_cases_in_a_batch(tmp_path, database):
    from crypto import keys
    from portal.reports.keys import unwrap_for_handler
    from portal.reports.reading import answers as read_answers
    from portal.staff.accounts import create_user
    from portal.reports.grants import add_member
    from portal.models import KeyGrant, ReportKey
    from support import HANDLER_PASSWORD, enrol_totp, new_report, seed_channels

    key_file = tmp_path / "escrow.key"
    plain_app = create_app(make_settings(tmp_path, database.url))
    made = plain_app.test_cli_runner().invoke(args=["portal", "escrow-keygen", "--out", str(key_file)])
    assert made.exit_code == 0, made.output
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    again = plain_app.test_cli_runner().invoke(args=["portal", "escrow-keygen", "--out", str(key_file)])
    assert again.exit_code == 1 and len(key_file.read_text().strip()) == 64
    public_hex = made.output.split("PORTAL_ESCROW_PUBLIC_KEY=")[1].split()[0]

    settings = make_settings(tmp_path, database.url, escrow_public_key=public_hex)
    app = create_app(settings)
    with app.app_context():
        session = db.session()
        world = seed_channels(session, settings)
        before = new_report(session, settings.with_overrides(escrow_public_key=""))  # no escrow wrap
        after = new_report(session, settings)
        erik = create_user(session, settings, username="erik", display_name="Erik", password=HANDLER_PASSWORD,
                           roles={"handler"}).user
        assert add_member(session, world["improvement"], erik) == 2
        session.commit()
        erik_id = erik.id

    runner = app.test_cli_runner()
    wrong = runner.invoke(args=["portal", "grant-pending", "--escrow-key-file", "-"], input="not a key\n")
    assert wrong.exit_code == 1 and "not an escrow private key" in wrong.output
    # Nothing for a handler who has not signed in yet (their key pair is the one made at creation).
    early = runner.invoke(args=["portal", "grant-pending", "--escrow-key-file", str(key_file)])
    assert "Keys granted: 0; still waiting: 2" in early.output
    with app.app_context():
        enrol_totp(db.session(), settings, db.session().get(User, erik_id))
    done = runner.invoke(args=["portal", "grant-pending", "--escrow-key-file", str(key_file)])
    assert done.exit_code == 0, done.output
    assert "Keys granted: 1; still waiting: 1" in done.output
    with app.app_context():
        session = db.session()
        erik = session.get(User, erik_id)
        private_key = keys.unlock_with_password(
            HANDLER_PASSWORD, user_id=erik.id, salt=erik.login_salt, verifier=erik.login_verifier,
            wrapped_private_key=erik.wrapped_private_key, pepper=settings.pepper, params=settings.argon2)
        report = session.get(Report, after.report_id)
        answers = dict(read_answers(report, unwrap_for_handler(session, report, erik, private_key)))
        assert answers["today"] == "Three systems"
        assert session.get(ReportKey, (before.report_id, erik_id)) is None
        assert [g.report_id for g in session.scalars(select(KeyGrant))] == [before.report_id]
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "case.key_granted", AuditEvent.target_id == after.report_id)) == 1


def test_purge_drops_old_form_tokens_only(app, db_session):
    import datetime as dt

    from portal.models import UsedFormToken

    today = dt.date.today()
    db_session.add_all([UsedFormToken(token_hash="a" * 64, used_on=today - dt.timedelta(days=3)),
                        UsedFormToken(token_hash="b" * 64, used_on=today)])
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["portal", "purge"])
    assert result.exit_code == 0 and "Old form tokens removed: 1." in result.output
    db_session.expire_all()
    assert [t.token_hash[0] for t in db_session.scalars(select(UsedFormToken))] == ["b"]


def test_demo_without_the_anchor_key_seeds_no_case_nobody_could_read(app, database):
    result = app.test_cli_runner().invoke(args=["portal", "demo"])
    assert result.exit_code == 0, result.output
    assert "sign-recipients" in result.output
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Report)) == 0
        assert db.session().scalar(select(func.count()).select_from(User)) > 0
