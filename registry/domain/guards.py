"""Guards: the one place that decides whether a fact may be recorded on a date.

Every path that writes a fact — the API, the pages, the CLI, an import, the daily scan — goes
through a service that asks these functions, so a refusal reads the same everywhere:

- a fact (a grant, an event, an annual report, a change or its report, an objection received, a
  list published) is never dated after today (Asia/Shanghai, injected by the caller), and no event
  of a title before its recognition or before the title's latest recorded event; plans (a batch's
  deadlines, a publicity window still running, a report's due date) may lie ahead;
- a review is submitted only inside the review window: the `review_window_days` before the
  validity ends, whose last day — the validity's last day — moves off a statutory rest day
  (民法典第二百零三条; the validity end date itself does not move); for a policy whose review
  follows expiry (review.timing = "after_expiry") the `review_after_expiry_days` after it;
- a review is refused while the title has lost review eligibility, and for a tier that requires
  an audit report 验证码 (财办会〔2024〕15号) when the last annual report carries none; the message
  says why and gives the window's dates;
- pass/fail only from `under_review` (lifecycle.TRANSITIONS), so once per term: the submission is
  tied to the current term's window, and a pass starts the next term;
- annual figures are plausible (`check_annual_figures`: errors refuse, warnings are shown).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from registry.domain import deadlines
from registry.domain.errors import IllegalTransition, RuleViolation
from registry.domain.lifecycle import EVENT_NAMES, Event, Outcome, Status, check_transition
from registry.domain.policy import Tier
from registry.domain.workdays import Provisional, WorkdayCalendar, next_workday_on_or_after

SHANGHAI = "Asia/Shanghai"


def local_today(at: datetime, tz: str = SHANGHAI) -> date:
    """Return the calendar day of the instant `at` in `tz` (a naive `at` is taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo("UTC"))
    return at.astimezone(ZoneInfo(tz)).date()


def check_not_future(field: str, label: str, on: date, today: date) -> None:
    """Refuse a fact dated after `today`. :raises RuleViolation: naming `field`."""
    if on > today:
        raise RuleViolation.on(field, f"{label}（{on}）晚于今天（{today}）：已发生的事项不能登记为将来的日期"
                                      f" / {field} {on} is after today {today}")


def check_not_before(field: str, label: str, on: date, earliest: date, what: str) -> None:
    """Refuse a date before `earliest` (what: the earlier fact, e.g. "认定日期"). :raises RuleViolation:"""
    if on < earliest:
        raise RuleViolation.on(field, f"{label}（{on}）早于{what}（{earliest}） / {field} {on} is before {earliest}")


# ------------------------------------------------------------------------------ review window

@dataclass(frozen=True)
class ReviewWindow:
    """The days on which a review may be submitted, both ends included."""

    opens: date
    closes: date
    after_expiry: bool = False
    provisional: bool = False  #: `closes` was moved off rest days without the year's holiday data

    def contains(self, day: date) -> bool:
        """Tell whether a review submitted on `day` is in time."""
        return self.opens <= day <= self.closes

    def text(self) -> str:
        """The window in Chinese, e.g. "复核窗口为 2026-03-17 至 2026-06-15"."""
        kind = "（有效期届满后评估复核）" if self.after_expiry else ""
        mark = "（截止日暂定：缺少节假日数据）" if self.provisional else ""
        return f"复核窗口为 {self.opens} 至 {self.closes}{kind}{mark}"


def review_window(tier: Tier, valid_until: date | None, cal: WorkdayCalendar) -> ReviewWindow | None:
    """Return the review window of a term ending `valid_until` (None: the tier has no review)."""
    if valid_until is None:
        return None
    guessing = Provisional(cal)
    if tier.review_timing == "after_expiry":
        days = tier.review_after_expiry_days or 0
        closes = next_workday_on_or_after(guessing, valid_until + timedelta(days=days))
        return ReviewWindow(valid_until + timedelta(days=1), closes, True, guessing.is_provisional)
    opens = deadlines.review_window_opens(tier, valid_until)
    if opens is None:
        return None
    closes = next_workday_on_or_after(guessing, valid_until)
    return ReviewWindow(opens, closes, False, guessing.is_provisional)


# ------------------------------------------------------------------------------ title events

@dataclass(frozen=True)
class TitleState:
    """What the guards read of a title (the service gathers it from the database)."""

    status: Status
    recognized_on: date
    valid_until: date | None
    review_eligible: bool = True
    ineligible_cause: str | None = None  #: in Chinese
    last_event_on: date | None = None  #: effective date of the title's latest recorded event
    submitted_on: date | None = None  #: when the review under way was submitted
    audit_code_ok: bool = True  #: the last annual report carries an audit-report 验证码


def _refuse(event: Event, message: str) -> RuleViolation:
    return RuleViolation.on("action", f"不能「{EVENT_NAMES[event]}」：{message}")


def check_event(tier: Tier, title: TitleState, event: Event, on: date, today: date,
                window: ReviewWindow | None) -> Status | Outcome:
    """Return the target of `event` on `on`, or refuse it. :raises IllegalTransition, RuleViolation:"""
    target = check_transition(title.status, event)
    label = f"「{EVENT_NAMES[event]}」的生效日期"
    check_not_future("effective_on", label, on, today)
    check_not_before("effective_on", label, on, title.recognized_on, "认定日期")
    if title.last_event_on is not None:
        check_not_before("effective_on", label, on, title.last_event_on, "该称号最近一次登记的事项日期")
    if event == Event.SUBMIT_REVIEW:
        _check_submission(tier, title, on, window)
    elif event in (Event.PASS_REVIEW, Event.FAIL_REVIEW):
        if title.submitted_on is None:
            raise _refuse(event, "该称号没有进行中的复核（须先「提交复核」）")
        check_not_before("effective_on", label, on, title.submitted_on, "提交复核日期")
        if event == Event.PASS_REVIEW and not title.review_eligible:
            raise _refuse(event, f"该称号已丧失复核资格（{title.ineligible_cause or '原因未记录'}）")
    return target


def check_incident(event: Event, incident_on: date | None, on: date, today: date) -> None:
    """A revocation's cause may carry the day the accident (or violation) happened: never after today,
    never after the revocation itself; no other event has one. :raises RuleViolation:"""
    if incident_on is None:
        return
    if event != Event.REVOKE:
        raise RuleViolation.on("incident_on", f"只有「撤销」可填写事故（违法行为）发生日期（本次为「{EVENT_NAMES[event]}」）"
                                              " / only a revocation has an incident date")
    label = "事故（违法行为）发生日期"
    check_not_future("incident_on", label, incident_on, today)
    if incident_on > on:
        raise RuleViolation.on("incident_on", f"{label}（{incident_on}）晚于撤销生效日期（{on}）"
                                              f" / incident_on {incident_on} is after the revocation {on}")


def _check_submission(tier: Tier, title: TitleState, on: date, window: ReviewWindow | None) -> None:
    event = Event.SUBMIT_REVIEW
    if window is None:
        raise _refuse(event, f"{tier.name}无固定有效期，不需复核")
    if not title.review_eligible:
        raise _refuse(event, f"该称号已丧失复核资格（{title.ineligible_cause or '原因未记录'}）；{window.text()}")
    if not window.contains(on):
        when = "尚未开始" if on < window.opens else "已经结束"
        raise _refuse(event, f"{on} 不在复核窗口内，窗口{when}；{window.text()}"
                             f" / outside the review window {window.opens}–{window.closes}")
    if tier.requires_audit_code and not title.audit_code_ok:
        raise _refuse(event, "最近一期年度报告的审计报告没有验证码（财办会〔2024〕15号：到期复核或者更新信息的，"
                             f"应当上传提交附有验证码的审计报告）；{window.text()}")


def allowed_now(tier: Tier, title: TitleState, today: date, window: ReviewWindow | None,
                candidates: tuple[Event, ...]) -> list[Event]:
    """The `candidates` that `check_event` would accept today (what a page offers)."""
    allowed = []
    for event in candidates:
        if event == Event.DOWNGRADE and not tier.downgrades_to:
            continue
        try:
            check_event(tier, title, event, today, today, window)
        except (RuleViolation, IllegalTransition):
            continue
        allowed.append(event)
    return allowed


# ------------------------------------------------------------------------------ annual figures

@dataclass(frozen=True)
class FigureCheck:
    """Warnings on plausible but unusual figures (errors are raised)."""

    warnings: tuple[str, ...] = ()


def _num(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def check_annual_figures(year: int, figures: dict[str, object], today: date) -> FigureCheck:
    """Refuse impossible annual figures, warn about unusual ones. :raises RuleViolation: every error by field.

    Errors (cannot be true): the year after this year; a filing date after today (a late filing
    is allowed: it only does not count as on time);
    R&D staff more than employees; main-business revenue more than revenue; the main product's
    sales more than main-business revenue (more than revenue when 主营 is not given): a product of
    the main business is part of it, and a larger figure would pass the product-share criteria on a
    share above 100 %; a debt ratio outside 0–100 %; a negative amount or count. Warnings
    (possible, worth a second look): R&D expense above revenue; no employees but revenue; a filing
    dated before the year it reports on ended; a main product's sales without the product's name.
    """
    errors: dict[str, list[str]] = {}

    def err(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if year > today.year:
        err("year", f"年度（{year}）晚于今年（{today.year}） / year after this year")
    submitted = figures.get("submitted_on")
    if isinstance(submitted, date):
        if submitted > today:
            err("submitted_on", f"填报日期（{submitted}）晚于今天（{today}） / submitted_on after today")
    values = {k: _num(figures.get(k)) for k in ("revenue", "main_business_revenue", "rd_expense", "employees",
                                                 "rd_staff", "debt_ratio", "invention_patents",
                                                 "main_product_revenue")}
    names = {"revenue": "营业收入", "main_business_revenue": "主营业务收入", "rd_expense": "研发费用",
             "employees": "从业人员数", "rd_staff": "研发人员数", "invention_patents": "发明专利数",
             "main_product_revenue": "主导产品销售收入"}
    for key, name in names.items():
        if values[key] is not None and values[key] < 0:
            err(key, f"{name}不能为负数（{values[key]}） / negative")
    revenue, main, rd = values["revenue"], values["main_business_revenue"], values["rd_expense"]
    employees, rd_staff, debt = values["employees"], values["rd_staff"], values["debt_ratio"]
    if rd_staff is not None and employees is not None and rd_staff > employees:
        err("rd_staff", f"研发人员数（{rd_staff}）多于从业人员数（{employees}） / rd_staff above employees")
    if main is not None and revenue is not None and main > revenue:
        err("main_business_revenue", f"主营业务收入（{main}）高于营业收入（{revenue}）"
                                     " / main-business revenue above revenue")
    product = values["main_product_revenue"]
    if product is not None and product >= 0:
        if main is not None and product > main:
            err("main_product_revenue", f"主导产品销售收入（{product}）高于主营业务收入（{main}）"
                                        " / main product's sales above main-business revenue")
        elif main is None and revenue is not None and product > revenue:
            err("main_product_revenue", f"主导产品销售收入（{product}）高于营业收入（{revenue}）"
                                        " / main product's sales above revenue")
    if debt is not None and not Decimal(0) <= debt <= Decimal(100):
        err("debt_ratio", f"资产负债率应在 0–100% 之间（填写为 {debt}%） / debt ratio outside 0–100")
    if errors:
        raise RuleViolation(errors)
    warnings = []
    if isinstance(submitted, date) and submitted.year <= year:
        warnings.append(f"填报日期（{submitted}）在所报年度（{year}）结束之前，请核实 / filed before its year ended")
    if rd is not None and revenue is not None and rd > revenue:
        warnings.append(f"研发费用（{rd}）高于营业收入（{revenue}），请核实 / R&D expense above revenue")
    if product is not None and not str(figures.get("main_product") or "").strip():
        warnings.append("填写了主导产品销售收入但未填主导产品名称，请补充 / main product's sales without its name")
    if employees == 0 and revenue is not None and revenue > 0:
        warnings.append("从业人员数为 0 但有营业收入，请核实 / revenue without employees")
    return FigureCheck(tuple(warnings))
