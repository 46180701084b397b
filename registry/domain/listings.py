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

LIST_KINDS = ("yearly_selection", "pool")
REPORT_EVERY = ("once", "year", "quarter")
REPORT_BY = ("enterprise", "office", "association")
LIST_KIND_NAMES = {"yearly_selection": "年度遴选名单", "pool": "培育库（入库、出库）"}
REPORT_EVERY_NAMES = {"once": "入选后一次", "year": "每年", "quarter": "每季度"}
REPORT_BY_NAMES = {"enterprise": "企业", "office": "主管部门", "association": "行业协会"}


@dataclass(frozen=True)
class Cited:
    """Where an item comes from (the same four facts as `policy.Provenance`, kept here to stay acyclic)."""

    source: str = ""
    quote: str = ""
    assumed: bool = False
    note: str = ""


@dataclass(frozen=True)
class Listing:
    """A tier that is a list: a yearly selection, or a pool with entry and exit."""

    kind: str
    exit: str = ""  #: when an enterprise leaves the list (besides the end of its listing)
    cited: Cited = field(default_factory=Cited)

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
    cited: Cited = field(default_factory=Cited)


@dataclass(frozen=True)
class PeriodicReport:
    """A report due once after listing, every year by a month-day, or every quarter after it ends."""

    code: str
    name: str
    every: str  #: once | year | quarter
    by: str  #: enterprise | office | association
    due: tuple[int, int] | None = None  #: (month, day) of the year, for `every = "year"`
    days_after: int | None = None  #: days after the quarter's end or the listing, for quarter / once
    cited: Cited = field(default_factory=Cited)

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
