"""The security policy a security administrator sets (issue 16 §4: secadmin "sets security policy").

The environment (REGISTRY_*) gives the operator's values; a security administrator may change them
in the application within the same bounds, which keep the 等保 level-3 values as floors: a password
of at least 10 characters in three of four classes, no reuse of the last 5, and so on. Only these
values are policy; everything else stays the operator's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from registry.domain.errors import RuleViolation


@dataclass(frozen=True)
class Rule:
    """One value of the policy: its Chinese label, unit and bounds (inclusive)."""

    label: str
    unit: str
    low: int
    high: int


#: the values a security administrator sets, with the bounds the environment settings have
#: (config/settings.py: _BOUNDED_SETTINGS and _INT_SETTINGS; the upper bounds of the session and login
#: values are assumed — no text gives them — at a day, a week and a thousand attempts)
RULES: dict[str, Rule] = {
    "password_min_length": Rule("密码最短长度", "个字符", 10, 128),
    "password_min_classes": Rule("密码须含字符种类（大写、小写、数字、其他）", "种", 3, 4),
    "password_history": Rule("不得重复使用最近的密码", "个", 5, 24),
    "password_max_age_days": Rule("密码有效期", "天", 1, 3650),
    "session_idle_minutes": Rule("无操作自动退出", "分钟", 1, 24 * 60),
    "session_max_hours": Rule("登录最长保持", "小时", 1, 7 * 24),
    "login_max_failures": Rule("同一账号连续登录失败锁定次数", "次", 1, 1000),
    "login_lock_minutes": Rule("账号锁定时长", "分钟", 1, 24 * 60),
    "login_ip_max_failures": Rule("同一地址登录失败限制次数", "次", 1, 1000),
    "second_factor_required_for_all": Rule("所有角色须使用双因素认证（0 否，1 是）", "", 0, 1),
}


def checked(values: dict[str, Any]) -> dict[str, int]:
    """Return `values` as whole numbers within their bounds; refuse an unknown name or a value outside them,
    naming the field in Chinese. :raises RuleViolation:"""
    errors: dict[str, list[str]] = {}
    clean: dict[str, int] = {}
    for name, value in values.items():
        rule = RULES.get(name)
        if rule is None:
            errors.setdefault(name, []).append("不是可设置的安全策略项")
            continue
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int):
            try:
                value = int(str(value).strip())
            except ValueError:
                errors.setdefault(name, []).append(f"{rule.label}应为整数")
                continue
        if not rule.low <= value <= rule.high:
            errors.setdefault(name, []).append(
                f"{rule.label}应在 {rule.low} 至 {rule.high}{rule.unit} 之间（等保三级的要求为下限）")
            continue
        clean[name] = value
    if errors:
        raise RuleViolation(errors)
    return clean
