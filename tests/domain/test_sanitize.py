"""Story markup: a few tags survive, everything else is stripped, and the
editor gets back what the author typed."""
from portal.domain.sanitize import clean_story_html, editable_story


def test_scripts_attributes_and_links_are_stripped():
    cleaned = clean_story_html('<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:x">y</a></p>')
    assert cleaned == "<p>Hi alert(1)y</p>"


def test_an_edited_story_keeps_ampersands_and_angles_as_typed():
    typed = "<p>IT & ekonomi: 3 < 5 steg</p>"
    stored = clean_story_html(typed)
    assert "&amp;" in stored and "&lt;" in stored  # safe to render as it is
    assert editable_story(stored) == typed  # but the editor shows what was typed
    assert clean_story_html(editable_story(stored)) == stored  # and saving again changes nothing
