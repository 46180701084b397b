"""Checking a whole file before anything is written: rows merged per enterprise, scope, duplicates, eligibility.

Rows are grouped by USCC. An enterprise's fields may be repeated on several rows (one per title
or year) but must agree; a blank cell never clears a value. A title is the same title when USCC,
tier and 认定日期 agree: listed twice, it is a duplicate. New titles of one enterprise are
checked in order of recognition date (then rank), against the titles it holds in the registry
plus those granted earlier in the file, so a file may list 创新型 and 专精特新 together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from registry.domain import holders as holder_rules
from registry.domain import uscc as uscc_rules
from registry.domain.actors import Actor, in_scope
from registry.domain.deadlines import validity_end
from registry.domain.eligibility import Holding, check_grant
from registry.domain.errors import RuleViolation
from registry.domain.lifecycle import LIVE
from registry.domain.policy import Tier
from registry.policies.rules import Rules
from registry.roster.imports.columns import BY_FIELD, ENTERPRISE_FIELDS, REPORT_FIELDS
from registry.roster.imports.existing import Existing
from registry.roster.imports.problems import Problem
from registry.roster.imports.rows import Row, RowReader
from registry.titles.services import tier_in_force

TITLE_DETAILS = ("batch", "document_no", "authority", *holder_rules.PRODUCT_FIELDS)
#: what the record's kind decides (registry/domain/holders.py): checked on the merged values
_SHAPE = ("holder_kind", "zone_type", "managing_body", "size_class", "industry_code")
_OWN_FIELDS = tuple(f for f in ENTERPRISE_FIELDS if f != "uscc")  #: merged per row (the USCC groups them)


@dataclass
class Title:
    """A title a row lists; `existing` is the registry's matching title, if any."""

    row: Row
    tier: str
    recognized_on: date
    details: dict[str, Any]
    existing: dict[str, Any] | None = None


@dataclass
class Group:
    """Every row of one enterprise (one USCC), merged."""

    uscc: str
    rows: list[Row] = field(default_factory=list)
    fields: dict[str, tuple[Any, int]] = field(default_factory=dict)  #: field → (value, first row)
    titles: list[Title] = field(default_factory=list)
    reports: dict[int, dict[str, tuple[Any, int]]] = field(default_factory=dict)  #: year → field → …
    report_rows: dict[int, int] = field(default_factory=dict)  #: year → first row giving it
    existing: dict[str, Any] | None = None

    def value(self, name: str) -> Any:
        """Return the file's value of an enterprise field, else the registry's."""
        if name in self.fields:
            return self.fields[name][0]
        return self.existing.get(name) if self.existing else None


def display(value: Any) -> str:
    """Show a value in a message the way the officer wrote it."""
    if isinstance(value, date):
        return value.isoformat()
    return str(getattr(value, "value", value))


class Planner:
    """Merges and checks the rows of one file against the registry."""

    def __init__(self, actor: Actor, rules: Rules, reader: RowReader) -> None:
        self.actor, self.rules, self.reader = actor, rules, reader
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.ranks = {t.code: t.rank for p in rules.policies.policies for t in p.tiers}
        self.names = rules.tier_names()
        self._rules_on: dict[tuple[str, date], tuple[Tier, date | None]] = {}
        self._has_titles = False

    def error(self, row: int, field_name: str | None, message: str) -> None:
        """Record an error at a row and a field's column."""
        self.errors.append(self.reader.problem(row, field_name, message))

    def warn(self, row: int, field_name: str | None, message: str) -> None:
        """Record a warning at a row and a field's column."""
        self.warnings.append(self.reader.problem(row, field_name, message))

    # ------------------------------------------------------------------ grouping

    def group(self, rows: list[Row]) -> dict[str, Group]:
        """Group rows by USCC, merging fields and finding conflicts and duplicate titles."""
        groups: dict[str, Group] = {}
        for row in rows:
            code = row.values.get("uscc")
            if code is None:
                continue
            group = groups.get(code)
            if group is None:
                group = groups[code] = Group(code)
            group.rows.append(row)
            self._merge(group.fields, row, _OWN_FIELDS)
            if "tier" in row.values and "recognized_on" in row.values:
                self._add_title(group, row)
            if "year" in row.values:
                year = row.values["year"]
                group.report_rows.setdefault(year, row.number)
                self._merge(group.reports.setdefault(year, {}), row, REPORT_FIELDS)
        return groups

    def _merge(self, target: dict[str, tuple[Any, int]], row: Row, fields: tuple[str, ...]) -> None:
        values = row.values
        if not target:  # the first row giving these fields: nothing to disagree with
            target.update({name: (values[name], row.number) for name in fields if name in values})
            return
        for name in fields:
            if name not in values:
                continue
            new = values[name]
            if name in target and target[name][0] != new:
                old, first = target[name]
                self.error(row.number, name, f"与第{first}行填写的「{display(old)}」不一致"
                                             f" / conflicts with row {first}")
            else:
                target.setdefault(name, (new, row.number))

    def _add_title(self, group: Group, row: Row) -> None:
        tier, on = row.values["tier"], row.values["recognized_on"]
        for other in group.titles:
            if (other.tier, other.recognized_on) == (tier, on):
                self.error(row.number, "tier", f"与第{other.row.number}行重复（同一企业、同一称号、同一认定日期）"
                                               f" / duplicate of row {other.row.number}")
                return
        details = {k: row.values.get(k) for k in TITLE_DETAILS}
        group.titles.append(Title(row, tier, on, details))

    # ------------------------------------------------------------------ checks

    def check(self, groups: dict[str, Group], existing: Existing) -> None:
        """Check scope, required fields and eligibility of every enterprise of the file."""
        for group in groups.values():
            if group.uscc in existing.outside:
                for row in group.rows:
                    self.error(row.number, "uscc", "该企业由其他地区管理，您无权导入"
                                                   " / the enterprise is managed by another region")
                continue
            group.existing = existing.enterprises.get(group.uscc)
            self._has_titles = bool(group.existing and existing.titles.get(group.existing["id"]))
            self._check_enterprise(group)
            self._check_titles(group, existing)

    def _check_enterprise(self, group: Group) -> None:
        first = group.rows[0].number
        if "region_code" in group.fields:
            region, row = group.fields["region_code"]
            moved = group.existing is None or group.existing["region_code"] != region
            if not in_scope(self.actor, region):
                self.error(row, "region_code", f"地区 {region} 不在您的管辖范围（{self.actor.region_code}）内"
                                               " / outside your region")
            elif moved and (warning := uscc_rules.region_warning(group.uscc, region)) is not None:
                self.warn(row, "region_code", warning)  # once, when the region is set or changed
        if any(name in group.fields for name in _SHAPE) or group.existing is None:
            values = {name: group.value(name) for name in _SHAPE}
            kind = str(values["holder_kind"] or holder_rules.ENTERPRISE)
            try:
                holder_rules.check_record(kind, values)
            except RuleViolation as exc:
                for name, messages in exc.errors.items():
                    spot = group.fields.get(name, (None, first))[1]
                    for message in messages:
                        self.error(spot, name, message)
            if (group.existing is not None and "holder_kind" in group.fields
                    and kind != str(group.existing["holder_kind"]) and self._has_titles):
                self.error(group.fields["holder_kind"][1], "holder_kind",
                           "该记录已有称号，不能变更登记类型 / a record with titles keeps its holder kind")
        if group.existing is None:
            for name, label in (("name", "企业名称"), ("region_code", "所在地区")):
                if name not in group.fields and not any(name in r.bad for r in group.rows):
                    self.error(first, name, f"新企业须填写{label} / {name} is required"
                                            " for a new enterprise")

    def _check_titles(self, group: Group, existing: Existing) -> None:
        held = existing.titles.get(group.existing["id"], []) if group.existing else []
        holdings = [Holding(t["tier"], t["valid_from"], t["valid_until"], t["ended_on"])
                    for t in held if t["status"] in LIVE]
        revenue = self._revenues(group, existing)
        bans = existing.bans.get(group.uscc, [])
        kind = str(group.value("holder_kind") or holder_rules.ENTERPRISE)
        products = [holder_rules.HeldTitle(t["tier"], t["programme"], t["holder"], t["valid_from"], t["ended_on"],
                                           t["product_name"]) for t in held if t["status"] in LIVE]
        titles = group.titles if len(group.titles) < 2 else sorted(
            group.titles, key=lambda t: (t.recognized_on, self.ranks.get(t.tier, 0), t.row.number))
        for title in titles:
            title.existing = next((t for t in held if (t["tier"], t["recognized_on"])
                                   == (title.tier, title.recognized_on)), None)
            if title.existing is not None:
                self._compare_details(title)
                continue
            try:
                rule, until = self._rule(title.tier, title.recognized_on)
                earlier = [y for y in revenue if y < title.recognized_on.year]
                holder_rules.check_holder(rule, kind, str(group.value("name") or ""))
                holder_rules.check_product(rule, holder_rules.Product(*(title.details.get(k) for k in
                                                                        holder_rules.PRODUCT_FIELDS)))
                holder_rules.check_one_product(rule, title.recognized_on, products, self.names)
                check_grant(rule, title.recognized_on, holdings, bans,
                            revenue[max(earlier)] if earlier else None, self.names)
            except RuleViolation as exc:
                for name, messages in exc.errors.items():
                    for message in messages:
                        self.error(title.row.number, name if name in ("uscc", "tier", *holder_rules.PRODUCT_FIELDS)
                                   else "tier", message)
                continue
            holdings.append(Holding(title.tier, title.recognized_on, until))
            products.append(holder_rules.HeldTitle(title.tier, rule.programme, rule.holder, title.recognized_on,
                                                   None, title.details.get("product_name")))

    def _rule(self, tier: str, on: date) -> tuple[Tier, date | None]:
        """Return the rules of `tier` in force on `on` and the last day of a title granted then.

        Worked out once per (tier, date): a list grants most of its titles on one or two dates.
        :raises RuleViolation: (not remembered) when no rules of the tier are in force.
        """
        found = self._rules_on.get((tier, on))
        if found is None:
            rule = tier_in_force(self.rules, tier, on)
            found = self._rules_on[tier, on] = (rule, validity_end(rule, on))
        return found

    def _revenues(self, group: Group, existing: Existing) -> dict[int, Any]:
        """Revenue by year as it will be after the import (the file's figures over the registry's)."""
        stored = existing.reports.get(group.existing["id"], {}) if group.existing else {}
        revenue = {year: r["revenue"] for year, r in stored.items() if r["revenue"] is not None}
        revenue.update({year: f["revenue"][0] for year, f in group.reports.items() if "revenue" in f})
        return revenue

    def _compare_details(self, title: Title) -> None:
        differing = [BY_FIELD[k].aliases[0] for k, v in title.details.items()
                     if v is not None and v != title.existing.get(k)]
        if differing:
            self.warn(title.row.number, "tier", f"该称号已登记，{'、'.join(differing)}与登记内容不同，导入不修改"
                                                " / title already registered; its details are not changed")
