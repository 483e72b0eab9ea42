import pytest

from portal.domain.routing import ExclusionError, NoRouteError, Rule, choose_channel, recipients_after_exclusion


RULES = [
    Rule("obstacle", None, None, "general"),
    Rule("obstacle", "it_systems", None, "it"),
    Rule("obstacle", "it_systems", "supervisory_authority", "it-external"),
    Rule("misconduct", None, None, "whistle", priority=50),
    Rule("misconduct", None, None, "whistle-backup", priority=90),
]


@pytest.mark.parametrize("track, category, level, channel", [
    ("obstacle", "reporting_burden", None, "general"),
    ("obstacle", "it_systems", "own_unit", "it"),
    ("obstacle", "it_systems", "supervisory_authority", "it-external"),
    ("misconduct", "fraud", None, "whistle"),
])
def test_most_specific_rule_wins(track, category, level, channel):
    assert choose_channel(RULES, track, category, level) == channel


def test_no_rule_is_an_error():
    with pytest.raises(NoRouteError):
        choose_channel(RULES[:3], "misconduct", "fraud")


def test_exclusions_keep_at_least_one_handler():
    assert recipients_after_exclusion(["a", "b", "c"], {"b"}) == ["a", "c"]
    with pytest.raises(ExclusionError):
        recipients_after_exclusion(["a", "b"], {"a", "b"})


def test_cannot_exclude_someone_outside_the_channel():
    with pytest.raises(ExclusionError):
        recipients_after_exclusion(["a", "b"], {"z"})


def test_one_who_can_read_at_once_must_remain_unless_the_report_may_wait():
    assert recipients_after_exclusion(["a", "b"], {"a"}, readers=["b"]) == ["b"]
    with pytest.raises(ExclusionError):  # b remains, but cannot read yet
        recipients_after_exclusion(["a", "b"], {"a"}, readers=["a"])
    assert recipients_after_exclusion(["a", "b"], {"a"}, readers=["a"], may_wait=True) == ["b"]
    with pytest.raises(ExclusionError):
        recipients_after_exclusion(["a", "b"], {"a", "b"}, readers=[], may_wait=True)
