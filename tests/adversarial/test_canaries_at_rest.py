"""A whole case with canaries on both sides, behind a proxy: the reporter's
answers, files and replies, the handler's reply, file and note, and the
receipt leave none of them in the database (rows and files), the instance
and temporary folders, the logs, the console, the e-mail the handlers get,
or any response header but the file name a download must carry; and the
addresses and the user agent the requests came with (X-Forwarded-For too)
are stored and logged nowhere. tests/integration/test_reporter_at_rest.py
searches the reporter's journey more finely (spools, WAL phases, cookie)."""
from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from integration.test_notifications import Inbox, smtp  # noqa: F401 - the fixture
from integration.test_reporter_at_rest import (
    canary,
    files_under,
    needles,
    post_multipart,
    search,
    sqlite_files,
    submit,
    table_dump,
    upload,
)
from portal.models import Attachment
from support import FormClient, csrf_token_from, enrol_totp, make_settings, seed_channels, staff_login

CLIENT_ADDRESS = "192.0.2.77"
FORWARDED_ADDRESS = "198.51.100.203"
EN = {"Accept-Language": "en"}


@pytest.fixture
def proxied(tmp_path, database, smtp):  # noqa: F811 - the imported fixture
    from portal import create_app

    _inbox, port = smtp
    settings = make_settings(tmp_path, database.url, proxy_count=1, smtp_host="127.0.0.1", smtp_port=port,
                             smtp_sender="portal@example.org")
    app = create_app(settings)
    yield app
    app.extensions["tillit.db"].engine.dispose()


def test_a_whole_case_leaves_no_canary_and_no_address_anywhere(proxied, smtp, database, tmp_path, capfd, caplog):  # noqa: F811
    app = proxied
    inbox, _port = smtp
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    user_agent = f"CanaryBrowser/9.9 ({canary()})"
    origin = {"REMOTE_ADDR": CLIENT_ADDRESS}
    headers = {"X-Forwarded-For": FORWARDED_ADDRESS, "User-Agent": user_agent, "Accept-Language": "en"}
    sent_headers: list[tuple[str, str, str]] = []

    inner = app.wsgi_app

    def keep_headers(environ, start_response):
        # Outermost, so it sees every header the portal sends, its own last ones too.
        def start(status, response_headers, exc_info=None):
            sent_headers.extend((environ["PATH_INFO"], name, value) for name, value in response_headers)
            return start_response(status, response_headers, exc_info)
        return inner(environ, start)

    app.wsgi_app = keep_headers

    session = app.extensions["tillit.db"].sessionmaker()
    settings = app.config["TILLIT"]
    anna = seed_channels(session, settings)["handlers"]["anna"]
    anna.email = "anna@example.org"
    session.commit()
    secret = enrol_totp(session, settings, anna)

    marks = {name: canary() for name in ("today", "change", "file name", "file", "reporter reply",
                                         "handler reply", "handler file name", "handler file", "note")}

    def client():
        test_client = app.test_client()
        test_client.environ_base.update(origin)
        for name, value in headers.items():
            test_client.environ_base["HTTP_" + name.upper().replace("-", "_")] = value
        return FormClient(test_client)

    reporter = client()
    receipt = submit(reporter, "obstacle", "category=reporting_burden&chain_level=management",
                     {"category": "reporting_burden", "chain_level": "management",
                      "today": f"Three systems. {marks['today']}", "change": f"One. {marks['change']}",
                      "time_lost": "1to3"},
                     [upload(f"{marks['file name']}.txt", f"Minutes {marks['file']}\n".encode())])

    handler = client()
    assert staff_login(handler, session, anna, secret).status_code == 302
    report_id = re.search(r"/handler/case/([A-Za-z0-9_-]+)", handler.get("/handler/").get_data(as_text=True))[1]
    case_url = f"/handler/case/{report_id}"
    page = handler.get(case_url, headers=EN).get_data(as_text=True)
    assert marks["today"] in page and marks["file name"] in page
    assert post_multipart(handler, f"{case_url}/reply", {
        "csrf_token": csrf_token_from(page), "kind": "message", "body": f"Thanks. {marks['handler reply']}",
        "attachments": [upload(f"{marks['handler file name']}.txt", f"Plan {marks['handler file']}\n".encode())],
    }).status_code == 302
    assert handler.post_form(case_url, {"body": f"Call them. {marks['note']}"},
                             action=f"{case_url}/note").status_code == 302

    assert reporter.post_form("/follow-up", {"receipt": receipt}).status_code == 302
    page = reporter.get("/follow-up/case", headers=EN).get_data(as_text=True)
    assert marks["handler reply"] in page and marks["handler file name"] in page
    assert "with the network switched off" in page  # a handler's file may fetch from the internet
    assert reporter.post_form("/follow-up/case", {"body": f"More. {marks['reporter reply']}"},
                              action="/follow-up/reply").status_code == 302
    for attachment_id in session.scalars(select(Attachment.id)):
        download = handler.get(f"{case_url}/attachment/{attachment_id}")
        assert download.status_code == 200 and download.get_data()
        download.close()
    # The handlers' digest: sent, and only a count.
    assert app.test_cli_runner().invoke(args=["portal", "notify"]).exit_code == 0
    assert inbox.messages, "no digest was sent"
    session.close()
    app.extensions["tillit.db"].engine.dispose()

    wanted = {**needles(marks, [receipt]), "client address": CLIENT_ADDRESS.encode(),
              "forwarded address": FORWARDED_ADDRESS.encode(), "user agent": user_agent.encode(),
              "user agent mark": user_agent.split("(")[1].rstrip(")").encode()}
    control = canary()
    logging.getLogger("portal").debug("control %s", control)
    print(f"control {control}")
    output = capfd.readouterr()
    places = {"log": caplog.text.encode(), "stdout": output.out.encode(), "stderr": output.err.encode(),
              "e-mail": "\n".join(f"{to} {text}" for to, text in inbox.messages).encode(),
              **table_dump(app.extensions["tillit.db"].engine), **files_under(tmp_path)}
    if database.backend == "sqlite":
        places.update(sqlite_files(database))
    found = search(places, {**wanted, "control": control.encode()})
    assert sorted(found) == [("log", "control"), ("stdout", "control")]

    # Headers: the download's Content-Disposition names the file for the one
    # who downloads it; nothing else carries anything of the case.
    downloads = [(path, name, value) for path, name, value in sent_headers if name == "Content-Disposition"]
    assert downloads and all("/attachment/" in path or path == "/report/receipt.txt"
                             for path, _name, _value in downloads)
    others = {f"{path} {name}": value.encode() for path, name, value in sent_headers if name != "Content-Disposition"}
    assert any("Content-Security-Policy" in key for key in others)  # control: the headers were seen
    assert search(others, wanted) == []
