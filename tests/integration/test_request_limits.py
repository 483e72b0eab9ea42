"""Request bodies are bounded by the configured upload limits: a multipart
body beyond every file at its limit is cut there (the text kept, the files
dropped, the rest never read), and any other body that long gets a 413."""
import io
import re

import pytest
from sqlalchemy import func, select

from portal.models import Report
from portal.web.upload_spool import MIB, body_limit
from support import make_settings, seed_channels

from integration.test_reporter_journey import OBSTACLE, form_page, hidden
from support import csrf_token_from


@pytest.fixture
def settings(tmp_path, database):
    return make_settings(tmp_path, database.url, max_upload_mib=1, max_attachments=2)


@pytest.fixture
def seeded(app, db_session, settings):
    return seed_channels(db_session, settings)


class CountingInput(io.BytesIO):
    """The request body, counting what the application read of it."""

    def __init__(self, data):
        super().__init__(data)
        self.taken = 0

    def read(self, size=-1):
        data = super().read(size)
        self.taken += len(data)
        return data

    def readline(self, size=-1):
        data = super().readline(size)
        self.taken += len(data)
        return data


def _report_form(client):
    html = form_page(client, "obstacle", OBSTACLE["category"]).get_data(as_text=True)
    return {**OBSTACLE, "today": "Kept text: the same numbers in three systems.",
            "csrf_token": csrf_token_from(html), "nonce": hidden(html, "nonce"),
            "channel_shown": hidden(html, "channel_shown")}


def _post_encoded(client, data, lang="en", path="/report/obstacle"):
    """Post `data` as the browser would, the body read through a CountingInput."""
    from werkzeug.test import EnvironBuilder

    builder = EnvironBuilder(method="POST", data=data)
    environ = builder.get_environ()
    body = CountingInput(environ["wsgi.input"].read())
    builder.close()
    response = client.post(path, input_stream=body, content_length=len(body.getvalue()),
                           content_type=environ["CONTENT_TYPE"], headers={"Accept-Language": lang})
    return response, body


def test_a_body_beyond_every_file_at_its_limit_is_cut_and_the_text_kept(app, client, db_session, settings, seeded):
    limit = body_limit(settings)
    assert limit == 3 * MIB  # two files of 1 MiB and room for the text
    data = _report_form(client)
    # Each file alone would be discarded while streaming; together they pass the body limit.
    data["attachments"] = [(io.BytesIO(b"a" * (MIB // 2)), "one.txt"), (io.BytesIO(b"b" * (4 * MIB)), "two.txt")]
    response, body = _post_encoded(client, data)
    assert len(body.getvalue()) > limit
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "Kept text: the same numbers in three systems." in page
    assert "larger than 2 MiB together, so none was kept" in page
    assert body.taken <= limit + 64 * 1024  # the rest of the body was never read
    assert db_session.scalar(select(func.count()).select_from(Report)) == 0


def test_the_cut_body_in_swedish(app, client, db_session, settings, seeded):
    data = _report_form(client)
    data["attachments"] = [(io.BytesIO(b"b" * (4 * MIB)), "stor.txt")]
    response, _body = _post_encoded(client, data, lang="sv")
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and "tillsammans" in page and "Kept text" in page


def test_a_long_body_that_is_not_a_form_with_files_gets_413(client, settings, seeded):
    response = client.post("/report/obstacle", data=b"x" * (body_limit(settings) + 1),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_body_within_the_limit_is_not_cut(app, client, db_session, settings, seeded):
    data = _report_form(client)
    data["attachments"] = [(io.BytesIO(b"fine text file"), "fine.txt")]
    response = client.post("/report/obstacle", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(Report)) == 1


def test_a_cut_body_keeps_the_handlers_the_reporter_excluded(app, client, db_session, settings, seeded):
    """The exclusions come before the files, so a cut never drops them: a
    form sent again without the files still keeps the excluded handler out."""
    carin = seeded["handlers"]["carin"]
    html = client.get("/report/misconduct?category=fraud", headers={"Accept-Language": "en"}).get_data(as_text=True)
    data = {"category": "fraud", "what": "Kept: invoices paid twice.", "when": "", "who": "", "evidence": "",
            "contact": "", "exclude": carin.id, "csrf_token": csrf_token_from(html), "nonce": hidden(html, "nonce"),
            "channel_shown": hidden(html, "channel_shown"),
            "attachments": [(io.BytesIO(b"b" * (4 * MIB)), "ledger.txt")]}
    response, _body = _post_encoded(client, data, path="/report/misconduct")
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and "Kept: invoices paid twice." in page
    assert re.search(rf'<input[^>]*checked[^>]*value="{carin.id}"|<input[^>]*value="{carin.id}"[^>]*checked', page)


@pytest.mark.parametrize("path", ["/report/obstacle?category=it_systems&chain_level=management",
                                  "/report/misconduct?category=fraud"])
def test_in_every_form_with_files_the_files_come_last(client, seeded, path):
    """A body cut at the limit loses what comes after the file input: only
    the choice to send files uncleaned may (it goes with the files)."""
    html = client.get(path).get_data(as_text=True)
    form = html[html.index('enctype="multipart/form-data"'):]
    form = form[:form.index("</form>")]
    names = re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', form)
    assert "attachments" in names
    assert set(names[names.index("attachments") + 1:]) <= {"send_uncleaned"}, names
