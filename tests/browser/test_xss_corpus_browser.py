"""Every hostile payload of tests/adversarial/xss_payloads.py (246 of them),
through every text field a reporter, handler or administrator can fill, and
every page that shows them opened in Chromium with JavaScript on and the
Content-Security-Policy bypassed, so that escaping alone must hold: no
dialog opens, no element or attribute the payloads carry appears in the
page, and no request leaves for anywhere but the portal's own pages and
stylesheets.

The printable export of both cases, with a payload as its secrecy mark,
is checked the same way. The payloads are planted through the domain functions the forms call,
after the forms' own checks would have run, so what reaches the templates
is as hostile as anything that could get past a form."""
from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from adversarial.xss_payloads import PAYLOADS, chunks
from portal.attachments.store import AttachmentRejected
from portal.models import Membership, Unit
from portal.models.stats import SUMMARY_APPROVED
from portal.organisation import setup, texts
from portal.reports import access, dialogue, stories, submission, work
from portal.staff.accounts import DisplayNameRefused, UsernameTaken, create_user
from support import HANDLER_PASSWORD, FormClient, anchor_user, enrol_totp, make_own_keys, seed_channels, staff_login

pytestmark = [pytest.mark.browser, pytest.mark.adversarial]

# Whatever the payloads could make appear; the portal's pages have none of
# it except the stylesheet and icon links, the meta tags without http-equiv,
# and its own SVG (the enrolment QR code, the statistics' bar charts).
INJECTED = r"""() => {
  const found = [];
  const ours = el => el.closest('svg.bars, svg.qr') !== null;
  const forbidden = new Set(['script', 'iframe', 'object', 'embed', 'frame', 'frameset', 'base', 'applet', 'img',
      'image', 'video', 'audio', 'source', 'marquee', 'isindex', 'keygen', 'template', 'noscript', 'noembed',
      'noframes', 'xmp', 'plaintext', 'listing', 'math', 'style', 'svg', 'animate', 'set', 'foreignobject',
      'handler', 'param', 'x']);
  for (const el of document.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (forbidden.has(tag) && !ours(el)) found.push('<' + tag + '>');
    if (tag === 'meta' && el.hasAttribute('http-equiv')) found.push('<meta http-equiv>');
    const ownStatic = el.href && new URL(el.href).pathname.startsWith('/static/');
    if (tag === 'link' && !(['stylesheet', 'icon'].includes(el.rel) && ownStatic))
      found.push('<link ' + el.rel + ' ' + el.href + '>');
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.toLowerCase().replace(/[\s\x00-\x1f]/g, '');
      if (name.startsWith('on')) found.push(tag + ' ' + name);
      if (['srcdoc', 'formaction', 'xlink:href', 'background', 'poster', 'srcset', 'contenteditable', 'autofocus']
          .includes(name)) found.push(tag + ' ' + name);
      if (['href', 'src', 'action', 'data'].includes(name) && /^(javascript|data|vbscript):/.test(value))
        found.push(tag + ' ' + name + '=' + value.slice(0, 40));
      if (name === 'style') found.push(tag + ' style=' + value.slice(0, 40));
    }
    if (tag === 'form' && el.getAttribute('action') && !el.getAttribute('action').startsWith('/'))
      found.push('form action ' + el.getAttribute('action'));
  }
  return found;
}"""


def _ours(url: str, origin: str) -> bool:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" == origin


def _cookie(client: FormClient) -> str:
    return client.client.get_cookie("tillit_session").value


class Plant:
    """Puts the corpus into every field, straight into the live server's database."""

    def __init__(self, server):
        self.app = server.app
        self.settings = server.app.config["TILLIT"]
        self.session = server.app.extensions["tillit.db"].sessionmaker()
        self.refused: dict[str, int] = {}
        self.accepted: dict[str, int] = {}

    def count(self, field: str, ok: bool) -> None:
        (self.accepted if ok else self.refused)[field] = (self.accepted if ok else self.refused).get(field, 0) + 1

    def close(self):
        self.session.close()

    def world(self):
        session, settings = self.session, self.settings
        seeded = seed_channels(session, settings)
        self.anna = seeded["handlers"]["anna"]
        self.improvement = seeded["improvement"]
        self.admin = create_user(session, settings, username="admin", display_name="Admin",
                                 password=HANDLER_PASSWORD, roles={"admin"}).user
        session.commit()
        self.secrets = {"anna": enrol_totp(session, settings, self.anna),
                        "admin": enrol_totp(session, settings, self.admin)}
        self.anna_key = make_own_keys(session, settings, self.anna)
        session.add(Membership(channel_id=seeded["whistle"].id, user_id=self.anna.id))  # reads both tracks
        session.flush()
        anchor_user(session, settings, self.anna)
        session.commit()

    def names(self):
        """Units, channels (names, descriptions) and people (display names,
        made handlers of the improvement channel so that the report form and
        both case pages list them)."""
        session, admin = self.session, self.admin
        for number, payload in enumerate(PAYLOADS):
            try:
                setup.add_unit(session, admin, payload[:120])
                session.commit()
                self.count("unit name", True)
            except setup.SetupRefused:
                session.rollback()
                self.count("unit name", False)
        descriptions = chunks(PAYLOADS, 500)
        for number in range(0, len(PAYLOADS), 2):
            text = setup.ChannelText(name=PAYLOADS[number][:120], name_en=PAYLOADS[number + 1][:120]
                                     if number + 1 < len(PAYLOADS) else "",
                                     description=descriptions[number // 2 % len(descriptions)],
                                     description_en=descriptions[(number // 2 + 1) % len(descriptions)],
                                     retention_months=12)
            try:
                self.channel = setup.create_channel(session, admin, "obstacle", text)
                session.commit()
                self.count("channel name", True)
            except setup.SetupRefused:
                session.rollback()
                self.count("channel name", False)
        for number, payload in enumerate(PAYLOADS):
            try:
                user = create_user(session, self.settings, username=f"payload{number}", display_name=payload[:120],
                                   password=HANDLER_PASSWORD, roles={"handler"}).user
                session.add(Membership(channel_id=self.improvement.id, user_id=user.id))
                session.flush()
                make_own_keys(session, self.settings, user)
                anchor_user(session, self.settings, user)
                session.commit()
                self.count("display name", True)
            except (DisplayNameRefused, UsernameTaken):
                session.rollback()
                self.count("display name", False)
        self.unit_id = session.scalar(select(Unit.id).where(Unit.name != "Unit A").limit(1))

    def cases(self):
        """Answers of both tracks, the dialogue both ways with files, notes."""
        session, settings = self.session, self.settings
        everything = "\n".join(PAYLOADS)
        self.obstacle = submission.submit(session, settings, submission.NewReport(
            track="obstacle", category="it_systems", chain_level="management", unit_id=self.unit_id,
            time_lost="1to3", publish_consent=True, answers={"today": everything, "change": everything}))
        self.misconduct = submission.submit(session, settings, submission.NewReport(
            track="misconduct", category="fraud",
            answers={field: everything for field in ("what", "when", "who", "evidence", "contact")}))
        session.commit()
        self.count("answers", True)
        case = access.open_for_handler(session, self.anna, self.anna_key, self.obstacle.report_id)
        reporter_case = access.open_with_receipt(session, settings, self.obstacle.receipt)
        for payload in PAYLOADS:
            for author, data in (("reporter", b"evidence\n"), ("handler", b"reply file\n")):
                files = [FileStorage(io.BytesIO(data), filename=payload + ".txt")]
                try:
                    self._message(case, reporter_case, author, payload, files)
                    self.count("file name", True)
                except AttachmentRejected:  # "...//.txt" names no file but a hidden one: refused by type
                    self.session.rollback()
                    self.count("file name", False)
                    self._message(case, reporter_case, author, payload, [])
                self.count(f"{author} message", True)
            work.add_note(session, self.anna, case, payload)
            self.count("note", True)
            session.commit()

    def stories(self):
        """A closed case per payload with its story (title, body), every other one
        published. Before names(): each submission wraps for every handler."""
        session, settings = self.session, self.settings
        bodies = chunks(PAYLOADS, 2000)
        for number, payload in enumerate(PAYLOADS):
            closed = submission.submit(session, settings, submission.NewReport(
                track="obstacle", category="it_systems", chain_level="management", publish_consent=True,
                answers={"today": "x", "change": "y"}))
            closed_case = access.open_for_handler(session, self.anna, self.anna_key, closed.report_id)
            work.change_status(session, self.anna, closed_case, "acknowledged")
            story = work.close(session, self.anna, closed_case, "removed", hours_saved=10,
                               story=stories.StoryText(payload[:200], bodies[number % len(bodies)],
                                                       "sv" if number % 2 else "en"))
            if number % 2:
                story.status = SUMMARY_APPROVED  # published: shown on /insights
            session.commit()
        self.count("story", True)

    def _message(self, case, reporter_case, author, body, files):
        if author == "reporter":
            dialogue.reporter_reply(self.session, self.settings, reporter_case, body, files)
        else:
            dialogue.post_message(self.session, case.report, case.dek, author="handler", body=body,
                                  author_user_id=self.anna.id, allowed_types=self.settings.allowed_upload_types,
                                  uploads=files)
        self.session.commit()

    def text_rounds(self):
        """The admin texts hold at most 1000 (privacy: 6000) characters: the
        corpus goes in over several rounds, yielding after each."""
        short = chunks(PAYLOADS, texts.TEXT_MAX)
        long = chunks(PAYLOADS, texts.PRIVACY_MAX)
        for number, text in enumerate(short):
            wanted = {name: (long[number % len(long)] if name.startswith("privacy") else text)
                      for name in texts.EDITABLE if name != "external_url"}
            texts.save_texts(self.session, self.admin, wanted)
            self.session.commit()
            self.count("admin text", True)
            yield number


@pytest.fixture
def xss_portal(live_server_factory):
    server = live_server_factory(seeded=False)
    plant = Plant(server)
    plant.world()
    plant.stories()
    plant.names()
    plant.cases()
    yield server, plant
    plant.close()


def _signed_in_cookies(server, plant):
    cookies = {}
    for name, user in (("handler", plant.anna), ("admin", plant.admin)):
        client = FormClient(server.app.test_client())
        assert staff_login(client, plant.session, user, plant.secrets[user.username]).status_code == 302
        cookies[name] = _cookie(client)
    reporter = FormClient(server.app.test_client())
    assert reporter.post_form("/follow-up", {"receipt": plant.obstacle.receipt}).status_code == 302
    cookies["reporter"] = _cookie(reporter)
    return cookies


class Watch:
    """A JavaScript-enabled, CSP-bypassing browser context that records
    dialogs and requests and finds injected markup."""

    def __init__(self, browser, server, cookie: str | None, locale: str):
        self.origin = server.url
        self.context = browser.new_context(java_script_enabled=True, bypass_csp=True, locale=locale,
                                           extra_http_headers={"Accept-Language": locale})
        if cookie:
            self.context.add_cookies([{"name": "tillit_session", "value": cookie, "url": server.url}])
        self.dialogs, self.requests, self.problems = [], [], []
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.context.route("**/*", self._route)

    def _dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _route(self, route):
        url, kind = route.request.url, route.request.resource_type
        path = urlsplit(url).path
        if _ours(url, self.origin) and (kind == "document" or path.startswith("/static/")):
            return route.continue_()
        self.requests.append(f"{kind} {url}")
        return route.abort()

    def visit(self, path: str) -> None:
        response = self.page.goto(self.origin + path, wait_until="load")
        assert response is not None and response.status == 200, (path, response and response.status)
        self.page.wait_for_timeout(50)  # let anything scheduled (autofocus, animations, timers) happen
        found = self.page.evaluate(INJECTED)
        if found:
            self.problems.append((path, found[:5]))
        assert self.page.url.startswith(self.origin + path.split("?")[0]), ("navigated away", path, self.page.url)

    def export(self, report_id: str, secrecy_mark: str) -> str:
        """The printable export of a case, asked for through its form, with a
        secrecy mark typed by the handler: the record for registration."""
        self.visit(f"/handler/case/{report_id}")
        form = self.page.locator("section[aria-labelledby=export-title] form")
        form.locator("select").select_option("html")
        form.locator("input[name=secrecy_mark]").fill(secrecy_mark)
        form.locator("input[name=password]").fill(HANDLER_PASSWORD)
        form.locator("button[type=submit]").click()
        self.page.wait_for_load_state("load")
        self.page.wait_for_timeout(50)
        found = self.page.evaluate(INJECTED)
        if found:
            self.problems.append(("export", found[:5]))
        return self.page.content()

    def verdict(self):
        return {"dialogs": self.dialogs, "requests": self.requests, "injected": self.problems}

    def close(self):
        self.context.close()


CLEAN = {"dialogs": [], "requests": [], "injected": []}


def _pages(plant, role):
    report_form = "/report/obstacle?category=it_systems&chain_level=management"
    return {
        "anonymous": ["/", "/privacy", report_form, "/report/misconduct?category=fraud", "/insights", "/follow-up"],
        "reporter": ["/follow-up/case"],
        "handler": ["/handler/", f"/handler/case/{plant.obstacle.report_id}",
                    f"/handler/case/{plant.misconduct.report_id}", "/handler/stories", "/handler/account",
                    "/insights/trends"],
        "admin": ["/admin/", "/admin/people", "/admin/units", "/admin/channels", f"/admin/channels/{plant.channel.id}",
                  f"/admin/channels/{plant.improvement.id}", "/admin/routing", "/admin/audit", "/admin/texts",
                  "/admin/statistics", "/insights/trends"],
    }[role]


def test_the_corpus_through_every_field_runs_nowhere(browser, xss_portal):
    server, plant = xss_portal
    assert len(PAYLOADS) >= 200
    # The test is only as good as what got in: nearly every payload must be accepted by each field.
    for field in set(plant.accepted) | set(plant.refused):
        accepted, refused = plant.accepted.get(field, 0), plant.refused.get(field, 0)
        assert accepted >= 0.9 * (accepted + refused), (field, accepted, refused)
    cookies = _signed_in_cookies(server, plant)
    shown = {}
    for role in ("anonymous", "reporter", "handler", "admin"):
        for locale in ("sv-SE", "en-GB"):
            watch = Watch(browser, server, cookies.get(role), locale)
            try:
                for path in _pages(plant, role):
                    watch.visit(path)
                    shown[path] = watch.page.content()
                if role == "handler":
                    for number, report_id in enumerate((plant.obstacle.report_id, plant.misconduct.report_id)):
                        shown[f"export {number}"] = watch.export(report_id, PAYLOADS[number][:200])
                assert watch.verdict() == CLEAN, (role, locale)
            finally:
                watch.close()
    # Control: the payloads are on the pages, as text.
    case_page = shown[f"/handler/case/{plant.obstacle.report_id}"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in case_page
    assert "&lt;img src=x onerror=alert(" in shown["/follow-up/case"]
    assert "onerror=alert(" in shown["/admin/units"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown["export 0"]  # the mark, and the answers
    assert "Three" not in shown["export 1"] and "&lt;img src=x onerror=alert(" in shown["export 1"]


def test_the_admin_texts_run_nowhere_in_any_round(browser, xss_portal):
    server, plant = xss_portal
    pages = ["/", "/privacy", "/report/obstacle?category=it_systems&chain_level=management",
             "/report/misconduct?category=fraud"]
    rounds = 0
    for locale in ("sv-SE", "en-GB"):
        watch = Watch(browser, server, None, locale)
        try:
            for _round in plant.text_rounds():
                for path in pages:
                    watch.visit(path)
                rounds += 1
            assert watch.verdict() == CLEAN, locale
        finally:
            watch.close()
    assert rounds >= 2 * len(chunks(PAYLOADS, texts.TEXT_MAX))
    cookies = _signed_in_cookies(server, plant)
    watch = Watch(browser, server, cookies["admin"], "en-GB")
    try:
        watch.visit("/admin/audit")  # every text before and after
        watch.visit("/admin/texts")
        assert watch.verdict() == CLEAN
    finally:
        watch.close()


def test_control_the_watch_sees_a_payload_that_is_not_escaped(browser, live_server_factory):
    """The checks above pass only if they would have failed: a page that
    puts payloads out unescaped is caught by each of them."""
    from markupsafe import Markup

    server = live_server_factory(seeded=False)
    unescaped = {"dialog": "<img src=x onerror=alert(1)>", "element": "<svg><desc>x</desc></svg>",
                 "request": "<link rel=stylesheet href=//xss.example/1.css>", "attribute": "<b onclick=alert(2)>b</b>"}
    for name, payload in unescaped.items():
        server.app.add_url_rule(f"/xss-control/{name}", f"xss_control_{name}",
                                lambda payload=payload: Markup(f"<!doctype html><title>t</title><p>{payload}"))
    found = {}
    for name in unescaped:
        watch = Watch(browser, server, None, "en-GB")
        try:
            watch.visit(f"/xss-control/{name}")
            found[name] = watch.verdict()
        finally:
            watch.close()
    assert found["dialog"]["dialogs"] == ["alert: 1"]
    assert "<svg>" in found["element"]["injected"][0][1]
    assert any("xss.example" in request for request in found["request"]["requests"])
    assert "b onclick" in found["attribute"]["injected"][0][1]
