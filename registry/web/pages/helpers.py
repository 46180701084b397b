"""Template helpers: navigation, Chinese names of roles, regions, tiers, statuses."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from flask import Flask, g, request

from registry.domain.actors import ROLE_NAMES, Action, Role, can
from registry.domain.errors import RuleViolation
from registry.domain.lifecycle import EVENT_NAMES, STATUS_NAMES, Event, Status
from registry.platform.bounds import MAX_PAGE, MAX_YEAR, MIN_YEAR
from registry.platform.extensions import get_session, policies
from registry.regions.reference import region_names

#: (endpoint, label, actions any of which shows it) — a page appears in the menu once its module registers it
NAV = [
    ("pages.dashboard", "工作台", (Action.READ,)),
    ("pages.todo", "待办", (Action.WRITE,)),
    ("pages.roster", "企业名录", (Action.READ,)),
    ("pages.reminders", "提醒", (Action.READ,)),
    ("pages.inbox", "站内消息", (Action.READ,)),
    ("pages.imports", "导入", (Action.IMPORT,)),
    ("pages.proposals", "待确认事项", (Action.CONFIRM,)),
    ("pages.audit", "审计日志", (Action.READ_AUDIT, Action.READ_SECURITY)),
    ("pages.pools", "培育库", (Action.READ,)),
    ("pages.batches", "申报批次", (Action.READ,)),
    ("pages.deadline_overrides", "截止日期调整", (Action.WRITE,)),
    ("pages.accounts", "账号管理", (Action.VIEW_ACCOUNTS,)),
    ("pages.security_policy_page", "安全策略", (Action.SET_SECURITY_POLICY, Action.VIEW_ACCOUNTS)),
]


def page_arg(name: str = "page") -> int:
    """The `page` (or `name`) query argument, clamped to 1 … MAX_PAGE (a bookmarked or typed page never errs)."""
    return min(max(request.args.get(name, 1, type=int), 1), MAX_PAGE)


def year_arg(name: str = "year") -> int | None:
    """An optional year in the query string. :raises RuleViolation: not a year within MIN_YEAR … MAX_YEAR."""
    written = (request.args.get(name) or "").strip()
    if not written:
        return None
    if not (written.isascii() and written.isdigit() and MIN_YEAR <= int(written) <= MAX_YEAR):
        raise RuleViolation.on(name, f"年度应为 {MIN_YEAR} 到 {MAX_YEAR} 之间的四位年份 / year must be {MIN_YEAR}–{MAX_YEAR}")
    return int(written)


def nav_items() -> list[tuple[str, str]]:
    """Return the menu entries the current actor may see and that exist."""
    from flask import current_app

    endpoints = set(current_app.view_functions)
    actor = g.get("actor")
    return [(e, label) for e, label, actions in NAV
            if e in endpoints and actor and any(can(actor, a) for a in actions)]


@lru_cache(maxsize=1)
def _regions_cache(_key: int) -> dict[str, str]:
    return region_names(get_session())


def region_name(code: str | None) -> str:
    """Return a region's Chinese name (全国 for 000000)."""
    if not code:
        return ""
    if code == "000000":
        return "全国"
    return _regions_cache(0).get(code, code)


def tier_name(code: str) -> str:
    """Return a tier's Chinese name."""
    try:
        return policies().tier(code).name
    except Exception:  # noqa: BLE001  an unknown code is shown as itself
        return code


def page_count(total: int, per_page: int) -> int:
    """Return how many pages `total` rows fill (at least one, the empty page)."""
    return max(-(-total // per_page), 1)


def clamped_page(fetch: Callable[[int], tuple[list, int]], page: int, per_page: int) -> tuple[list, int, int, int]:
    """Fetch `page`; past the end, fetch the last page instead, so the pager never says "第 61 / 60 页".

    Returns (rows, total, page, pages).
    """
    rows, total = fetch(page)
    pages = page_count(total, per_page)
    if page > pages:
        page = pages
        rows, total = fetch(page)
        pages = page_count(total, per_page)
    return rows, total, page, pages


def init_app(app: Flask) -> None:
    """Expose the helpers to every template."""
    app.jinja_env.globals.update(
        nav_items=nav_items, region_name=region_name, tier_name=tier_name,
        role_name=lambda r: ROLE_NAMES.get(Role(r), r),
        status_name=lambda s: STATUS_NAMES.get(Status(s), s) if s in Status._value2member_map_ else s,
        event_name=lambda e: EVENT_NAMES.get(Event(e), "授予") if e in Event._value2member_map_ else "授予",
    )
