"""The certification lifecycle: statuses, events and the one table of allowed transitions.

An event not in the table for the current status is refused (IllegalTransition → 409) and
changes nothing. Two targets depend on the title's policy: a failed review and a missed review
end the title as `expired` or `revoked`, as the tier's policy says (see `resolve_target`).
"""

from __future__ import annotations

from enum import StrEnum

from registry.domain.errors import IllegalTransition


class Status(StrEnum):
    """Where a certification stands."""

    ACTIVE = "active"
    UNDER_REVIEW = "under_review"
    EXPIRED = "expired"
    REVOKED = "revoked"
    WITHDRAWN = "withdrawn"
    SUPERSEDED = "superseded"


class Event(StrEnum):
    """What can happen to a certification (POST .../events `action`)."""

    SUBMIT_REVIEW = "submit_review"
    PASS_REVIEW = "pass_review"
    FAIL_REVIEW = "fail_review"
    REVOKE = "revoke"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"
    DOWNGRADE = "downgrade"
    SUPERSEDE = "supersede"


class Outcome(StrEnum):
    """A target that the tier's policy decides (expire or revoke)."""

    BY_POLICY = "by_policy"


LIVE = frozenset({Status.ACTIVE, Status.UNDER_REVIEW})
ENDED = frozenset(Status) - LIVE

#: event → (statuses it may start from, the status it leads to)
TRANSITIONS: dict[Event, tuple[frozenset[Status], Status | Outcome]] = {
    Event.SUBMIT_REVIEW: (frozenset({Status.ACTIVE}), Status.UNDER_REVIEW),
    # A result only for a review under way (issue 14): an office recording only the result first
    # records the submission (inside the window), so a pass can never come twice in one term.
    Event.PASS_REVIEW: (frozenset({Status.UNDER_REVIEW}), Status.ACTIVE),
    Event.FAIL_REVIEW: (frozenset({Status.UNDER_REVIEW}), Outcome.BY_POLICY),
    Event.REVOKE: (LIVE, Status.REVOKED),
    Event.WITHDRAW: (LIVE, Status.WITHDRAWN),
    Event.EXPIRE: (LIVE, Status.EXPIRED),
    Event.DOWNGRADE: (LIVE, Status.SUPERSEDED),
    Event.SUPERSEDE: (LIVE, Status.SUPERSEDED),
}

STATUS_NAMES = {
    Status.ACTIVE: "有效",
    Status.UNDER_REVIEW: "复核中",
    Status.EXPIRED: "已到期",
    Status.REVOKED: "已撤销",
    Status.WITHDRAWN: "已主动放弃",
    Status.SUPERSEDED: "已被替代",
}

EVENT_NAMES = {
    Event.SUBMIT_REVIEW: "提交复核",
    Event.PASS_REVIEW: "复核通过",
    Event.FAIL_REVIEW: "复核未通过",
    Event.REVOKE: "撤销",
    Event.WITHDRAW: "主动放弃",
    Event.EXPIRE: "到期",
    Event.DOWNGRADE: "降级为单项冠军产品",
    Event.SUPERSEDE: "被新名单替代",
}


def allowed_events(status: Status) -> list[Event]:
    """List the events allowed from `status`, in table order."""
    return [event for event, (sources, _) in TRANSITIONS.items() if status in sources]


def check_transition(status: Status, event: Event) -> Status | Outcome:
    """Return the target of `event` from `status`. :raises IllegalTransition: not allowed."""
    sources, target = TRANSITIONS[event]
    if status not in sources:
        raise IllegalTransition(
            f"称号当前状态为「{STATUS_NAMES[status]}」，不能执行「{EVENT_NAMES[event]}」"
            f" / {event.value} is not allowed from {status.value}",
            status=status.value,
            action=event.value,
            allowed=[e.value for e in allowed_events(status)],
        )
    return target


def resolve_target(target: Status | Outcome, policy_says: str) -> Status:
    """Turn a policy-decided target into a status (`policy_says` is "expire" or "revoke")."""
    if isinstance(target, Status):
        return target
    return Status.REVOKED if policy_says == "revoke" else Status.EXPIRED
