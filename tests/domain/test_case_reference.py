"""Case references: readable, unambiguous, random, and found however typed."""
from portal.domain import case_reference


def test_a_reference_is_two_groups_of_unambiguous_characters():
    seen = {case_reference.new_reference() for _ in range(2000)}
    assert len(seen) == 2000  # random: no repeats among a few thousand
    for reference in seen:
        first, second = reference.split("-")
        assert len(first) == len(second) == 4
        assert not set(first + second) & set("01ILOU")


def test_typed_references_are_normalised_and_nonsense_is_refused():
    assert case_reference.normalise(" k7qm 4txp ") == "K7QM-4TXP"
    assert case_reference.normalise("K7QM4TXP") == "K7QM-4TXP"
    assert case_reference.normalise("K7QM-4TX") is None  # too short
    assert case_reference.normalise("K7QM-4TX0") is None  # 0 is not in the alphabet
    assert case_reference.normalise("") is None
