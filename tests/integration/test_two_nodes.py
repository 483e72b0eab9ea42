"""Two nodes: two gunicorn instances on their own ports and instance folders,
sharing only what a deployment shares (the settings, one database, one
Redis), with requests sent to both in turn as a load balancer would. What
one node does, the other sees: sessions, a reporter's follow-up, rate
limits, grants; and `notify` and `purge`, run on both at once, do their
work once. On PostgreSQL when TEST_DATABASE_URL is set, and on one SQLite
file (two processes, as `make run` with two workers)."""
from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from crypto import totp
from crypto.kdf import Argon2Params
from portal import create_app
from portal.models import AuditEvent, Report, User
from portal.reports import grants
import conftest as shared
from integration.test_notifications import mail_sink
from integration.test_retention import closed_case
from support import HANDLER_PASSWORD, TEST_ANCHOR_PUBLIC, anchor_user, csrf_token_from, enrol_totp, make_own_keys, \
    make_settings, open_report, seed_channels

ROOT = Path(__file__).resolve().parents[2]
FIELDS = {"category": "reporting_burden", "chain_level": "management", "change": "One system.", "time_lost": "1to3"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """The shared settings, the database and the two running nodes."""

    def __init__(self, folder: Path, database: shared.TestDatabase, redis_url: str, smtp_port: int):
        self.database = database
        self.settings = make_settings(folder / "tests", database.url, smtp_host="127.0.0.1", smtp_port=smtp_port,
                                      redis_url=redis_url)
        argon2 = Argon2Params.TEST
        self.env = {
            **os.environ, "PORTAL_ENV": "development", "PORTAL_DATABASE_URL": database.url,
            "PORTAL_REDIS_URL": redis_url, "PORTAL_SECRET_KEY": self.settings.secret_key,
            "PORTAL_PEPPER": self.settings.pepper.hex(), "PORTAL_ANCHOR_PUBLIC_KEYS": TEST_ANCHOR_PUBLIC.hex(),
            "PORTAL_ARGON2_MEMORY_KIB": str(argon2.memory_kib), "PORTAL_ARGON2_ITERATIONS": str(argon2.iterations),
            "PORTAL_ARGON2_LANES": str(argon2.lanes), "PORTAL_COOKIE_SECURE": "0",
            # Behind a load balancer: each test is a client of its own.
            "PORTAL_PROXY_COUNT": "1", "PORTAL_SMTP_HOST": "127.0.0.1", "PORTAL_SMTP_PORT": str(smtp_port),
            "PORTAL_SMTP_SENDER": "portal@example.org", "PORTAL_WORKERS": "2", "PORTAL_THREADS": "2",
        }
        self.folder = folder
        self.urls: list[str] = []
        self._processes: list[subprocess.Popen] = []
        self.app = create_app(self.settings)

    def node_env(self, n: int) -> dict:
        return {**self.env, "PORTAL_INSTANCE_PATH": str(self.folder / f"node{n}")}

    def start(self) -> None:
        for n in range(2):
            port = _free_port()
            log = (self.folder / f"node{n}.log").open("wb")
            self._processes.append(subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "wsgi:app"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                env={**self.node_env(n), "PORTAL_BIND": f"127.0.0.1:{port}"}))
            self.urls.append(f"http://127.0.0.1:{port}")
        for url in self.urls:
            deadline = time.monotonic() + 90  # workers import the portal first: slow on a busy machine
            while not self._answers(url):
                if time.monotonic() > deadline:
                    raise AssertionError(f"{url} did not start: {self.logs()}")
                time.sleep(0.1)

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            return requests.get(url + "/healthz", timeout=10).status_code == 200
        except requests.RequestException:  # not listening yet, or no worker ready to answer
            return False

    def logs(self) -> str:
        return "\n".join((self.folder / f"node{n}.log").read_text(errors="replace") for n in range(2))

    def cli(self, n: int, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "portal", *args], cwd=ROOT,
                                env=self.node_env(n), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def session(self):
        return self.app.extensions["tillit.db"].sessionmaker()

    def stop(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            process.wait(timeout=30)
        self.app.extensions["tillit.db"].engine.dispose()


@pytest.fixture(scope="module", params=shared.BACKENDS)
def cluster(request, tmp_path_factory, smtp_module):
    url = os.environ.get("PORTAL_REDIS_URL")
    if not url:
        pytest.skip("PORTAL_REDIS_URL is not set: no Redis on this machine")
    folder = tmp_path_factory.mktemp("cluster")
    database = shared.TestDatabase(request.param, folder)
    database.create_schema()
    running = Cluster(folder, database, url, smtp_module[1])
    seeded = seed_channels(running.session(), running.settings)
    running.handlers = {name: user.id for name, user in seeded["handlers"].items()}
    running.mail = smtp_module[0]
    try:
        running.start()
        yield running
    finally:
        running.stop()
        database.drop()


@pytest.fixture(scope="module")
def smtp_module():
    with mail_sink() as sink:
        yield sink


class Visitor:
    """One browser: one cookie jar (cookies are per host, not per port, as a
    load balancer's address is one host), one client address, and requests
    sent to the nodes in turn."""

    def __init__(self, cluster: Cluster):
        self.urls = cluster.urls
        self.http = requests.Session()
        self.http.headers.update({"Accept-Language": "en",
                                  "X-Forwarded-For": f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(256)}"})

    def get(self, node: int, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.urls[node] + path, allow_redirects=False, timeout=30, **kwargs)

    def post_form(self, node: int, path: str, data: dict, *, page: str | None = None, **kwargs) -> requests.Response:
        """Post `data` with the CSRF token of the form at `page` (default:
        `path`), read from the other node: the token must hold on both."""
        html = self.http.get(self.urls[1 - node] + (page or path), timeout=30).text
        return self.http.post(self.urls[node] + path, data={**data, "csrf_token": csrf_token_from(html)},
                              allow_redirects=False, timeout=30, **kwargs)


def _sign_in(cluster, visitor, node, username) -> None:
    session = cluster.session()
    user = session.get(User, cluster.handlers[username])
    secret = enrol_totp(session, cluster.settings, user)
    session.close()
    code = totp.code_for_step(secret, totp.step_at(time.time()))
    response = visitor.post_form(node, "/handler/login", {"username": username, "password": HANDLER_PASSWORD,
                                                         "code": code})
    assert response.status_code == 302, response.text[:500]


def _report(visitor, node, text) -> str:
    """Send an obstacle report to `node`; the receipt, from the other."""
    page = visitor.http.get(visitor.urls[node] + "/report/obstacle?category=reporting_burden&chain_level=management",
                            timeout=30).text
    hidden = {name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1)
              for name in ("csrf_token", "nonce", "channel_shown")}
    sent = visitor.http.post(visitor.urls[node] + "/report/obstacle", data={**FIELDS, "today": text, **hidden},
                             files={"attachments": ("", b"")}, allow_redirects=False, timeout=60)
    assert sent.status_code == 302, sent.text[:500]
    shown = visitor.get(1 - node, "/report/sent")
    return re.search(r'class="receipt"><code>([^<]+)</code>', shown.text).group(1)


def test_a_handler_signed_in_on_one_node_is_signed_in_on_the_other(cluster):
    visitor = Visitor(cluster)
    _sign_in(cluster, visitor, 0, "anna")
    for node in (1, 0, 1):
        inbox = visitor.get(node, "/handler/")
        assert inbox.status_code == 200 and "Anna" in inbox.text
    assert visitor.post_form(1, "/handler/logout", {}, page="/handler/").status_code == 302
    assert visitor.get(0, "/handler/").status_code == 302  # signed out everywhere


def test_a_reporters_follow_up_works_across_both_nodes(cluster):
    reporter = Visitor(cluster)
    mark = f"Two systems, {secrets.token_hex(6)}."
    receipt = _report(reporter, 0, mark)
    opened = reporter.post_form(1, "/follow-up", {"receipt": receipt})
    assert opened.status_code == 302
    case = reporter.get(0, "/follow-up/case")
    assert case.status_code == 200 and mark in case.text
    reply = f"And a third, {secrets.token_hex(6)}."
    sent = reporter.post_form(1, "/follow-up/reply", {"body": reply}, page="/follow-up/case",
                              files={"attachments": ("", b"")})
    assert sent.status_code == 302, sent.text[:500]
    assert reply in reporter.get(0, "/follow-up/case").text


def test_a_rate_limit_counts_requests_to_both_nodes(cluster):
    guesser = Visitor(cluster)
    wrong = "0000-0000-0000-0000-0000-0000-0000-0000"
    statuses = [guesser.post_form(n % 2, "/follow-up", {"receipt": wrong}).status_code for n in range(11)]
    assert statuses == [400] * 10 + [429]


def test_a_grant_made_on_one_node_opens_the_case_on_the_other(cluster):
    reporter = Visitor(cluster)
    mark = f"Forms printed twice, {secrets.token_hex(6)}."
    receipt = _report(reporter, 1, mark)
    session = cluster.session()
    report_id = open_report(session, cluster.settings, receipt)[0].id
    newcomer = _newcomer(cluster, session)
    session.close()

    anna, elin = Visitor(cluster), Visitor(cluster)
    _sign_in(cluster, anna, 0, "anna")
    _sign_in(cluster, elin, 1, newcomer.username)
    assert mark not in elin.get(1, f"/handler/case/{report_id}").text  # no key yet
    granted = anna.post_form(0, f"/handler/case/{report_id}/grant", {"user_id": newcomer.id},
                             page=f"/handler/case/{report_id}")
    assert granted.status_code == 302, granted.text[:500]
    case = elin.get(1, f"/handler/case/{report_id}")
    assert case.status_code == 200 and mark in case.text


def _newcomer(cluster, session) -> User:
    """A handler who joins the improvement channel after the report came in."""
    from portal.models import Channel
    from portal.staff.accounts import create_user

    found = session.scalar(select(User).where(User.username == "elin"))
    if found is not None:
        return found
    user = create_user(session, cluster.settings, username="elin", display_name="Elin", password=HANDLER_PASSWORD,
                       roles={"handler"}).user
    session.flush()
    make_own_keys(session, cluster.settings, user)
    grants.add_member(session, session.scalar(select(Channel).where(Channel.track == "obstacle")), user)
    anchor_user(session, cluster.settings, user)
    session.commit()
    cluster.handlers["elin"] = user.id
    return user


def test_notify_on_both_nodes_at_once_sends_each_digest_once(cluster):
    session = cluster.session()
    for name in ("anna", "bjorn"):
        session.get(User, cluster.handlers[name]).email = f"{name}@example.org"
    session.commit()
    session.close()
    _report(Visitor(cluster), 0, "Waiting for a digest.")
    before = len(cluster.mail.messages)
    runs = [cluster.cli(n, "notify") for n in range(2)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    sent = [int(re.search(r"Digests sent: (\d+)", output).group(1)) for output in outputs]
    recipients = sorted(r for rcpts, _body in cluster.mail.messages[before:] for r in rcpts)
    assert sum(sent) == 2 and recipients == ["anna@example.org", "bjorn@example.org"]


def test_purge_on_both_nodes_at_once_deletes_each_case_once(cluster):
    session = cluster.session()
    seeded = {"handlers": {name: session.get(User, user_id) for name, user_id in cluster.handlers.items()}}
    ids = [closed_case(session, cluster.settings, seeded)[0] for _ in range(3)]
    session.close()
    runs = [cluster.cli(n, "purge") for n in range(2)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    purged = [int(re.search(r"Cases deleted after their retention time: (\d+)", output).group(1))
              for output in outputs]
    assert sum(purged) == 3, outputs
    session = cluster.session()
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "case.purge", AuditEvent.target_id.in_(ids))) == 3
    assert all(session.get(Report, report_id).purged_on == dt.date.today() for report_id in ids)
    session.close()
