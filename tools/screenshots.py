"""Screenshots of pages as users see them, for judging a page before calling
it done: each path at 390 px and 1280 px wide, in Swedish and English.

    .venv/bin/python tools/screenshots.py --out /tmp/shots [--user anna] \
        [--prepare access-request] PATH [PATH ...]

A fresh portal with the demo data runs in this process (SQLite in a temporary
folder); `--user` signs in as a demo staff member first (TOTP enrolled
directly). `--prepare` sets up a state a page needs (see PREPARATIONS). A
path may name a staff account as `{user:anna}` a demo case as `{case}` (the newest case of the user's
channels) and the first channel by name as `{channel}`. Needs Debian's chromium and the test extras (playwright).
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from playwright.sync_api import sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from crypto import totp  # noqa: E402
from portal import create_app  # noqa: E402
from portal.cli.demo import DEMO_PASSWORD, seed_demo  # noqa: E402
from portal.models.base import Base  # noqa: E402
from portal.web.db import make_engine  # noqa: E402
from portal.models import Channel, Membership, Message, Report, ReportKey, User  # noqa: E402
from portal.reports import grants  # noqa: E402
from portal.staff.accounts import create_user  # noqa: E402
from support import enrol_totp, make_settings  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
WIDTHS = (390, 1280)
LANGUAGES = ("sv", "en")


def _access_request(session, settings, user) -> None:
    """A new colleague, Erik, added to the user's channels (every channel for
    a user without any): his key signed by nobody yet, so the user is asked
    for his case keys and the admin dashboard lists him."""
    erik = create_user(session, settings, username="erik", display_name="Erik Nyman", password=DEMO_PASSWORD,
                       roles={"handler"}).user
    channel_ids = session.scalars(select(Membership.channel_id).where(Membership.user_id == user.id)).all() \
        or session.scalars(select(Channel.id)).all()
    for channel_id in channel_ids:
        grants.add_member(session, session.get(Channel, channel_id), erik, actor_user_id=user.id)
    session.commit()
    enrol_totp(session, settings, erik, DEMO_PASSWORD, anchored=False)


def _broken_dialogue(session, settings, user) -> str | None:
    """A database writer deletes the first message of a case the user holds;
    `{case}` then names that case."""
    message = session.scalars(select(Message).join(ReportKey, ReportKey.report_id == Message.report_id)
                              .where(ReportKey.user_id == user.id).order_by(Message.seq)).first()
    if message is None:
        return None
    session.delete(message)
    session.commit()
    return message.report_id


def _overdue_capped(session, settings, user) -> None:
    """The overdue filter past the cap of its count (1000 cases, 20 pages in
    a real inbox), lowered to 20 cases in pages of 10 here so that the
    demo's overdue cases pass it."""
    from portal.reports import inbox

    inbox.PAGE_SIZE, inbox.CASES_COUNTED_UP_TO = 10, 20


PREPARATIONS = {"access-request": _access_request, "broken-dialogue": _broken_dialogue,
                "overdue-capped": _overdue_capped}


def _newest_case(session, user) -> str | None:
    return session.scalar(select(Report.id).join(ReportKey, ReportKey.report_id == Report.id)
                          .where(ReportKey.user_id == user.id).order_by(Report.received_on.desc(), Report.id).limit(1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--user", help="demo staff member to sign in as (anna, carin, admin, ledning, ...)")
    parser.add_argument("--reporter", choices=("obstacle", "misconduct"),
                        help="open a demo case of this track with its receipt first (instead of --user)")
    parser.add_argument("--prepare", choices=sorted(PREPARATIONS), action="append", default=[])
    parser.add_argument("--first-sign-in", action="store_true",
                        help="--user has not set up two-step sign-in: sign in with the password only")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/shots.sqlite3"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        app = create_app(make_settings(Path(folder), url))
        with app.app_context():
            from portal.web.db import unit_of_work

            with unit_of_work() as session:
                settings = app.config["TILLIT"]
                _demo_anchor(settings)
                printed = []
                seed_demo(session, settings, printed.append)
        receipts = {line.split()[0]: line.split()[-1] for line in printed if line.startswith("  ")
                    and line.split()[0] in ("obstacle", "misconduct")}
        session = app.extensions["tillit.db"].sessionmaker()
        settings = app.config["TILLIT"]
        secret = case = None
        if args.user:
            user = session.scalar(select(User).where(User.username == args.user))
            secret = None if args.first_sign_in else enrol_totp(session, settings, user, DEMO_PASSWORD)
            case = _newest_case(session, user)
            for name in args.prepare:
                case = PREPARATIONS[name](session, settings, user) or case
        people = dict(session.execute(select(User.username, User.id)).all())
        first_channel = session.scalar(select(Channel.id).order_by(Channel.name)) or ""
        session.close()

        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
            for attempt, language in enumerate(LANGUAGES):
                context = browser.new_context(locale=language, extra_http_headers={"Accept-Language": language})
                page = context.new_page()
                if args.user:
                    _sign_in(page, base, args.user, secret, attempt)
                elif args.reporter:
                    page.goto(base + "/follow-up")
                    page.fill("#receipt", receipts[args.reporter])
                    page.click("button.primary")
                for path in args.paths:
                    page.goto(base + re.sub(r"\{user:(\w+)\}", lambda m: people.get(m.group(1), ""),
                                            path.replace("{case}", case or "").replace("{channel}", first_channel)))
                    for width in WIDTHS:
                        page.set_viewport_size({"width": width, "height": 900})
                        named = (path.strip("/").replace("/", "_").replace("{case}", "case")
                                 .replace("{channel}", "channel"))
                        name = re.sub(r"[{}:]", "", named) or "home"
                        target = args.out / f"{name}-{language}-{width}.png"
                        page.screenshot(path=str(target), full_page=True)
                        print(target)
                context.close()
            browser.close()
        server.shutdown()
    return 0


def _demo_anchor(settings) -> None:
    """The demo signs its handlers' keys with the anchor key in instance/;
    here that is the test anchor the settings pin."""
    from portal.cli.demo import DEV_ANCHOR_FILE
    from support import TEST_ANCHOR_PRIVATE

    settings.instance_path.mkdir(parents=True, exist_ok=True)
    (settings.instance_path / DEV_ANCHOR_FILE).write_text(TEST_ANCHOR_PRIVATE.hex())


def _sign_in(page, base: str, username: str, secret: bytes, attempt: int) -> None:
    page.goto(base + "/handler/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    if secret is not None:  # else the first sign-in leads to the enrolment page
        page.fill("#code", totp.code_for_step(secret, totp.step_at(time.time()) + attempt))  # a step not used yet
    page.click("button.primary")


if __name__ == "__main__":
    sys.exit(main())
