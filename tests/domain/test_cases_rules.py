import datetime as dt

import pytest

from portal.domain import cases
from portal.domain.taxonomy import STATUS_ACKNOWLEDGED, STATUS_CLOSED, STATUS_IN_PROGRESS, STATUS_NEW


@pytest.mark.parametrize("received, due", [
    (dt.date(2026, 1, 28), dt.date(2026, 2, 4)),
    (dt.date(2026, 12, 29), dt.date(2027, 1, 5)),
    (dt.date(2028, 2, 25), dt.date(2028, 3, 3)),  # leap year
])
def test_acknowledgement_is_due_seven_days_after_receipt(received, due):
    assert cases.acknowledge_due(received) == due


@pytest.mark.parametrize("acknowledged, due", [
    (dt.date(2026, 1, 15), dt.date(2026, 4, 15)),
    (dt.date(2026, 11, 30), dt.date(2027, 2, 28)),   # clamps to the shorter month
    (dt.date(2027, 11, 30), dt.date(2028, 2, 29)),   # leap day
    (dt.date(2026, 8, 31), dt.date(2026, 11, 30)),
    (dt.date(2026, 10, 31), dt.date(2027, 1, 31)),   # over the year end
])
def test_feedback_is_due_three_calendar_months_after_acknowledgement(acknowledged, due):
    assert cases.feedback_due(acknowledged) == due


def test_workflow_allows_the_documented_path_and_reopening():
    cases.check_transition(STATUS_NEW, STATUS_ACKNOWLEDGED)
    cases.check_transition(STATUS_ACKNOWLEDGED, STATUS_IN_PROGRESS)
    cases.check_transition(STATUS_IN_PROGRESS, STATUS_CLOSED, "removed")
    cases.check_transition(STATUS_CLOSED, STATUS_IN_PROGRESS)


@pytest.mark.parametrize("current, target, outcome", [
    (STATUS_NEW, STATUS_CLOSED, "removed"),        # must acknowledge first
    (STATUS_NEW, STATUS_IN_PROGRESS, None),
    (STATUS_IN_PROGRESS, STATUS_CLOSED, None),      # closing needs an outcome
    (STATUS_IN_PROGRESS, STATUS_CLOSED, "bogus"),
    (STATUS_ACKNOWLEDGED, STATUS_IN_PROGRESS, "removed"),
    (STATUS_CLOSED, STATUS_CLOSED, "removed"),
])
def test_workflow_rejects_other_moves(current, target, outcome):
    with pytest.raises(cases.TransitionError):
        cases.check_transition(current, target, outcome)


@pytest.mark.parametrize("track, outcome", [("obstacle", "confirmed"), ("obstacle", "unfounded"),
                                            ("misconduct", "removed"), ("misconduct", "changed")])
def test_a_case_closes_only_with_an_outcome_of_its_own_track(track, outcome):
    with pytest.raises(cases.TransitionError):
        cases.check_transition(STATUS_IN_PROGRESS, STATUS_CLOSED, outcome, track)
    cases.check_transition(STATUS_IN_PROGRESS, STATUS_CLOSED, "referred", track)  # shared by both
