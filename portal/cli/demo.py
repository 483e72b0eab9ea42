"""`portal demo`: two channels, staff, cases in every state and published
stories, in Swedish and English, seeded once through the real services."""
from __future__ import annotations

import datetime as dt

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import DEV_ANCHOR_FILE, Settings
from crypto import anchor, keys

from ..domain.quarters import quarter_of
from ..domain.sanitize import clean_story_html
from ..domain.taxonomy import (
    AUTHOR_HANDLER,
    AUTHOR_REPORTER,
    MISCONDUCT,
    OBSTACLE,
    OUTCOME_REMOVED,
    STATUS_ACKNOWLEDGED,
    STATUS_CLOSED,
    STATUS_IN_PROGRESS,
)
from ..models import Channel, Membership, PublishedSummary, Report, RoutingRule, Setting, Unit
from ..models.base import today
from ..models.stats import SUMMARY_APPROVED
from ..reports import access, dialogue, stories, submission, workflow
from ..staff.accounts import create_user
from ..staff.credentials import replace_creator_key_pair, set_password, unlock_password
from ..trust import statements
from ..web import current_settings, db
from . import portal_cli
from .demo_history import seed_history
from .trust import VALID_DAYS

DEMO_MARKER = "demo_seeded"
DEMO_PASSWORD = "tillit-demo-password"  # ASCII: typed on any keyboard

STAFF = [
    # username, name, roles, channel key
    ("anna", "Anna Lind", {"handler"}, "improvement"),
    ("bjorn", "Björn Ek", {"handler"}, "improvement"),
    ("carin", "Carin Berg", {"handler"}, "whistleblowing"),
    ("david", "David Holm", {"handler"}, "whistleblowing"),
    ("admin", "Eva Admin", {"admin"}, None),
    ("ledning", "Fredrik Ledning", {"viewer"}, None),
]

UNITS = ["Socialtjänsten", "Skolförvaltningen", "Stadsbyggnad", "IT-avdelningen", "Ekonomi"]

# (track, category, chain level, days ago, status path, outcome, answers, dialogue)
CASES = [
    (OBSTACLE, "reporting_burden", "management", 2, [], None,
     {"today": "Varje vecka fyller vi i samma uppgifter i tre olika uppföljningssystem.",
      "change": "Ett system räcker; de andra kan läsa därifrån."}, []),
    (OBSTACLE, "unnecessary_control", "staff_functions", 10, [], None,
     {"today": "Every purchase over 500 SEK needs three signatures, even for printer paper.",
      "change": "Let teams decide on small purchases within their budget."}, []),
    (OBSTACLE, "it_systems", "own_unit", 20, [STATUS_ACKNOWLEDGED], None,
     {"today": "Journalsystemet loggar ut efter fem minuter, mitt i samtal med brukare.",
      "change": "Längre tidsgräns på avdelningens datorer."},
     [(AUTHOR_HANDLER, "Tack! Gäller det alla datorer eller bara de i mottagningen?"),
      (AUTHOR_REPORTER, "Främst mottagningen, men även i personalrummet.")]),
    (OBSTACLE, "conflicting_rules", "laws_regulations", 120, [STATUS_ACKNOWLEDGED, STATUS_IN_PROGRESS], None,
     {"today": "Two guidelines give different deadlines for the same decision.",
      "change": "One guideline, agreed with legal."},
     [(AUTHOR_HANDLER, "We have asked legal to compare both guidelines and will come back.")]),
    (OBSTACLE, "administrative_burden", "management", 60,
     [STATUS_ACKNOWLEDGED, STATUS_IN_PROGRESS, STATUS_CLOSED], "removed",
     {"today": "Vi skriver en veckorapport som ingen läser.",
      "change": "Ta bort veckorapporten."},
     [(AUTHOR_HANDLER, "Veckorapporten är borttagen från och med nästa månad. Tack för tipset!")]),
    (OBSTACLE, "missing_support", "staff_functions", 45,
     [STATUS_ACKNOWLEDGED, STATUS_CLOSED], "explained",
     {"today": "Nobody answers the HR phone line before ten.",
      "change": "Open the line at eight."},
     [(AUTHOR_HANDLER, "The line is staffed from eight since March; the old hours were on the intranet by mistake.")]),
    (OBSTACLE, "reporting_burden", "supervisory_authority", 90,
     [STATUS_ACKNOWLEDGED, STATUS_CLOSED], "referred",
     {"today": "Tillsynsmyndigheten kräver samma statistik två gånger per år i olika format.",
      "change": "Ett format."}, []),
    (MISCONDUCT, "fraud", None, 3, [], None,
     {"what": "Invoices from a supplier seem to be paid twice.", "when": "2026-09",
      "who": "The supplier's account manager and someone in accounts payable."}, []),
    (MISCONDUCT, "safety_environment", None, 30, [STATUS_ACKNOWLEDGED, STATUS_IN_PROGRESS], None,
     {"what": "Kemikalier förvaras olåst i ett förråd där elever passerar.", "when": "2026-10",
      "who": "Ansvarig för förrådet."},
     [(AUTHOR_REPORTER, "Jag skulle vilja träffas för att berätta mer."),
      (AUTHOR_HANDLER, "Gärna. Vi föreslår ett möte utanför arbetsplatsen; svara med några tider som passar.")]),
    (MISCONDUCT, "harassment", None, 150, [STATUS_ACKNOWLEDGED, STATUS_CLOSED], "confirmed",
     {"what": "A manager repeatedly humiliates a colleague in meetings.", "when": "2026-05",
      "who": "A unit manager."}, []),
    (MISCONDUCT, "corruption", None, 200, [STATUS_ACKNOWLEDGED, STATUS_CLOSED], "unfounded",
     {"what": "En upphandling verkar ha gynnat en bekants företag.", "when": "2026-03",
      "who": "Okänt."}, []),
]

STORIES = [
    ("sv", "administrative_burden", "management", 180, "Veckorapporten som ingen läste är borttagen",
     "<p>Medarbetare skrev varje vecka en rapport som ingen använde. Nu är den borttagen.</p>"),
    ("en", "administrative_burden", "management", 180, "The weekly report nobody read is gone",
     "<p>Staff wrote a weekly report that nobody used. It has been <strong>removed</strong>.</p>"),
    ("sv", "unnecessary_control", "staff_functions", 60, "Färre underskrifter för små inköp",
     "<p>Inköp under 2 000 kronor beslutas nu av arbetslaget självt.</p>"),
    ("en", "unnecessary_control", "staff_functions", 60, "Fewer signatures for small purchases",
     "<p>Purchases under 2,000 SEK are now decided by the team itself.</p>"),
]


@portal_cli.command("demo")
def demo_command() -> None:
    """Seed realistic demo data once (channels, staff, cases, stories)."""
    with db.unit_of_work() as session:
        seed_demo(session, current_settings(), click.echo)


def seed_demo(session: Session, settings: Settings, echo) -> None:
    if session.get(Setting, DEMO_MARKER):
        echo("Demo data is already there.")
        _print_logins(echo)
        return
    channels = {
        "improvement": Channel(name="Förbättringsteamet", name_en="The improvement team", track=OBSTACLE,
                               description="Två medarbetare från verksamhetsutvecklingen som tar hindren "
                                           "vidare till den som kan ta bort dem.",
                               description_en="Two colleagues from business development who take obstacles "
                                              "to whoever can remove them."),
        "whistleblowing": Channel(name="Visselblåsarfunktionen", name_en="The whistleblowing function",
                                  track=MISCONDUCT,
                                  description="Särskilt utsedda handläggare som utreder under sekretess.",
                                  description_en="Designated handlers who investigate under secrecy."),
    }
    session.add_all(channels.values())
    session.add_all(Unit(name=name) for name in UNITS)
    session.flush()
    session.add(RoutingRule(track=OBSTACLE, channel_id=channels["improvement"].id))
    session.add(RoutingRule(track=MISCONDUCT, channel_id=channels["whistleblowing"].id))

    users = {}
    for username, name, roles, channel_key in STAFF:
        users[username] = create_user(session, settings, username=username, display_name=name,
                                      password=DEMO_PASSWORD, roles=roles,
                                      email=f"{username}@example.org").user
        if channel_key:
            session.add(Membership(channel_id=channels[channel_key].id, user_id=users[username].id))
    session.flush()
    anchored = ready_handlers(session, settings, [users[u] for u, _n, roles, c in STAFF if c], DEMO_PASSWORD)

    receipts = []
    for track, category, chain, days_ago, path, outcome, answers, messages in CASES if anchored else ():
        received = today() - dt.timedelta(days=days_ago)
        submitted = submission.submit(session, settings, submission.NewReport(
            track=track, category=category, chain_level=chain, answers=answers,
            time_lost="1to3" if track == OBSTACLE else None,
            publish_consent=track == OBSTACLE,
        ), received_on=received)
        receipts.append((track, category, submitted.receipt))
        report = session.get(Report, submitted.report_id)
        handler = users["anna"] if track == OBSTACLE else users["carin"]
        step_day = received
        for status in path:
            step_day = min(step_day + dt.timedelta(days=3), today())
            workflow.transition(session, report, submitted.data_key, status, actor_user_id=handler.id, on=step_day,
                                outcome=outcome if status == STATUS_CLOSED else None)
        if outcome == OUTCOME_REMOVED:
            report.hours_saved_per_year = 40
        if messages:
            dek = access.open_with_receipt(session, settings, submitted.receipt).dek
            for author, body in messages:
                dialogue.post_message(session, report, dek, author=author, body=body,
                                      author_user_id=handler.id if author == AUTHOR_HANDLER else None,
                                      sent_on=step_day)

    if anchored:
        _draft_a_story(session, users["anna"])
        unit_ids = list(session.scalars(select(Unit.id)))
        handler_for = {OBSTACLE: users["anna"].id, MISCONDUCT: users["carin"].id}
        history = seed_history(session, settings, unit_ids, handler_for, today())
        echo(f"Demo history: {history} earlier cases over two years, for the insights pages.")
    for language, category, chain, days_ago, title, body in STORIES:
        published = today() - dt.timedelta(days=days_ago)
        session.add(PublishedSummary(
            language=language, category=category, chain_level=chain, quarter=quarter_of(published),
            title=title, body_html=clean_story_html(body),
            status=SUMMARY_APPROVED, written_by=users["anna"].id, approved_by=users["bjorn"].id,
            published_on=published,
        ))
    session.add(Setting(key=DEMO_MARKER, value="1"))
    session.flush()
    echo("Demo data created.")
    if not anchored:
        echo("The anchor's private key is not in instance/ (PORTAL_ANCHOR_PUBLIC_KEYS is set), so no demo case was")
        echo("made: sign the demo handlers' keys with `flask --app wsgi portal sign-recipients --anchor-key-file")
        echo("FILE`; then reports can be sent.")
    _print_logins(echo)
    if receipts:
        echo("Demo receipts (shown this once, like real receipts):")
    for track, category, text in receipts:
        echo(f"  {track:<10} {category:<22} {text}")


def _draft_a_story(session: Session, author) -> None:
    """A story waiting for a second person's approval (the demo's Björn)."""
    report = session.scalars(select(Report).where(Report.track == OBSTACLE, Report.outcome == OUTCOME_REMOVED)
                             .order_by(Report.received_on)).first()
    if report is None:
        return
    report.publish_consent = True
    stories.draft_story(session, author, report, stories.StoryText(
        "Ett formulär i stället för tre", "<p>Tre blanketter för samma sak har blivit <strong>en</strong>.</p>",
        "sv"))


def ready_handlers(session: Session, settings: Settings, handlers, password: str) -> bool:
    """Handlers as after their first sign-in: a key pair of their own (under
    `password`, here the demo's or a benchmark's, which everybody knows
    anyway), signed by the development anchor in instance/ when there is
    one. Returns whether it was. For demo data and bench/ only."""
    for user in handlers:
        creator_key = unlock_password(settings, user, password)
        own_key = keys.generate_keypair()[0]
        replace_creator_key_pair(session, user, creator_key, own_key)
        set_password(session, settings, user, own_key, password)
        _, user.recovery_wrapped_private_key = keys.new_recovery_wrap(own_key, user_id=user.id)
    anchor_file = settings.instance_path / DEV_ANCHOR_FILE
    private_key = bytes.fromhex(anchor_file.read_text().strip()) if anchor_file.exists() else None
    if private_key is None or anchor.public_key_for(private_key) not in settings.anchor_public_keys:
        return False
    for user in handlers:
        for channel_id in session.scalars(select(Membership.channel_id).where(Membership.user_id == user.id)):
            statement = statements.statement_for(user, channel_id, not_before=today(),
                                                 not_after=today() + dt.timedelta(days=VALID_DAYS))
            statements.record(session, settings, user, session.get(Channel, channel_id), statement,
                              anchor.sign_statement(private_key, statement))
    return True


def _print_logins(echo) -> None:
    echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for username, name, roles, channel_key in STAFF:
        echo(f"  {username:<8} {name:<16} {', '.join(sorted(roles))}"
             + (f" – {channel_key}" if channel_key else ""))
    echo("Staff sign in at /handler/login. The first time, leave the code empty: the portal then shows a")
    echo("QR code for an authenticator app (and the secret, for tools such as oathtool) and a recovery key.")
    echo("The demo handlers' key pairs are ready and signed by the development anchor; a real account's")
    echo("first sign-in also asks for a password of one's own and makes a key pair the anchor then signs.")
