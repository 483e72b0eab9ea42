"""Attachment metadata through the real reporter journey (docs/architecture.md, "Data,
anonymity and the web rules"): a photo with camera and GPS EXIF and a PDF with an author and XMP are
sent with an obstacle report; the receipt page says what was removed, and the
files the reporter (and so a handler) gets back carry none of it."""
from __future__ import annotations

import html
import io
import re

import pytest
from PIL import ExifTags, Image
from pypdf import PdfReader
from sqlalchemy import select

from attachments.test_cleaning import CANARY, _all_pdf_bytes, _pdf_by_pypdf
from portal.attachments import store as attachment_store
from portal.models import Attachment
from support import csrf_token_from, open_report, seed_channels

EN = {"Accept-Language": "en"}
OBSTACLE = {"category": "it_systems", "chain_level": "management", "today": "The scanner stores photos.",
            "change": "Photos without location."}


def photo_with_camera_and_gps() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "CanaryMake"
    exif[ExifTags.Base.Model] = "CanaryModel X1"
    exif[ExifTags.Base.Software] = "CanaryFirmware 2.0"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (59.0, 19.0, 48.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (18.0, 4.0, 7.0)
    image = Image.new("RGB", (64, 48), (20, 160, 40))
    image.paste((230, 20, 20), (0, 0, 32, 48))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


@pytest.fixture
def seeded(app, db_session, settings):
    return seed_channels(db_session, settings)


def submit_with(client, files: dict[str, bytes]):
    query = f"category={OBSTACLE['category']}&chain_level={OBSTACLE['chain_level']}"
    page = client.get(f"/report/obstacle?{query}", headers=EN).get_data(as_text=True)
    data = {**OBSTACLE, "csrf_token": csrf_token_from(page),
            "nonce": re.search(r'name="nonce"[^>]*value="([^"]*)"', page).group(1),
            "channel_shown": re.search(r'name="channel_shown"[^>]*value="([^"]*)"', page).group(1),
            "attachments": [(io.BytesIO(content), name) for name, content in files.items()]}
    return client.post("/report/obstacle", data=data, content_type="multipart/form-data", headers=EN)


def cleaning_report(sent_page: str) -> dict[str, str]:
    """File name -> what the receipt page says about it."""
    listing = re.search(r'<ul class="file-report">(.*?)</ul>', sent_page, re.S)
    assert listing, "the receipt page lists no files"
    items = re.findall(r"<li><strong>([^<]+)</strong>:(.*?)</li>", listing.group(1), re.S)
    return {html.unescape(name): " ".join(html.unescape(text).split()) for name, text in items}


def test_photo_and_pdf_lose_their_metadata_on_the_way_in(client, seeded, db_session, settings):
    photo, pdf = photo_with_camera_and_gps(), _pdf_by_pypdf()
    with Image.open(io.BytesIO(photo)) as original:  # the fixtures really carry it all
        exif = original.getexif()
        assert exif[ExifTags.Base.Make] == "CanaryMake" and exif[ExifTags.Base.Model] == "CanaryModel X1"
        assert exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    original_pdf = PdfReader(io.BytesIO(pdf))
    assert original_pdf.metadata.author == "Canary Person" and "/Metadata" in original_pdf.trailer["/Root"]

    response = submit_with(client, {"IMG_0042.jpg": photo, "minutes.pdf": pdf})
    assert response.status_code == 302, response.get_data(as_text=True)

    # The receipt page tells the reporter what was removed from each file.
    sent = client.get("/report/sent", headers=EN).get_data(as_text=True)
    receipt = re.search(r'<p class="receipt"[^>]*><code>([^<]+)</code>', sent).group(1)
    said = cleaning_report(sent)
    assert set(said) == {"IMG_0042.jpg", "minutes.pdf"}
    assert said["IMG_0042.jpg"].startswith("removed:")
    assert "camera and EXIF data" in said["IMG_0042.jpg"] and "location (GPS)" in said["IMG_0042.jpg"]
    assert said["minutes.pdf"].startswith("removed:")
    assert "document properties (author, creator, dates)" in said["minutes.pdf"]
    assert "XMP metadata" in said["minutes.pdf"]

    # What is stored says the same, sealed with the file.
    report, dek = open_report(db_session, settings, receipt)
    metas = {}
    for attachment in db_session.scalars(select(Attachment).where(Attachment.report_id == report.id)):
        meta = attachment_store.attachment_meta(report, dek, attachment)
        metas[meta["filename"]] = (attachment.id, meta)
    assert {"exif", "gps"} <= set(metas["IMG_0042.jpg"][1]["removed"])
    assert {"pdf_info", "pdf_xmp"} <= set(metas["minutes.pdf"][1]["removed"])
    assert metas["IMG_0042.jpg"][1]["media_type"] == "image/jpeg"
    assert metas["minutes.pdf"][1]["media_type"] == "application/pdf"

    # The reporter's follow-up lists the files and downloads them cleaned.
    opened = client.post_form("/follow-up", {"receipt": receipt}, headers=EN)
    assert opened.status_code == 302
    case = client.get("/follow-up/case", headers=EN).get_data(as_text=True)
    downloads = {}
    for name, (attachment_id, _meta) in metas.items():
        assert f"/follow-up/attachment/{attachment_id}" in case and name in case
        response = client.get(f"/follow-up/attachment/{attachment_id}")
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment;")
        downloads[name] = response.get_data()

    image_bytes = downloads["IMG_0042.jpg"]
    for secret in (b"CanaryMake", b"CanaryModel", b"CanaryFirmware", b"Exif"):
        assert secret not in image_bytes
    with Image.open(io.BytesIO(image_bytes)) as cleaned:
        assert cleaned.format == "JPEG" and cleaned.size == (64, 48)
        exif = cleaned.getexif()
        assert len(exif) == 0 and not exif.get_ifd(ExifTags.IFD.GPSInfo)
        assert "exif" not in cleaned.info
        left, right = cleaned.convert("RGB").getpixel((8, 24)), cleaned.convert("RGB").getpixel((56, 24))
        assert left[0] > 180 and right[1] > 120  # the picture itself survives

    pdf_bytes = downloads["minutes.pdf"]
    assert CANARY not in _all_pdf_bytes(pdf_bytes)
    cleaned_pdf = PdfReader(io.BytesIO(pdf_bytes))
    assert not cleaned_pdf.metadata or cleaned_pdf.metadata.author is None
    assert "/Metadata" not in cleaned_pdf.trailer["/Root"] and cleaned_pdf.xmp_metadata is None
    assert len(cleaned_pdf.pages) == 1 and cleaned_pdf.pages[0].mediabox.width == 200


def test_plain_text_is_stored_as_sent_and_said_to_have_nothing_to_remove(client, seeded):
    text = "Nothing but words.\n".encode()
    assert submit_with(client, {"notes.txt": text}).status_code == 302
    sent = client.get("/report/sent", headers=EN).get_data(as_text=True)
    receipt = re.search(r'<p class="receipt"[^>]*><code>([^<]+)</code>', sent).group(1)
    assert cleaning_report(sent) == {"notes.txt": "nothing to remove."}
    client.post_form("/follow-up", {"receipt": receipt})
    case = client.get("/follow-up/case", headers=EN).get_data(as_text=True)
    attachment_id = re.search(r'href="/follow-up/attachment/([^"]+)"', case).group(1)
    assert client.get(f"/follow-up/attachment/{attachment_id}").get_data() == text


def test_downloads_give_their_database_connection_back(app, client, seeded):
    # The body is streamed after the request's teardown; the session that
    # reads the chunks must still be closed, read to the end or not.
    assert submit_with(client, {"notes.txt": b"Some words.\n", "more.txt": b"More words.\n"}).status_code == 302
    sent = client.get("/report/sent", headers=EN).get_data(as_text=True)
    receipt = re.search(r'<p class="receipt"[^>]*><code>([^<]+)</code>', sent).group(1)
    client.post_form("/follow-up", {"receipt": receipt})
    case = client.get("/follow-up/case", headers=EN).get_data(as_text=True)
    ids = re.findall(r'href="/follow-up/attachment/([^"]+)"', case)
    assert len(ids) == 2
    pool = app.extensions["tillit.db"].engine.pool
    for attachment_id in ids * 3:
        response = client.get(f"/follow-up/attachment/{attachment_id}")
        assert response.get_data() in (b"Some words.\n", b"More words.\n")
        response.close()
        assert pool.checkedout() == 0
    unread = client.get(f"/follow-up/attachment/{ids[0]}")
    unread.close()  # a client that goes away before the body
    assert pool.checkedout() == 0


def test_a_reply_says_what_was_removed_from_its_files(client, seeded):
    """Files sent later with a reply are cleaned the same way, and the case
    page tells the reporter so, as the receipt page does for the first ones."""
    assert submit_with(client, {"notes.txt": b"words"}).status_code == 302
    sent = client.get("/report/sent", headers=EN).get_data(as_text=True)
    receipt = re.search(r'<p class="receipt"[^>]*><code>([^<]+)</code>', sent).group(1)
    from support import FormClient

    reporter = FormClient(client)
    reporter.post_form("/follow-up", {"receipt": receipt})
    reporter.post_form("/follow-up/case", {"body": "A photo", "send_uncleaned": "y", "attachments": [
        (io.BytesIO(photo_with_camera_and_gps()), "later.jpg"),
        (io.BytesIO(b"not really a picture"), "broken.png")]}, action="/follow-up/reply")
    case = " ".join(html.unescape(client.get("/follow-up/case", headers=EN).get_data(as_text=True)).split())
    said = dict(re.findall(r'download>([^<]+)</a>: ([^<]+)</li>', case))
    assert said["notes.txt"].strip() == "nothing to remove."
    assert said["later.jpg"].startswith("removed:") and "location" in said["later.jpg"].lower()
    assert "removed" not in said["broken.png"] and said["broken.png"].strip() != "nothing to remove."


def test_a_reply_with_a_file_that_cannot_be_cleaned_is_asked_about_first(client, seeded):
    from support import FormClient

    assert submit_with(client, {"notes.txt": b"words"}).status_code == 302
    sent = client.get("/report/sent", headers=EN).get_data(as_text=True)
    receipt = re.search(r'<p class="receipt"[^>]*><code>([^<]+)</code>', sent).group(1)
    reporter = FormClient(client)
    reporter.post_form("/follow-up", {"receipt": receipt})
    asked = reporter.post_form("/follow-up/case", {"body": "Kept words", "attachments": [
        (io.BytesIO(b"not really a picture"), "broken.png")]}, action="/follow-up/reply", headers=EN)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 400 and "broken.png: This file could not be read for cleaning" in page
    assert "Kept words" in page and 'name="send_uncleaned"' in page
    case = client.get("/follow-up/case", headers=EN).get_data(as_text=True)
    assert "broken.png" not in case  # nothing was sent
