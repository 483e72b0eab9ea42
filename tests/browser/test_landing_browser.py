import pytest

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale, heading, door", [
    ("sv-SE", "Berätta vad som står i vägen för ett bra arbete", "Rapportera ett hinder"),
    ("en-GB", "Tell us what stands in the way of good work", "Report an obstacle"),
])
def test_landing_page_without_javascript(live_server, nojs_context_factory, locale, heading, door):
    page = nojs_context_factory(locale).new_page()
    loaded = []
    page.on("response", lambda r: loaded.append((r.url, r.status)))
    response = page.goto(live_server.url + "/")
    assert response.status == 200
    assert page.locator("h1").inner_text() == heading
    assert page.get_by_role("link", name=door).first.is_visible()
    # Everything the page pulls in comes from this origin and loads under the CSP.
    assert any(url.endswith("/static/tillit.css") and status == 200 for url, status in loaded)
    assert all(url.startswith(live_server.url) for url, _status in loaded)


def test_language_switch_works_without_javascript(live_server, nojs_context_factory):
    page = nojs_context_factory("sv-SE").new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Tell us what stands in the way of good work"


@pytest.mark.parametrize("locale", ["sv-SE", "en-GB"])
def test_landing_page_has_no_wcag_violations(live_server, axe_violations, locale):
    assert axe_violations(live_server.url + "/", locale) == []


@pytest.mark.parametrize("path", ["/insights", "/no-such-page"])
def test_other_pages_have_no_wcag_violations(live_server, axe_violations, path):
    assert axe_violations(live_server.url + path, "sv-SE") == []
