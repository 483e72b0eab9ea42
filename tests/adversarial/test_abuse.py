"""Abuse: what no user can do to the portal, however hostile the request. NUL
and control characters in every field and query of every route, invalid
UTF-8, too many form parts, very long headers and cookies, and chunked
bodies beyond the limit get a clear 4xx, never a 500; zip bombs dressed as
Office files and malformed images, PDFs and documents (fuzzed with
Hypothesis, for a bounded number of examples) are refused or cleaned
without an exception and within bounded memory."""
from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
import zlib

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from adversarial.test_csrf_matrix import FIELDS, _caller, _post_routes
from adversarial.world import build
from portal.attachments.cleaning import CleanResult, clean_file

HOSTILE = "\x00\x01\x1b[31m\u202e\ud7ff\uffff"


@pytest.fixture
def world(app, db_session, settings):
    return build(app, db_session, settings)


def _page(role):
    return {"reporter": "/follow-up/case", "anonymous": "/handler/login"}.get(role, "/handler/account")


def test_control_characters_in_every_field_of_every_post_get_no_500(app, world):
    failures = []
    ending = {"handler.logout", "reporter.sign_out"}  # last: they end the caller's session
    for rule in sorted(_post_routes(app), key=lambda rule: rule.endpoint in ending):
        role = _caller(rule, app.view_functions[rule.endpoint])
        data = {name: f"{value}{HOSTILE}" for name, value in FIELDS.items()}
        response = world.clients[role].post_form(_page(role), data, action=world.url(rule))
        if response.status_code >= 500:
            failures.append((rule.endpoint, response.status_code))
    assert failures == []


def test_control_characters_in_the_query_of_every_get_get_no_500(app, world):
    failures = []
    query = "&".join(f"{name}=%00%1b%ff{name}" for name in ("q", "status", "track", "page", "next", "after",
                                                             "before", "category", "chain_level", "lang", "event",
                                                             "actor", "from", "to", "sort", "cursor"))
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        for role in world.clients:
            response = world.clients[role].get(f"{world.url(rule)}?{query}")
            if response.status_code >= 500:
                failures.append((rule.endpoint, role, response.status_code))
    assert failures == []


def test_a_nul_in_any_path_argument_is_a_404_not_a_500(app, world):
    """Every route taking an id, asked for with a NUL in it (PostgreSQL
    cannot even look such a text up), by every role."""
    failures, checked = [], 0
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint == "static":
            continue
        values = {name: "%00" for name in rule.arguments}
        path = rule.rule
        for name, value in values.items():
            path = path.replace(f"<{name}>", value)
        for role, client in world.clients.items():
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(path, method=method)
                checked += 1
                if response.status_code >= 500:
                    failures.append((rule.endpoint, role, method, response.status_code))
    assert checked > 100 and failures == []


@pytest.mark.parametrize("username", ["anna\x00", "\x00", "a" * 10_000, "\ud7ff\x1b"])
def test_a_hostile_username_at_sign_in_is_an_ordinary_failure(client, world, username):
    response = client.post_form("/handler/login", {"username": username, "password": "x" * 20, "code": "000000"},
                                headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="username"' in page  # the form again, with its error
    assert "There is a problem" in page


def test_invalid_utf8_in_a_form_body_is_answered_without_a_500(client, world):
    for path in ("/handler/login", "/follow-up", "/report/obstacle", "/language"):
        response = client.post(path, data=b"username=%FF%FE%C0%80&password=%ED%A0%80&receipt=\xff\xfe",
                               content_type="application/x-www-form-urlencoded")
        assert 400 <= response.status_code < 500, (path, response.status_code)


def test_too_many_form_parts_are_refused_cleanly(client, world):
    fields = {f"field{n}": "x" for n in range(5000)}
    response = client.post("/report/obstacle", data=fields, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "Traceback" not in response.get_data(as_text=True)


def test_deeply_nested_multipart_is_not_parsed_into_anything(client, world):
    """A multipart part that is itself multipart, many levels down: Werkzeug
    treats the inner one as data, so there is nothing to recurse into."""
    inner = b"x"
    for level in range(200):
        boundary = f"b{level}".encode()
        inner = (b"--" + boundary + b"\r\nContent-Type: multipart/mixed; boundary=b" + str(level + 1).encode()
                 + b"\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n" + inner + b"\r\n--" + boundary + b"--\r\n")
    response = client.post("/report/obstacle", data=inner, content_type="multipart/form-data; boundary=b0")
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("header, value", [
    ("Accept-Language", "sv;q=0.9," * 5000), ("Cookie", "tillit_session=" + "A" * 60_000),
    ("Cookie", "tillit_session=\x00\xff;" * 100), ("Content-Type", "multipart/form-data; boundary=" + "-" * 5000),
    ("X-Forwarded-For", "203.0.113.1, " * 2000), ("Referer", "https://x.example/" + "a" * 50_000),
])
def test_very_long_or_odd_headers_get_no_500(client, world, header, value):
    for method in ("GET", "POST"):
        response = client.open("/handler/login", method=method, headers={header: value})
        assert response.status_code < 500, (header, method, response.status_code)


def test_a_chunked_body_beyond_the_limit_is_refused_unread(app, world):
    from portal.web.upload_spool import body_limit

    limit = body_limit(app.config["TILLIT"])

    def endless():
        piece = b"x" * 65536
        for _ in range(limit // len(piece) + 20):
            yield piece

    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path="/report/obstacle", method="POST",
                             content_type="application/x-www-form-urlencoded").get_environ()
    environ.pop("CONTENT_LENGTH", None)
    stream = _Chunks(endless())
    environ.update({"wsgi.input": stream, "wsgi.input_terminated": True})  # as gunicorn does
    statuses = []
    body = b"".join(app.wsgi_app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses[0][:3] in ("400", "413") and b"Traceback" not in body
    assert stream.taken <= limit + 65536


class _Chunks(io.RawIOBase):
    """A body of unknown length, as a chunked request arrives."""

    def __init__(self, pieces):
        self._pieces, self._rest, self.taken = iter(pieces), b"", 0

    def readable(self):
        return True

    def readinto(self, buffer):
        while not self._rest:
            try:
                self._rest = next(self._pieces)
            except StopIteration:
                return 0
        count = min(len(buffer), len(self._rest))
        buffer[:count], self._rest = self._rest[:count], self._rest[count:]
        self.taken += count
        return count


# --- files -----------------------------------------------------------------


def _docx_around(entry_name: str, payload_writer) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                                                'content-types"/>')
        payload_writer(archive, entry_name)
    return out.getvalue()


def _zeros(archive, name, size=1024 * 1024 * 1024):
    with archive.open(name, "w", force_zip64=True) as entry:
        block = b"\x00" * (1024 * 1024)
        for _ in range(size // len(block)):
            entry.write(block)


def _cleaned_with_peak(name: str, data: bytes) -> tuple[CleanResult, int]:
    """The cleaner's result and the most memory Python held meanwhile."""
    tracemalloc.start()
    try:
        return clean_file(name, data), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.adversarial
@pytest.mark.parametrize("name", ["word/document.xml", "word/media/image1.png", "docProps/core.xml"])
def test_a_zip_bomb_dressed_as_a_docx_is_refused_in_bounded_memory(name):
    bomb = _docx_around(name, _zeros)
    assert len(bomb) < 2 * 1024 * 1024  # a gigabyte in about a megabyte
    result, peak = _cleaned_with_peak("report.docx", bomb)
    assert result.cleaned is False and result.warning in ("too_large_to_clean", "could_not_parse")
    assert result.data == bomb
    assert peak < 64 * 1024 * 1024, peak


@pytest.mark.adversarial
def test_a_nested_zip_inside_a_docx_is_not_unpacked():
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        _zeros(archive, "zeros.bin", 256 * 1024 * 1024)
    document = _docx_around("word/embeddings/oleObject1.bin",
                            lambda archive, name: archive.writestr(name, inner.getvalue()))
    result, peak = _cleaned_with_peak("report.docx", document)
    assert isinstance(result, CleanResult)
    assert peak < 64 * 1024 * 1024, peak


def _seed_files() -> dict[str, bytes]:
    """One small valid file per format the cleaner rewrites."""
    seeds = {}
    for fmt, ext in (("PNG", "png"), ("JPEG", "jpg"), ("GIF", "gif"), ("WEBP", "webp")):
        out = io.BytesIO()
        Image.new("RGB", (8, 6), (200, 30, 30)).save(out, fmt)
        seeds[ext] = out.getvalue()
    seeds["pdf"] = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1"
                    b">>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>endobj\n4 0 obj<</Author(Someone)"
                    b">>endobj\ntrailer<</Root 1 0 R/Info 4 0 R/Size 5>>\n%%EOF\n")
    seeds["docx"] = _docx_around("docProps/core.xml", lambda archive, name: archive.writestr(
        name, '<cp:coreProperties xmlns:cp="x" xmlns:dc="y"><dc:creator>Someone</dc:creator></cp:coreProperties>'))
    seeds["odt"] = _docx_around("meta.xml", lambda archive, name: archive.writestr(name, "<office:document-meta/>"))
    return seeds


SEEDS = _seed_files()


@st.composite
def _damaged(draw):
    ext = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[ext])
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        else:
            data[at:at] = bytes(data[at:at + 16]) * draw(st.integers(1, 50))
    return ext, bytes(data)


@pytest.mark.adversarial
# Pillow warns before the cleaner's own, lower pixel cap refuses the file.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_damaged())
def test_damaged_files_never_break_the_cleaner(sample):
    ext, data = sample
    result = clean_file(f"evidence.{ext}", data)
    assert isinstance(result, CleanResult)
    if not result.cleaned:
        assert result.data == data  # kept as it came, with a warning or as plain text
    assert result.filename.endswith(ext)


@pytest.mark.adversarial
def test_a_png_claiming_a_huge_picture_with_a_tiny_idat_costs_little():
    ihdr = struct.pack(">IIBBBBB", 20_000, 20_000, 8, 6, 0, 0, 0)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
            + chunk(b"IEND", b""))
    result, peak = _cleaned_with_peak("huge.png", data)
    assert isinstance(result, CleanResult) and peak < 16 * 1024 * 1024
