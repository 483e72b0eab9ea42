"""Names reporters and the anchor's holder read to decide whom to trust:
nothing invisible in them, and no two that pass for one another."""
import pytest

from portal.domain import names


def test_invisible_characters_go_and_spaces_collapse():
    assert names.clean("  Carin\u202e Berg\u200b\x1b\x00 \t\n ") == "Carin Berg"
    assert names.clean("Åsa\u00a0Öberg") == "Åsa Öberg"  # a no-break space is a space
    assert names.clean("A\u030angström") == "Ångström"  # composed, as typed on another keyboard


@pytest.mark.parametrize("text", ["Visselblåsarfunktionеn", "Саrin Berg", "Pаul"])  # Cyrillic е, С, а
def test_a_word_that_mixes_alphabets_is_found(text):
    assert names.mixed_scripts(text)
    assert names.refusal(text, []) == names.MIXED_SCRIPTS


@pytest.mark.parametrize("text", ["Carin Berg", "Åsa Öberg-Ås", "Ольга Петрова", "IT-avdelningen 2"])
def test_a_name_in_one_alphabet_per_word_passes(text):
    assert not names.mixed_scripts(text) and names.refusal(text, ["Someone Else"]) is None


@pytest.mark.parametrize("text", ["carin berg", "CARIN  BERG", "Carin\u200b Berg", "Ｃarin Berg", " Carin Berg\u202e"])
def test_names_that_pass_for_one_another_are_refused(text):
    assert names.refusal(text, ["Nils Holm", "Carin Berg"]) == names.LOOKALIKE


def test_a_clearly_different_name_is_not_a_lookalike():
    assert names.refusal("Carin B. Berg", ["Carin Berg"]) is None
