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


def _specificity(rule):
    return (rule.category is not None) + (rule.chain_level is not None)


@pytest.mark.parametrize("seed", range(40))
def test_every_combination_goes_where_the_most_specific_rule_says(seed):
    """Random rule sets over every category and level: the channel chosen
    comes from a matching rule, no matching rule is more specific, and none
    equally specific has a lower priority number."""
    import random

    from portal.domain.routing import preview
    from portal.domain.taxonomy import CATEGORIES, CHAIN_LEVELS

    rng = random.Random(seed)
    categories, levels = CATEGORIES["obstacle"], (None,) + CHAIN_LEVELS
    rules = [Rule("obstacle", rng.choice((None,) + categories), rng.choice(levels), f"c{i}",
                  priority=rng.randrange(5)) for i in range(rng.randrange(1, 8))]
    rules.append(Rule("misconduct", None, None, "other-track", priority=0))
    table = preview(rules, "obstacle", categories, levels)
    assert set(table) == {(c, lv) for c in categories for lv in levels}
    for (category, level), channel in table.items():
        matching = [r for r in rules if r.track == "obstacle" and r.category in (None, category)
                    and r.chain_level in (None, level)]
        if not matching:
            assert channel is None
            continue
        chosen = next(r for r in matching if r.channel_id == channel)
        assert not any(_specificity(r) > _specificity(chosen) for r in matching)
        assert not any(_specificity(r) == _specificity(chosen) and r.priority < chosen.priority for r in matching)
