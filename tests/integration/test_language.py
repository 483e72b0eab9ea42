"""Language follows Accept-Language; the visible switch overrides it."""


def test_accept_language_picks_the_language(client):
    swedish = client.get("/", headers={"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"}).get_data(as_text=True)
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(as_text=True)
    assert '<html lang="sv">' in swedish and "Rapportera ett hinder" in swedish
    assert '<html lang="en">' in english and "Report an obstacle" in english


def test_unknown_language_falls_back_to_swedish(client):
    page = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="sv">' in page


def test_switch_sets_the_language_and_returns_to_the_page(client):
    response = client.post_form("/insights", {"lang": "en", "next": "/insights"}, action="/language",
                                headers={"Accept-Language": "sv"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/insights"
    page = client.get("/insights", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert '<html lang="en">' in page


def test_switch_refuses_to_redirect_off_site(client):
    # A tab or newline is dropped or refused when the Location header is
    # written: "/<tab>/evil.example" would leave as "//evil.example".
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example/x",
                   "/\n/evil.example", "/\r\n//evil.example", "/ /evil.example", "/\x7f/evil.example"):
        response = client.post_form("/", {"lang": "en", "next": target}, action="/language")
        assert response.status_code == 302
        assert response.headers["Location"] == "/"


def test_switch_ignores_unknown_languages(client):
    client.post_form("/", {"lang": "xx", "next": "/"}, action="/language")
    page = client.get("/", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert '<html lang="sv">' in page


def test_switch_is_a_post_form_visible_on_every_page(client):
    page = client.get("/").get_data(as_text=True)
    assert 'action="/language"' in page and 'method="post"' in page
    assert 'value="en"' in page and 'value="sv"' in page
