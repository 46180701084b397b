"""The transition table: every (status, event) pair allowed or refused as the table says."""

import pytest

from registry.domain.errors import IllegalTransition
from registry.domain.lifecycle import (
    ENDED,
    LIVE,
    TRANSITIONS,
    Event,
    Outcome,
    Status,
    allowed_events,
    check_transition,
    resolve_target,
)

EXPECTED = {
    (Status.ACTIVE, Event.SUBMIT_REVIEW): Status.UNDER_REVIEW,
    # issue 14: a review's result only for a review under way (never straight from active)
    (Status.UNDER_REVIEW, Event.PASS_REVIEW): Status.ACTIVE,
    (Status.UNDER_REVIEW, Event.FAIL_REVIEW): Outcome.BY_POLICY,
    **{(s, Event.REVOKE): Status.REVOKED for s in LIVE},
    **{(s, Event.WITHDRAW): Status.WITHDRAWN for s in LIVE},
    **{(s, Event.EXPIRE): Status.EXPIRED for s in LIVE},
    **{(s, Event.DOWNGRADE): Status.SUPERSEDED for s in LIVE},
    **{(s, Event.SUPERSEDE): Status.SUPERSEDED for s in LIVE},
}


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("event", list(Event))
def test_every_pair_is_allowed_or_refused_as_expected(status, event):
    if (status, event) in EXPECTED:
        assert check_transition(status, event) == EXPECTED[(status, event)]
    else:
        with pytest.raises(IllegalTransition) as err:
            check_transition(status, event)
        assert err.value.details["status"] == status.value
        assert event.value in err.value.message


def test_ended_titles_allow_nothing():
    for status in ENDED:
        assert allowed_events(status) == []


def test_under_review_cannot_be_submitted_again():
    assert Event.SUBMIT_REVIEW not in allowed_events(Status.UNDER_REVIEW)


def test_every_event_is_in_the_table():
    assert set(TRANSITIONS) == set(Event)


def test_policy_decides_failed_review():
    assert resolve_target(Outcome.BY_POLICY, "revoke") == Status.REVOKED
    assert resolve_target(Outcome.BY_POLICY, "expire") == Status.EXPIRED
    assert resolve_target(Status.WITHDRAWN, "revoke") == Status.WITHDRAWN


def test_a_refused_event_reports_status_action_and_what_is_allowed():
    """The 409 body tells the client what it may do instead (mutation survivors, docs/mutation.md)."""
    with pytest.raises(IllegalTransition) as err:
        check_transition(Status.ACTIVE, Event.PASS_REVIEW)
    assert err.value.message == "称号当前状态为「有效」，不能执行「复核通过」 / pass_review is not allowed from active"
    assert err.value.details == {
        "status": "active", "action": "pass_review",
        "allowed": ["submit_review", "revoke", "withdraw", "expire", "downgrade", "supersede"]}
    with pytest.raises(IllegalTransition) as err:
        check_transition(Status.EXPIRED, Event.REVOKE)
    assert err.value.details == {"status": "expired", "action": "revoke", "allowed": []}
