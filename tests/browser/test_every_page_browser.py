"""Every page of every role, as its users see it: at 390 px and 1280 px, in
Swedish and English. A page fails if it scrolls sideways, if text boxes
overlap, if a message id or an audit code shows through untranslated, or if
English interface words appear on a Swedish page; staff pages are also run
through axe-core (WCAG 2.1 AA)."""
from __future__ import annotations

import re
import time

import pytest

from crypto import totp
from portal.staff.accounts import create_user
from support import HANDLER_PASSWORD, enrol_totp, new_report, seed_channels

pytestmark = pytest.mark.browser

WIDTHS = (390, 1280)
LANGUAGES = ("sv", "en")
# Interface words that only an untranslated Swedish page would show.
ENGLISH_ON_SWEDISH = ("Sign out", "Sign in", "Inbox", "Trends", "My account", "Stay signed in", "There is a problem",
                      "Back to the inbox", "Status and deadlines", "Close the case", "Keep the case open",
                      "Continue", "Audit trail", "Removed obstacles", "Follow up a report", "Case reference",
                      "Stories to review", "hidden")
RAW_TEXT = (re.compile(r"%\(\w+\)[sd]"),
            re.compile(r"\b(?:case|story|auth|user|channel|grant|trust|routing|unit|settings)\.[a-z_]+\b"))

# Text-bearing boxes that must not overlap one another; visually hidden
# text (1 px) and boxes inside one another are left out.
OVERLAPS = """() => {
  const boxes = [...document.querySelectorAll(
      'h1,h2,h3,h4,p,label,button,a,th,td,dt,dd,legend,input,select,textarea,summary,figcaption,caption,li')]
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 2 && r.height > 2
                   && getComputedStyle(e).visibility !== 'hidden'; });
  const found = [];
  for (let i = 0; i < boxes.length; i++) {
    const a = boxes[i].getBoundingClientRect();
    for (let j = i + 1; j < boxes.length; j++) {
      if (boxes[i].contains(boxes[j]) || boxes[j].contains(boxes[i])) continue;
      const b = boxes[j].getBoundingClientRect();
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 3 && h > 3) found.push(boxes[i].outerHTML.slice(0, 80) + ' / ' + boxes[j].outerHTML.slice(0, 80));
    }
  }
  return found.slice(0, 5);
}"""


def _problems(page, lang: str, width: int) -> list[str]:
    problems = []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 1:
        problems.append(f"scrolls sideways by {overflow} px")
    problems += [f"overlap: {pair}" for pair in page.evaluate(OVERLAPS)]
    text = page.locator("body").inner_text()
    problems += [f"raw text {m.group(0)!r}" for pattern in RAW_TEXT for m in [pattern.search(text)] if m]
    if lang == "sv":
        problems += [f"English on a Swedish page: {word!r}" for word in ENGLISH_ON_SWEDISH if word in text]
    return problems


def _walk(browser, base: str, paths: list[str], sign_in=None, axe_violations=None) -> list[str]:
    failures = []
    for attempt, lang in enumerate(LANGUAGES):
        context = browser.new_context(locale=lang, extra_http_headers={"Accept-Language": lang})
        page = context.new_page()
        if sign_in:
            sign_in(page, attempt)
        for path in paths:
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                response = page.goto(base + path)
                if response.status >= 500:
                    failures.append(f"{path} {lang}: status {response.status}")
                failures += [f"{path} {lang} {width}px: {p}" for p in _problems(page, lang, width)]
            if axe_violations is not None:
                def same_session(axe_page, path=path, context=context):
                    axe_page.context.add_cookies(context.cookies())
                    axe_page.goto(base + path)
                found = axe_violations(None, lang, prepare=same_session)
                failures += [f"{path} {lang}: axe {v[0]} {v[2][:2]}" for v in found]
        context.close()
    return failures


@pytest.fixture
def world(live_server):
    """Two channels, a case of each track (one closed with a story drafted),
    an admin and a viewer; everyone with two-step sign-in set up."""
    app = live_server.app
    session = app.extensions["tillit.db"].sessionmaker()
    settings = app.config["TILLIT"]
    seeded = seed_channels(session, settings)
    people = dict(seeded["handlers"])
    people["admin"] = create_user(session, settings, username="admin", display_name="Eva Admin",
                                  password=HANDLER_PASSWORD, roles={"admin"}).user
    people["ledning"] = create_user(session, settings, username="ledning", display_name="Fredrik Ledning",
                                    password=HANDLER_PASSWORD, roles={"viewer"}).user
    session.commit()
    secrets = {name: enrol_totp(session, settings, user) for name, user in people.items()}
    obstacle = new_report(session, settings, publish_consent=True)
    misconduct = new_report(session, settings, track="misconduct", category="fraud")
    session.close()
    return {"secrets": secrets, "obstacle": obstacle, "misconduct": misconduct, "people": people,
            "channel_id": seeded["improvement"].id}


def _admin_pages(app, world) -> list[str]:
    """Every GET page of the admin area, from the URL map, so a new one is checked too."""
    values = {"user_id": world["people"]["anna"].id, "channel_id": world["channel_id"]}
    pages = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin.") and "GET" in rule.methods and not rule.rule.endswith(".csv"):
            url = rule.rule
            for name in rule.arguments:
                url = url.replace(f"<{name}>", values[name])
            pages.append(url)
    return sorted(pages)


def _signer(base: str, username: str, secret: bytes):
    def sign_in(page, attempt: int):
        page.goto(base + "/handler/login")
        page.fill("#username", username)
        page.fill("#password", HANDLER_PASSWORD)
        page.fill("#code", totp.code_for_step(secret, totp.step_at(time.time()) + attempt))
        page.click("button.primary")
    return sign_in


def test_the_public_and_reporter_pages_look_finished(browser, live_server, world):
    base = live_server.url
    paths = ["/", "/report/obstacle", "/report/obstacle?category=it_systems&chain_level=management",
             "/report/misconduct", "/report/misconduct?category=fraud", "/follow-up", "/insights",
             "/handler/login", "/handler/recover", "/privacy"]
    failures = _walk(browser, base, paths)

    def open_case(page, _attempt):
        page.goto(base + "/follow-up")
        page.fill("#receipt", world["obstacle"].receipt)
        page.click("button.primary")
    failures += _walk(browser, base, ["/follow-up/case"], sign_in=open_case)
    assert failures == [], "\n".join(failures)


@pytest.mark.parametrize("who", ["anna", "admin", "ledning"])
def test_the_staff_pages_of_each_role_look_finished_and_pass_axe(browser, live_server, world, axe_violations, who):
    paths = {
        "anna": ["/handler/", f"/handler/case/{world['obstacle'].report_id}", "/handler/stories",
                 "/handler/account", "/insights/trends"],
        "admin": _admin_pages(live_server.app, world) + ["/handler/stories", "/handler/account", "/insights/trends"],
        "ledning": ["/insights/trends", "/handler/account"],
    }[who]
    failures = _walk(browser, live_server.url, paths, sign_in=_signer(live_server.url, who, world["secrets"][who]),
                     axe_violations=axe_violations)
    assert failures == [], "\n".join(failures)
