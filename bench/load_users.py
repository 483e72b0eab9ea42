"""The users of the load test (bench/load.py runs locust on this file, one
user class per phase). Each class does what its people do in the portal,
through the same forms a browser posts; anything else than what the page
should answer is a failure (target: none).

LOAD_DATA (a folder) holds what the phases hand on: accounts.json from the
seeding (usernames, TOTP secrets, the password) and receipts.txt, one
"receipt<TAB>mark" line per report sent, the mark a text only that report
holds. Every receipt is opened once by FollowUp, which checks that it opens
the report holding its own mark.
"""
from __future__ import annotations

import atexit
import json
import os
import re
import secrets
import time
from pathlib import Path

import gevent
from crypto import totp
from locust import HttpUser, constant, task
from locust.exception import StopUser

DATA = Path(os.environ.get("LOAD_DATA", "."))
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]*)"')
RECEIPT = re.compile(r'class="receipt"><code>([^<]+)</code>')
CASE_LINK = re.compile(r'href="/handler/case/([A-Za-z0-9_-]+)"')
FORM = "/report/obstacle?category=reporting_burden&chain_level=management"
FIELDS = {"category": "reporting_burden", "chain_level": "management", "change": "One system for the figures.",
          "time_lost": "1to3"}


def _accounts() -> dict:
    return json.loads((DATA / "accounts.json").read_text())


def _hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*value="([^"]*)"', html).group(1)


class _Portal(HttpUser):
    abstract = True
    wait_time = constant(0)  # as fast as the portal answers: the phases measure saturation

    def _page(self, path: str, name: str) -> str | None:
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return None
            return response.text

    def _post(self, path: str, name: str, data: dict, expect: int = 302, **kwargs):
        with self.client.post(path, name=name, data=data, allow_redirects=False, catch_response=True,
                              **kwargs) as response:
            if response.status_code != expect:
                response.failure(f"status {response.status_code}: {response.text[:200]!r}")
                return None
            return response


class Submitter(_Portal):
    """A reporter sending an obstacle report, and taking the receipt."""

    attachment: tuple | None = None
    label = "POST /report/obstacle"

    @task
    def report(self):
        self.client.cookies.clear()  # every report from a new visitor
        form = self._page(FORM, "GET /report/obstacle")
        if form is None:
            return
        mark = f"Mark {secrets.token_hex(8)}"
        data = {**FIELDS, "today": f"The same figures go into three systems. {mark}",
                "csrf_token": _hidden(form, "csrf_token"), "nonce": _hidden(form, "nonce"),
                "channel_shown": _hidden(form, "channel_shown")}
        files = {"attachments": self.attachment or ("", b"", "application/octet-stream")}
        if self._post("/report/obstacle", self.label, data, files=files) is None:
            return
        shown = self._page("/report/sent", "GET /report/sent")
        found = RECEIPT.search(shown or "")
        if found is None:
            return
        with (DATA / "receipts.txt").open("a") as out:
            out.write(f"{found.group(1)}\t{mark}\n")


class PhotoSubmitter(Submitter):
    """The same with a 1 MiB photograph, which the portal cleans."""

    label = "POST /report/obstacle (1 MiB photo)"
    attachment = ("photo.jpg", (DATA / "photo.jpg").read_bytes() if (DATA / "photo.jpg").exists() else b"",
                  "image/jpeg")


class _Receipts:
    """The receipts not yet opened, shared by the users of one process."""

    lines: list[str] | None = None
    running = 0  # users still following up

    @classmethod
    def next(cls) -> tuple[str, str] | None:
        if cls.lines is None:
            path = DATA / "receipts.txt"
            cls.lines = path.read_text().splitlines() if path.exists() else []
            path.write_text("")  # each is opened once
        if not cls.lines:
            return None
        receipt, mark = cls.lines.pop().split("\t")
        return receipt, mark


class FollowUp(_Portal):
    """A reporter coming back with the receipt: opening the report (the
    receipt check), reading it, and (one in four) writing to the handler."""

    def on_start(self):
        _Receipts.running += 1

    @task
    def follow_up(self):
        taken = _Receipts.next()
        if taken is None:
            # No receipt left: this user stops; the last one to stop ends the
            # run (from a greenlet of its own: quit() stops this one too), so
            # no journey is cut off half-way.
            _Receipts.running -= 1
            if _Receipts.running == 0:
                gevent.spawn(self.environment.runner.quit)
            raise StopUser()
        receipt, mark = taken
        self.client.cookies.clear()
        page = self._page("/follow-up", "GET /follow-up")
        if page is None:
            return
        if self._post("/follow-up", "POST /follow-up (receipt check)",
                      {"receipt": receipt, "csrf_token": CSRF.search(page).group(1)}) is None:
            return
        with self.client.get("/follow-up/case", name="GET /follow-up/case", catch_response=True) as response:
            if response.status_code != 200 or mark not in response.text:
                response.failure("the receipt did not open the report that holds its mark")
                return
            token = CSRF.search(response.text).group(1)
        if secrets.randbelow(4):
            return  # a quarter of them write back
        self._post("/follow-up/reply", "POST /follow-up/reply",
                   {"body": f"Thank you. {secrets.token_hex(4)}", "csrf_token": token},
                   files={"attachments": ("", b"", "application/octet-stream")})


class _Accounts:
    """Sign-in accounts with the TOTP step each used last: a code is
    accepted once, so an account signs in again only in a later step. The
    steps are kept in a file for the next run, which may start within the
    same step (the one-user run comes just before the others)."""

    pool: list[dict] | None = None
    used: dict[str, int] = {}

    @classmethod
    def take(cls) -> tuple[dict, int] | None:
        if cls.pool is None:
            cls.pool = list(_accounts()["pool"])
            steps = DATA / "signin-steps.json"
            cls.used = json.loads(steps.read_text()) if steps.exists() else {}
            atexit.register(lambda: steps.write_text(json.dumps(cls.used)))
        step = totp.step_at(time.time())
        for account in cls.pool:
            if cls.used.get(account["username"], -1) < step:
                cls.used[account["username"]] = step
                return account, step
        return None


def _sign_in(user: _Portal, account: dict, step: int, password: str) -> bool:
    page = user._page("/handler/login", "GET /handler/login")
    if page is None:
        return False
    code = totp.code_for_step(bytes.fromhex(account["secret"]), step)
    data = {"username": account["username"], "password": password, "code": code,
            "csrf_token": CSRF.search(page).group(1)}
    return user._post("/handler/login", "POST /handler/login (sign-in)", data) is not None


class SignIn(_Portal):
    """A handler signing in: password (Argon2id), TOTP code, new session."""

    @task
    def sign_in(self):
        taken = _Accounts.take()
        if taken is None:  # every account has signed in during this step
            time.sleep(0.2)
            return
        self.client.cookies.clear()
        _sign_in(self, *taken, _accounts()["password"])


class Handler(_Portal):
    """A signed-in handler working the inbox: reading it, opening cases,
    replying to reporters."""

    _readers: list[dict] | None = None

    def on_start(self):
        accounts = _accounts()
        if Handler._readers is None:
            Handler._readers = list(accounts["readers"])
        if not Handler._readers:
            raise StopUser()  # more users than reader accounts
        self.account = Handler._readers.pop()
        self.cases: list[str] = []
        if not _sign_in(self, self.account, totp.step_at(time.time()), accounts["password"]):
            raise StopUser()

    @task(3)
    def inbox(self):
        page = self._page("/handler/", "GET /handler/ (inbox)")
        if page is not None:
            self.cases = CASE_LINK.findall(page) or self.cases

    @task(3)
    def case(self):
        if self.cases:
            self._page(f"/handler/case/{secrets.choice(self.cases)}", "GET /handler/case/<id>")

    @task(1)
    def reply(self):
        if not self.cases:
            return
        case = secrets.choice(self.cases)
        page = self._page(f"/handler/case/{case}", "GET /handler/case/<id>")
        if page is None:
            return
        self._post(f"/handler/case/{case}/reply", "POST /handler/case/<id>/reply",
                   {"kind": "message", "body": f"We are looking at it. {secrets.token_hex(4)}",
                    "csrf_token": CSRF.search(page).group(1)},
                   files={"attachments": ("", b"", "application/octet-stream")})


def main() -> None:
    """One phase, headless: `python bench/load_users.py CLASS USERS SECONDS HOST OUT.json`.
    Users stop gracefully at the time limit (a journey under way is
    finished); the statistics are written after the last request, as JSON."""
    import sys

    from locust.env import Environment

    user_class, users, seconds, host, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], \
        Path(sys.argv[5])
    environment = Environment(user_classes=[globals()[user_class]], host=host, stop_timeout=60)
    runner = environment.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.spawn_later(seconds, lambda: (runner.stop(), runner.quit()))
    runner.greenlet.join()
    stats = environment.stats
    out.write_text(json.dumps({
        "requests": [{"name": entry.name, "count": entry.num_requests, "failures": entry.num_failures,
                      "per_second": entry.total_rps,
                      **{f"p{q}": entry.get_response_time_percentile(q / 100) for q in (50, 95, 99)}}
                     for entry in stats.entries.values()],
        "failures": [f"{error.name}: {error.error} ({error.occurrences}x)" for error in stats.errors.values()],
        "exceptions": [f"{e['msg']} ({e['count']}x)" for e in runner.exceptions.values()],
        "exception_count": sum(e["count"] for e in runner.exceptions.values()),
    }))


if __name__ == "__main__":
    main()
