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


@pytest.mark.parametrize(("text", "other"), [
    ("Cɑrin Berg", "Carin Berg"), ("ᴄarin Berg", "Carin Berg"), ("Carı̇n Berg", "Carin Berg"),
    ("lda Lind", "Ida Lind"), ("Kirn Ek", "Kim Ek"), ("Carin\u034f Berg", "Carin Berg"),
    ("Carin\ufe00 Berg", "Carin Berg"), ("Carin\u3164Berg", "Carin Berg"), ("Carin\u2800Berg", "Carin Berg"),
])
def test_the_second_reviews_lookalikes_are_caught(text, other):
    """Second review: these passed the hand-made table."""
    assert names.refusal(text, [other]) == names.LOOKALIKE


def test_a_script_the_table_did_not_list_is_still_mixed():
    assert names.refusal("ꓚarin Berg", []) == names.MIXED_SCRIPTS  # Lisu


@pytest.mark.parametrize(("text", "other"), [("Åsa Öberg", "Asa Oberg"), ("Zoë Ångström", "Zoe Angstrom"),
                                             ("Anna", "Hanna"), ("Łukasz Żółć", "Lukasz Zolc")])
def test_real_names_that_differ_are_not_lookalikes(text, other):
    assert names.refusal(text, [other]) is None
