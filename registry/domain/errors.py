"""Domain errors: every refusal the rules can give, each carrying a message fit for an officer.

The web layer maps these to HTTP codes in one place (registry/web/errors.py); the CLI prints them.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal raised by the rules or the services."""

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    """The thing does not exist or lies outside the actor's region (both look the same)."""


class PermissionDenied(DomainError):
    """The actor's role does not allow the action."""


class Conflict(DomainError):
    """The change collides with the current state (duplicate, stale version, illegal event)."""


class StaleVersion(Conflict):
    """Someone else changed the record since the client read it."""


class IllegalTransition(Conflict):
    """The event is not allowed from the certification's current status."""


class RuleViolation(DomainError):
    """Input breaks a rule; `errors` maps each field to its messages (422)."""

    def __init__(self, errors: dict[str, list[str]], message: str | None = None) -> None:
        first = next(iter(errors.items()), ("", [""]))
        super().__init__(message or f"{first[0]}: {first[1][0]}")
        self.errors = errors

    @classmethod
    def on(cls, field: str, message: str) -> RuleViolation:
        """Build a violation of a single field."""
        return cls({field: [message]})


class PolicyError(DomainError):
    """A policy file is malformed: names the file, the key and the problem."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file, self.key, self.problem = file, key, problem


class CalendarDataMissing(DomainError):
    """The working-day calendar has no data for a year (holiday notice not yet loaded)."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"缺少 {year} 年节假日数据，请管理员录入国务院办公厅 {year} 年部分节假日安排通知"
            f" / no holiday data for {year}: load that year's State Council notice into the"
            " holiday override table",
            year=year,
        )
        self.year = year
