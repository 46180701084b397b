"""Password policy (等保 2.0 level 3 identity items): length, character classes, history, expiry. Pure.

The defaults are the floors: at least 10 characters drawn from at least three of the four classes
(lower-case letters, upper-case letters, digits, other characters), none of the last 5 passwords
again, a change every 90 days. Settings (REGISTRY_PASSWORD_*) may only make them stricter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

CLASS_NAMES = ("小写字母", "大写字母", "数字", "其他字符")


@dataclass(frozen=True)
class PasswordPolicy:
    """What a new password must satisfy, and how long it lasts."""

    min_length: int = 10
    min_classes: int = 3
    history: int = 5  #: a new password may not equal any of the user's last `history` passwords
    max_age_days: int = 90


def classes(password: str) -> int:
    """Return how many of the four character classes `password` uses."""
    return sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                any(c.isdigit() for c in password), any(not c.isalnum() for c in password)))


def problem(password: str, policy: PasswordPolicy, *, username: str = "") -> str | None:
    """Return why `password` is refused (Chinese, naming the field), or None when it is acceptable."""
    if len(password) < policy.min_length:
        return f"新密码至少 {policy.min_length} 位"
    if classes(password) < policy.min_classes:
        return f"新密码须包含{'、'.join(CLASS_NAMES)}中的至少 {policy.min_classes} 类"
    if username and username.lower() in password.lower():
        return "新密码不得包含用户名"
    if password != password.strip():
        return "新密码首尾不得有空格"
    return None


def expired(changed_at: datetime | None, now: datetime, policy: PasswordPolicy) -> bool:
    """True when a password set at `changed_at` (None: never recorded) is past its maximum age at `now`."""
    return changed_at is None or now - changed_at >= timedelta(days=policy.max_age_days)
