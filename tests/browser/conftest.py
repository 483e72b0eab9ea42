"""Browser harness: Debian's Chromium driven by Playwright against a live server.

Reporter pages are opened with JavaScript disabled, as in Tor Browser at its
safest level. axe-core needs JavaScript to run, so accessibility checks load
the same page in a second, JavaScript-enabled context (the pages have no
scripts of their own, so they render the same).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal import create_app
from support import make_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _require_browser() -> bool:
    return os.environ.get("PORTAL_REQUIRE_BROWSER") == "1"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if _require_browser():
            pytest.fail(message + "; PORTAL_REQUIRE_BROWSER=1 makes browser tests mandatory")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


class LiveServer:
    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def live_server(tmp_path, database):
    app = create_app(make_settings(tmp_path, database.url))
    server = LiveServer(app)
    yield server
    server.stop()
    app.extensions["tillit.db"].engine.dispose()


@pytest.fixture
def nojs_context_factory(browser):
    contexts = []

    def factory(locale: str = "sv-SE"):
        context = browser.new_context(java_script_enabled=False, locale=locale,
                                      extra_http_headers={"Accept-Language": locale})
        contexts.append(context)
        return context

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def axe_violations(browser):
    """Run axe-core (WCAG 2.1 A/AA) on a URL and return its violations."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    contexts = []

    def check(url: str, locale: str = "sv-SE", prepare=None):
        context = browser.new_context(locale=locale, extra_http_headers={"Accept-Language": locale})
        contexts.append(context)
        page = context.new_page()
        if prepare:
            prepare(page)
        else:
            page.goto(url)
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        return [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in results.response["violations"]]

    yield check
    for context in contexts:
        context.close()


# --- Reporter journeys -------------------------------------------------------

class QuickLiveServer(LiveServer):
    """A LiveServer that notices shutdown within 50 ms (serve_forever polls
    every 500 ms by default, which adds up over many short tests)."""

    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def age_reporter_session(self, context, seconds: int) -> None:
        """Move the follow-up session's last activity back by `seconds`, as if
        the reporter had been away: rewrites the signed session cookie."""
        serializer = self.app.session_interface.get_signing_serializer(self.app)
        name = self.app.config["SESSION_COOKIE_NAME"]
        cookie = next(c for c in context.cookies() if c["name"] == name)
        data = serializer.loads(cookie["value"])
        data["reporter"]["seen"] -= seconds
        context.add_cookies([{**cookie, "value": serializer.dumps(data)}])


@pytest.fixture
def live_server_factory(tmp_path, database):
    """Live servers with changed settings (e.g. a small upload limit), seeded
    with seed_channels() unless seeded=False. They share the test's database."""
    servers = []

    def factory(seeded: bool = True, **changes):
        app = create_app(make_settings(tmp_path, database.url, **changes))
        server = QuickLiveServer(app)
        servers.append(server)
        if seeded:
            seed_live_server(server)
        return server

    yield factory
    for server in servers:
        server.stop()
        server.app.extensions["tillit.db"].engine.dispose()


def seed_live_server(server) -> dict:
    """seed_channels() in the database the live server uses."""
    from support import seed_channels

    session = server.app.extensions["tillit.db"].sessionmaker()
    try:
        seeded = seed_channels(session, server.app.config["TILLIT"])
        # Plain values, usable after the session is closed.
        server.handlers = {name: user.id for name, user in seeded["handlers"].items()}
    finally:
        session.close()
    return server.handlers


@pytest.fixture
def seeded_live_server(live_server_factory):
    """A live server whose database has two channels with two handlers each
    (seed_channels(); the handlers' ids are in server.handlers)."""
    return live_server_factory()


class LiveDatabase:
    """Read the database a live server uses (a fresh session for each query)."""

    def __init__(self, server):
        self.server = server

    def scalars(self, statement) -> list:
        session = self.server.app.extensions["tillit.db"].sessionmaker()
        try:
            return session.scalars(statement).all()
        finally:
            session.close()

    def count(self, model) -> int:
        from sqlalchemy import func, select

        return self.scalars(select(func.count()).select_from(model))[0]


@pytest.fixture
def live_db():
    """live_db(server).count(Report), live_db(server).scalars(select(...))."""
    return LiveDatabase

