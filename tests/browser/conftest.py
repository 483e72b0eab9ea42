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
