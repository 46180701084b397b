"""Yearly lists, recommendation channels and periodic reports of a programme (issue 17).

Selections without a validity lifecycle of their own — 重点"小巨人" (浙经信企业〔2021〕112号), the
Zhejiang 隐形冠军培育库 (浙经信企创〔2016〕234号) and 雏鹰行动 pool (浙政办发〔2019〕28号), the 单项冠军
储备库, 绿色工厂 at each level, Chongqing's 领军企业 / 链主 (渝府办发〔2021〕80号) — are tiers of a
policy file like any title, run through the same pipeline (criteria → pool → batch → decision).
What they add is stated in three optional tables of a tier, read by `registry.domain.policy`:

- `[tiers.list]` — the kind of list (a yearly selection 择优遴选, or a pool 培育库 with entry and
  exit) and its exit rule;
- `[[tiers.channels]]` — a recommendation channel and its quota per recommending unit (each
  中央企业 at most 3; each 行业协会 at most 10 / 2), and who is outside the quota;
- `[[tiers.reports]]` — a report the listed enterprise or the office files: yearly by a month-day
  (the 234号 发展情况报告 by the end of March), quarterly some days after the quarter, or once after
  listing (the 一企一策 plan).

Every item carries its source (document and quote) or `assumed = true` with a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from registry.domain.errors import RuleViolation
from registry.domain.provenance import Provenance

LIST_KINDS = ("yearly_selection", "pool")
REPORT_EVERY = ("once", "year", "quarter")
REPORT_BY = ("enterprise", "office", "association")
LIST_KIND_NAMES = {"yearly_selection": "年度遴选名单", "pool": "培育库（入库、出库）"}
REPORT_EVERY_NAMES = {"once": "入选后一次", "year": "每年", "quarter": "每季度"}
REPORT_BY_NAMES = {"enterprise": "企业", "office": "主管部门", "association": "行业协会"}


@dataclass(frozen=True)
class Listing:
    """A tier that is a list: a yearly selection, or a pool with entry and exit."""

    kind: str
    exit: str = ""  #: when an enterprise leaves the list (besides the end of its listing)
    cited: Provenance = field(default_factory=Provenance)

    @property
    def kind_name(self) -> str:
        return LIST_KIND_NAMES[self.kind]


@dataclass(frozen=True)
class Channel:
    """A recommendation channel: who recommends (each unit of `unit`), and how many at most."""

    code: str
    name: str
    unit: str  #: the kind of recommending unit, e.g. 中央企业, 行业协会
    quota: int | None  #: at most this many per unit and batch (None: no quota)
    outside_quota: str = ""  #: who applies through the channel without using its quota ("" : nobody)
    cited: Provenance = field(default_factory=Provenance)


@dataclass(frozen=True)
class PeriodicReport:
    """A report due once after listing, every year by a month-day, or every quarter after it ends."""

    code: str
    name: str
    every: str  #: once | year | quarter
    by: str  #: enterprise | office | association
    due: tuple[int, int] | None = None  #: (month, day) of the year, for `every = "year"`
    days_after: int | None = None  #: days after the quarter's end or the listing, for quarter / once
    cited: Provenance = field(default_factory=Provenance)

    def due_on(self, year: int, quarter: int | None = None, *, listed_on: date | None = None) -> date:
        """Return the last day to file the report for `year` (and `quarter`), or after `listed_on`.

        A yearly month-day of 29 February falls on 28 February in a common year.
        :raises RuleViolation: the period does not fit the report's rhythm.
        """
        if self.every == "year":
            assert self.due is not None
            month, day = self.due
            if (month, day) == (2, 29) and not _leap(year):
                day = 28
            return date(year, month, day)
        if self.every == "quarter":
            if quarter not in (1, 2, 3, 4):
                raise RuleViolation.on("quarter", f"季度应为1至4；得到 {quarter}")
            return quarter_end(year, quarter) + timedelta(days=self.days_after or 0)
        if listed_on is None:
            raise RuleViolation.on("listed_on", f"“{self.name}”自入选之日起算，须给出入选日期")
        return listed_on + timedelta(days=self.days_after or 0)

    def overdue(self, filed_on: date | None, today: date, year: int, quarter: int | None = None,
                *, listed_on: date | None = None) -> bool:
        """Tell whether the report for the period is late: not filed (or filed) after its due day."""
        due = self.due_on(year, quarter, listed_on=listed_on)
        return (filed_on or today) > due


def report_period(report: PeriodicReport, year: int, quarter: int | None = None) -> str:
    """Return the key of a filing period: "once", "2027" or "2027Q1"."""
    if report.every == "once":
        return "once"
    if report.every == "year":
        return str(year)
    if quarter not in (1, 2, 3, 4):
        raise RuleViolation.on("quarter", f"季度应为1至4；得到 {quarter}")
    return f"{year}Q{quarter}"


def parse_period(report: PeriodicReport, text: str) -> tuple[int, int | None]:
    """Read a period key written by an officer ("2027", "2027Q1", "once") for `report`.

    :raises RuleViolation: on the field `period`, the text does not fit the report's rhythm.
    """
    text = (text or "").strip().upper()
    if report.every == "once":
        if text not in ("", "ONCE"):
            raise RuleViolation.on("period", f"“{report.name}”入选后只报一次，报告期应留空；得到 {text}")
        return 0, None
    if report.every == "year":
        if len(text) == 4 and text.isdecimal() and int(text) >= 1990:
            return int(text), None
        raise RuleViolation.on("period", f"“{report.name}”按年报送，报告期应为年份，如 2027；得到 {text or '空'}")
    if len(text) == 6 and text[:4].isdecimal() and text[4] == "Q" and text[5] in "1234" and int(text[:4]) >= 1990:
        return int(text[:4]), int(text[5])
    raise RuleViolation.on("period", f"“{report.name}”按季度报送，报告期应写作 2027Q1；得到 {text or '空'}")


def period_begun(report: PeriodicReport, year: int, quarter: int | None, today: date) -> bool:
    """Tell whether the period has begun by `today`; a filing for a period still in the future is refused."""
    if report.every == "once":
        return True
    if report.every == "year":
        return today >= date(year, 1, 1)
    assert quarter is not None
    return today >= date(year, 3 * quarter - 2, 1)


def next_due_report(report: PeriodicReport, listed_on: date, filed: set[str] | frozenset[str],
                    today: date) -> tuple[str, date] | None:
    """Return the earliest unfiled period of `report` for a title listed on `listed_on`, and its due day.

    Periods start with the one the listing falls in (a quarter ending after the listing, the listing's
    year); a once-only report is due `days_after` days after the listing. None once a once-only report
    is filed. The period returned may be overdue (its day before `today`) or still to come.
    """
    if report.every == "once":
        return None if "once" in filed else ("once", report.due_on(0, listed_on=listed_on))
    if report.every == "year":
        year = listed_on.year
        while str(year) in filed:
            year += 1
        return str(year), report.due_on(year)
    year, quarter = listed_on.year, (listed_on.month - 1) // 3 + 1
    while f"{year}Q{quarter}" in filed:
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return f"{year}Q{quarter}", report.due_on(year, quarter)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def quarter_end(year: int, quarter: int) -> date:
    """Return the last day of `quarter` of `year`."""
    if quarter == 4:
        return date(year, 12, 31)
    return date(year, 3 * quarter + 1, 1) - timedelta(days=1)


def check_channel_room(channel: Channel, unit_name: str, used: int, *, outside_quota: bool) -> None:
    """Refuse one more application through `channel` for `unit_name` when `used` already fill its quota.

    `used` counts the unit's applications in the batch that take a place (not those outside the
    quota). An application outside the quota is accepted only where the channel says who is.
    :raises RuleViolation: over the quota, or outside it where the text allows nobody.
    """
    if outside_quota:
        if not channel.outside_quota:
            raise RuleViolation.on("outside_quota", f"“{channel.name}”没有不占名额的情形，不能标为名额外")
        return
    if channel.quota is not None and used >= channel.quota:
        raise RuleViolation.on("channel_unit", f"{channel.unit}“{unit_name}”通过“{channel.name}”的推荐已达"
                                               f"上限 {channel.quota} 家（已有 {used} 家），不能再推荐")
