"""A synthetic national roster, row by row: enterprises, titles, terms, events, reports, bans, audit chain.

Deterministic for a given scale and day. Enterprises are numbered in the order they were
registered (before their first title's list), so the audit trail's timestamps rise with its ids.
Rows come out as plain Python values (dates, aware datetimes, Decimals, dicts for JSON) in the
column order of `COLUMNS`; bench/load.py writes them through the fastest path of each backend.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from stdnum.cn import uscc as stdnum_uscc

from bench.batches import Batches
from bench.titles import Lives, Title, at, window_opens
from registry.audit.trail import event_hash, plain
from registry.cli.demo import TRADES
from registry.domain.deadlines import annual_update_due, change_report_deadline
from registry.domain.policy import PolicySet
from registry.domain.workdays import WorkdayCalendar
from registry.enterprises.services import ENTERPRISE_FIELDS

COLUMNS: dict[str, tuple[str, ...]] = {
    "enterprises": ("id", "uscc", "name", "region_code", "industry_code", "size_class", "founded_on",
                    "contact_name", "contact_email", "contact_phone", "officer_id", "holder_kind", "version",
                    "created_at", "updated_at"),
    "certifications": ("id", "enterprise_id", "region_code", "tier", "programme", "policy_code", "status",
                       "recognized_on", "batch", "document_no", "authority", "valid_from", "valid_until",
                       "review_window_opens_on", "ended_on", "review_eligible", "review_ineligible_cause",
                       "prerequisite_lost", "version", "created_at", "updated_at"),
    "certification_terms": ("id", "certification_id", "seq", "valid_from", "valid_until", "policy_code",
                            "decided_on", "document_no"),
    "certification_events": ("id", "certification_id", "action", "effective_on", "from_status", "to_status",
                             "reason_code", "document_no", "note", "actor", "created_at"),
    "annual_reports": ("id", "enterprise_id", "year", "revenue", "main_business_revenue", "rd_expense",
                       "employees", "rd_staff", "debt_ratio", "invention_patents", "audit_report_code",
                       "audit_firm", "submitted_on"),
    "change_reports": ("id", "enterprise_id", "kind", "occurred_on", "reported_on", "deadline_on",
                       "deadline_provisional", "details"),
    "bans": ("id", "uscc", "certification_id", "reason_code", "reason", "starts_on", "ends_on", "document_no",
             "lifted_on", "created_at"),
    "audit_events": ("id", "occurred_at", "actor_kind", "actor_name", "actor_user_id", "action", "entity_type",
                     "entity_id", "enterprise_id", "region_code", "changes", "reason_code", "document_no", "note",
                     "request_id", "ip", "prev_hash", "hash"),
}
#: share of the national roster per province (first two digits), roughly as the 专精特新 lists run
PROVINCE_WEIGHTS = {"44": 12, "32": 12, "33": 11, "37": 8, "34": 5, "42": 5, "31": 4, "11": 4, "43": 4, "41": 4,
                    "51": 4, "35": 4, "50": 3, "36": 3, "13": 3, "61": 2, "12": 2, "21": 2, "45": 2, "22": 1,
                    "23": 1, "14": 1, "15": 1, "52": 1, "53": 1, "65": 0.8, "62": 0.7, "46": 0.5, "64": 0.4,
                    "63": 0.3, "54": 0.2}
NAME_SYLLABLES = "安宝昌达鼎丰富冠海和恒宏华嘉金锦京凯康力隆茂明宁鹏奇瑞盛泰天通伟翔新鑫信兴亚益永源远泽正中卓"
GENERATOR = ("cli", "bench-generate")
HEIGHT_WEIGHTS = (82, 14, 3.4, 0.6)  # highest rung reached: ~1.2 titles per enterprise


def _plain(value: object) -> object:
    """registry.audit.trail.plain for the enterprise fields, without its recursion (dates are the only non-JSON type)."""
    return value.isoformat() if isinstance(value, date) else value if type(value) in (str, int) else plain(value)


def make_uscc(region: str, n: int, series: str = "MA") -> str:
    """Return a valid USCC registered in `region` (`series` keeps generated and imported codes apart)."""
    body = f"91{region}{series}{n:07d}"
    return body + stdnum_uscc.calc_check_digit(body)


def company_name(city: str, n: int, rng: random.Random) -> str:
    """A unique, plausible company name: city, a four-syllable trade name coded from n, a trade."""
    k, chars = len(NAME_SYLLABLES), []
    for _ in range(4):
        n, r = divmod(n, k)
        chars.append(NAME_SYLLABLES[r])
    return f"{city}{''.join(chars)}{rng.choice(TRADES)}有限公司"


class Counters:
    """The next id of each table (rows are loaded with explicit ids)."""

    def __init__(self, start: dict[str, int] | None = None) -> None:
        self.next = defaultdict(lambda: 1, start or {})

    def __call__(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


class Roster:
    """Generates the roster enterprise by enterprise into per-table row lists."""

    def __init__(self, *, scale: int, today: date, policies: PolicySet, calendar: WorkdayCalendar,
                 regions: list[tuple[str, str, str | None, str]], officers: dict[str, int],
                 chain: tuple[int, str], seed: int = 7) -> None:
        self.scale, self.today, self.policies, self.calendar = scale, today, policies, calendar
        self.rng = random.Random(seed)
        self.lives = Lives(policies, today, self.rng)
        self.officers = officers
        self.names = {code: name for code, name, _, _ in regions}
        parents = {parent for _, _, parent, _ in regions if parent}
        self.leaves: dict[str, list[str]] = defaultdict(list)
        for code, _, _, level in regions:
            if level != "province" and code not in parents and code[:2] in PROVINCE_WEIGHTS:
                self.leaves[code[:2]].append(code)
        self.batches = Batches(sorted(self.leaves), today)
        self.ids = Counters({"audit_events": chain[0] + 1})
        self.prev_hash = chain[1]
        self.clock = at(date(2022, 6, 1))
        self.tables: dict[str, list[tuple]] = {name: [] for name in COLUMNS}
        self._due: dict[str, date] = {}

    # ------------------------------------------------------------------ the order of registration
    def plan(self) -> list[tuple[date, str]]:
        """(first list date, region) for every enterprise, in registration order."""
        provinces = sorted(self.leaves)
        weights = [PROVINCE_WEIGHTS[p] for p in provinces]
        plan = []
        for province in self.rng.choices(provinces, weights, k=self.scale):
            region = self.rng.choice(self.leaves[province])
            plan.append((self.rng.choice(self.batches.dates("innovative_sme", province)), region))
        plan.sort()
        return plan

    def chunks(self, size: int = 20_000) -> Iterator[dict[str, list[tuple]]]:
        """Yield the rows of `size` enterprises at a time."""
        for start, (first, region) in enumerate(self.plan()):
            self.enterprise(start + 1, first, region)
            if (start + 1) % size == 0:
                yield self.take()
        yield self.take()

    def take(self) -> dict[str, list[tuple]]:
        """Hand over the rows made so far and start afresh."""
        rows, self.tables = self.tables, {name: [] for name in COLUMNS}
        return rows

    # ------------------------------------------------------------------ one enterprise
    def enterprise(self, n: int, first: date, region: str) -> None:
        """Make enterprise `n` (registered before `first`) with its titles, reports and audit event."""
        rng, province = self.rng, region[:2]
        ent_id = self.ids("enterprises")
        city = self.names.get(region[:4] + "00", self.names[province + "0000"]).removesuffix("市")
        if city == "市辖区":
            city = self.names[province + "0000"].removesuffix("市")
        self.clock = max(self.clock + timedelta(milliseconds=1), at(first - timedelta(days=40)))
        values = dict(
            id=ent_id, uscc=make_uscc(region, n), name=company_name(city, n, rng), region_code=region,
            industry_code=f"C{rng.randint(13, 43)}", size_class=rng.choice(("medium", "small", "small", "micro")),
            founded_on=date(rng.randint(1995, 2019), rng.randint(1, 12), rng.randint(1, 28)),
            contact_name=rng.choice("王李张刘陈杨赵黄周吴") + rng.choice(("伟", "芳", "娜", "敏", "静", "强", "磊")),
            contact_email=f"contact{n}@example-enterprise.cn", contact_phone=f"0{rng.randint(10, 999)}-8{n % 10**7:07d}",
            officer_id=self.officers.get(province), holder_kind="enterprise", version=1, created_at=self.clock,
            updated_at=self.clock)
        self.tables["enterprises"].append(tuple(values[c] for c in COLUMNS["enterprises"]))
        self._audit(values)
        height = rng.choices((1, 2, 3, 4), HEIGHT_WEIGHTS)[0]
        titles = self._titles(ent_id, province, first, height)
        missed = self._reports(ent_id, height)
        self._flags(ent_id, titles, missed)
        for title in titles:
            self._title_rows(ent_id, region, values["uscc"], title)

    def _audit(self, ent: dict[str, Any]) -> None:
        """The enterprise.created event, hashed exactly as registry.audit.trail.record hashes it."""
        event_id = self.ids("audit_events")
        values = dict(
            id=event_id, occurred_at=ent["created_at"], actor_kind=GENERATOR[0], actor_name=GENERATOR[1],
            actor_user_id=None, action="enterprise.created", entity_type="enterprise", entity_id=ent["id"],
            enterprise_id=ent["id"], region_code=ent["region_code"],
            changes={f: [None, _plain(ent[f])] for f in ENTERPRISE_FIELDS if ent.get(f) is not None},
            reason_code=None, document_no=None, note=None, request_id=None, ip=None, prev_hash=self.prev_hash)
        values["hash"] = self.prev_hash = event_hash(values)
        self.tables["audit_events"].append(tuple(values[c] for c in COLUMNS["audit_events"]))

    def chain_head(self) -> tuple[int, str]:
        """The last audit event's id and hash (for the chain-head row)."""
        return self.ids.next["audit_events"] - 1, self.prev_hash

    def _titles(self, ent_id: int, province: str, first: date, height: int) -> list[Title]:
        rng = self.rng
        spec = "sc_specialized_sme" if province == "51" and rng.random() < 0.5 else "specialized_sme"
        ladder = ["innovative_sme", spec, "little_giant", "single_champion"][:height]
        if province == "33" and height >= 2 and rng.random() < 0.1:
            ladder.append("zj_hidden_champion")
        titles: list[Title] = []
        on: date | None = first
        for code in ladder:
            if titles:
                on = self.batches.first_on_or_after(code, province, on + timedelta(days=180))
                if on is None:
                    break  # no list of this tier yet
                prev = titles[-1]
                if code != "zj_hidden_champion" and prev.ended_on is not None and prev.ended_on <= on:
                    break  # the rung below had ended: the grant would be refused, the climb stops
            titles.append(self._grant(code, on, province))
            if code == "single_champion" and titles[-1].live and rng.random() < 0.25:
                day = self.batches.first_on_or_after("champion_product", province, on + timedelta(days=300))
                if day is not None:
                    self.lives.downgrade(titles[-1], day)
                    titles.append(self._grant("champion_product", day, province))
        return titles

    def _grant(self, code: str, on: date, province: str) -> Title:
        officer = f"user:officer_{province}"
        document_no = f"{self.names[province + '0000'][:2]}经信企业〔{on.year}〕{self.rng.randint(10, 300)}号"
        return self.lives.grant(self.ids("certifications"), code, on, document_no, officer)

    def _reports(self, ent_id: int, height: int) -> bool:
        """Annual reports for the last two years; return True if last year's update was missed."""
        rng, year_now = self.rng, self.today.year
        revenue = Decimal(rng.randint(400, 1500) if height == 4 else rng.randint(8, 900)) * 1_000_000
        missed = False
        for year in (year_now - 2, year_now - 1):
            if year == year_now - 1 and self.today.month >= 5 and rng.random() < 0.12:
                missed = True
                continue
            self.tables["annual_reports"].append((
                self.ids("annual_reports"), ent_id, year, revenue, revenue * Decimal("0.85"),
                revenue * rng.randint(2, 9) / 100, rng.randint(30, 900), rng.randint(5, 120),
                Decimal(rng.randint(20, 75)), rng.randint(0, 30),
                f"{year}{ent_id:08d}" if rng.random() < 0.8 else None, "某会计师事务所",
                date(year + 1, rng.randint(1, 4), rng.randint(1, 28))))
            revenue = (revenue * rng.randint(95, 125) / 100).quantize(Decimal("0.01"))
        return missed

    def _flags(self, ent_id: int, titles: list[Title], missed: bool) -> None:
        """Review eligibility (missed update, unreported change) and lost prerequisites, as the scan sets them."""
        year = self.today.year
        if missed:
            for t in titles:
                due = self._annual_due(t, year)
                if t.live and due and t.recognized_on < date(year, 1, 1) and t.terms[-1][0] <= due \
                        and t.tier.missed_annual_update == "lose_review_eligibility":
                    t.review_eligible, t.ineligible_cause = False, "annual_update_missed"
        if titles and self.rng.random() < 0.03:
            self._change_report(ent_id, titles)
        held = {t.tier.code for t in titles if t.live}
        for t in titles:
            if t.live and any(p.when_revenue_at_most is None and not held.intersection(p.any_of)
                              for p in t.tier.prerequisites):
                t.prerequisite_lost = True

    def _annual_due(self, title: Title, year: int) -> date | None:
        key = f"{title.tier.code}/{year}"
        if key not in self._due:
            due = annual_update_due(self.calendar, title.tier, year)
            self._due[key] = due.on if due else None
        return self._due[key]

    def _change_report(self, ent_id: int, titles: list[Title]) -> None:
        rng, today = self.rng, self.today
        occurred = today - timedelta(days=rng.randint(20, 400))
        due = change_report_deadline(self.calendar, titles[0].tier, occurred)
        if due is None:
            return
        reported = occurred + timedelta(days=rng.randint(5, 80)) if rng.random() < 0.6 else None
        if reported is not None and reported > today:
            reported = None
        self.tables["change_reports"].append((
            self.ids("change_reports"), ent_id, rng.choice(("rename", "merger", "restructuring", "overseas_branch")),
            occurred, reported, due.on, due.provisional, "基准测试：企业发生重大变化"))
        if reported is None and due.on < today and not due.provisional:
            for t in titles:
                if t.live and t.review_eligible and t.recognized_on <= due.on \
                        and t.tier.missed_change_report == "lose_review_eligibility":
                    t.review_eligible, t.ineligible_cause = False, "change_not_reported"

    def _title_rows(self, ent_id: int, region: str, uscc: str, t: Title) -> None:
        tier, (valid_from, valid_until, _, _) = t.tier, t.terms[-1]
        last = t.events[-1][8]
        self.tables["certifications"].append((
            t.id, ent_id, region, tier.code, tier.programme, tier.policy_code, t.status.value, t.recognized_on,
            f"{t.recognized_on.year}年第{(t.recognized_on.month - 1) // 3 + 1}批", t.document_no,
            "工业和信息化部" if tier.authority == "ministry" else f"{self.names[region[:2] + '0000']}经济和信息化厅",
            valid_from, valid_until, window_opens(t), t.ended_on, t.review_eligible, t.ineligible_cause,
            t.prerequisite_lost, len(t.events), at(t.recognized_on), last))
        for seq, (start, until, decided, doc) in enumerate(t.terms, 1):
            self.tables["certification_terms"].append(
                (self.ids("certification_terms"), t.id, seq, start, until, tier.policy_code, decided, doc))
        for ev in t.events:
            self.tables["certification_events"].append((self.ids("certification_events"), t.id, *ev))
        if t.ban is not None:
            code, name, starts, ends = t.ban
            lifted = ends + timedelta(days=1) if ends < self.today else None
            self.tables["bans"].append((self.ids("bans"), uscc, t.id, code, name, starts, ends,
                                        t.document_no, lifted, at(starts)))

