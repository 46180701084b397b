"""Policies as data: the model of a programme version and the loader of config/policies/*.toml.

A policy file describes one programme version (e.g. national-2022): its tiers and, for each, the
deciding authority, prerequisites, validity, review window, annual update, major-change deadline,
revocation reasons and reminder milestones. A `[defaults]` table is merged under every tier so a
file states shared values once. The loader refuses a malformed file with a PolicyError naming the
file, the key and the problem; unknown keys are refused too, so a typo never passes silently.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from registry.domain.criteria import Criteria, parse_criteria
from registry.domain.errors import NotFound, PolicyError
from registry.domain.listings import LIST_KINDS, REPORT_BY, REPORT_EVERY, Channel, Listing, PeriodicReport
from registry.domain.provenance import Provenance

AUTHORITIES = ("district", "city", "province", "ministry")
EXPIRY_SEMANTICS = ("fixed_term", "year_end", "until_superseded")
REVIEW_OUTCOMES = ("expire", "revoke")
REVIEW_TIMINGS = ("before_expiry", "after_expiry")
MISSED_UPDATE = ("lose_review_eligibility", "flag")
MISSED_CHANGE = ("lose_review_eligibility", "revoke", "flag")
SCOPES = ("this_tier", "all_tiers")
#: what a ban blocks: the revoked tier, its programme, every programme of its ladder, every programme
BAN_BLOCKS = ("tier", "programme", "ladder", "all")
#: who holds a tier's title (docs/holders.md): an enterprise, a product of an enterprise (单项冠军产品),
#: or a zone — a park or an administrative area (中外中小企业合作区, 全国质量品牌提升示范区)
HOLDERS = ("enterprise", "product", "zone")
#: the tier keys that state a rule and so need an entry in `sources` (when the tier states them)
RULE_KEYS = ("authority", "review_chain", "validity.semantics", "validity.years", "review.window_days",
             "review.missed", "review.failed", "review.follows_expiry", "review.after_expiry_days",
             "annual_update.due", "annual_update.missed", "major_change.deadline", "major_change.missed",
             "excluded_if_holding", "requires_audit_code", "downgrades_to", "holder", "publicity_min")
#: the policy keys that state a rule (the [policy] table), with their entry in the root `sources`
POLICY_RULE_KEYS = ("effective_from", "reviews_titles_of")
PERIOD_UNITS = {"months": "months", "个月": "months", "days": "days", "日": "days",
                "working days": "working_days", "个工作日": "working_days", "years": "years"}
REMINDER_KINDS = ("expiry", "review_window", "annual_update", "change_report", "publicity_end", "opinion_due")
MISSED_REVIEW_REASON = "review_missed"  #: built-in revocation reason of a missed review


@dataclass(frozen=True)
class Period:
    """A length of time as a policy states it: 3 months, 30 working days."""

    amount: int
    unit: str  # months | days | working_days | years

    def __str__(self) -> str:
        names = {"months": "个月", "days": "日", "working_days": "个工作日", "years": "年"}
        return f"{self.amount}{names[self.unit]}"


@dataclass(frozen=True)
class Prerequisite:
    """One of `any_of` must be valid on the recognition date.

    With `when_revenue_at_most` set, only for an applicant whose revenue is at most that amount
    ("年销售收入4亿元以下的企业…": 以下 includes the boundary).
    """

    any_of: tuple[str, ...]
    when_revenue_at_most: Decimal | None = None
    note: str = ""
    provenance: Provenance = field(default_factory=Provenance)

    def applies_to(self, revenue: Decimal | None) -> bool:
        """Tell whether the prerequisite applies to an applicant with `revenue` (unknown: it applies)."""
        return self.when_revenue_at_most is None or revenue is None or revenue <= self.when_revenue_at_most


@dataclass(frozen=True)
class RevocationReason:
    """A ground for revocation, with the ban it carries and how far it reaches."""

    code: str
    name: str
    ban_years: int
    scope: str  # this_tier | all_tiers: which live titles the revocation ends (all_tiers: the ladder's)
    basis: str = ""
    ban_blocks: str = "programme"  #: tier | programme | ladder | all: what the ban bars applying for
    assumed: bool = False
    note: str = ""


@dataclass(frozen=True)
class Tier:
    """One title of a programme version with every rule the engine needs."""

    code: str
    name: str
    rank: int
    authority: str
    policy_code: str
    programme: str
    validity: str
    validity_years: int | None
    review_window_days: int | None
    missed_review: str
    failed_review: str
    annual_update_due: tuple[int, int] | None  # (month, day)
    missed_annual_update: str
    change_deadline: Period | None
    missed_change_report: str
    prerequisites: tuple[Prerequisite, ...]
    excluded_if_holding: tuple[str, ...]
    revocation_reasons: tuple[RevocationReason, ...]
    reminders: Mapping[str, tuple[int, ...]]
    review_chain: tuple[str, ...]
    requires_audit_code: bool
    downgrades_to: str | None
    criteria: Criteria = field(default_factory=Criteria)  #: eligibility (registry.domain.criteria)
    #: when the review is submitted: in the `review_window_days` before expiry (default), or — for a
    #: policy whose review follows expiry (浙经信企创〔2016〕234号 "到期后…评估…复核合格的，重新予以确认")
    #: — in the `review_after_expiry_days` after the validity ends
    review_timing: str = "before_expiry"
    review_after_expiry_days: int | None = None
    ladder: str | None = None  #: the ladder the programme belongs to (national + single_champion)
    sources: Mapping[str, Provenance] = field(default_factory=dict)  #: rule key → provenance
    #: a list without a validity lifecycle of its own (yearly selection, pool), its channels, its reports
    listing: Listing | None = None
    channels: tuple[Channel, ...] = ()
    reports: tuple[PeriodicReport, ...] = ()

    def channel(self, code: str) -> Channel | None:
        """Return the recommendation channel with `code`, or None."""
        return next((c for c in self.channels if c.code == code), None)
    holder: str = "enterprise"  #: HOLDERS: who holds the title (registry/domain/holders.py)
    #: the shortest publicity (公示) of a list of this tier, e.g. 5 working days (示范区: 公示期不少于五个工作日)
    publicity_min: Period | None = None

    @property
    def review_follows_expiry(self) -> bool:
        """True when the review is submitted after expiry (Zhejiang's post-expiry evaluation)."""
        return self.review_timing == "after_expiry"

    @property
    def post_expiry_review_days(self) -> int | None:
        """The days after expiry a review may be submitted in, for a review that follows expiry."""
        return self.review_after_expiry_days

    def reason(self, code: str) -> RevocationReason | None:
        """Return the revocation reason with `code`, or None.

        A tier whose policy revokes a title on a missed review also knows the built-in reason
        `review_missed` (no ban): the daily scan revokes with it the day after validity ends.
        """
        found = next((r for r in self.revocation_reasons if r.code == code), None)
        if found is None and code == MISSED_REVIEW_REASON and self.missed_review == "revoke":
            return RevocationReason(MISSED_REVIEW_REASON, "有效期届满前未提交复核材料", 0, "this_tier",
                                    f"政策规定未参加复核的撤销称号（{self.policy_code}）", "tier")
        return found


@dataclass(frozen=True)
class Policy:
    """A programme version: one policy file."""

    code: str
    programme: str
    name: str
    document_no: str
    effective_from: date
    source: str
    tiers: tuple[Tier, ...]
    ladder: str | None = None
    #: earlier versions whose titles are reviewed under this one once it is in force (63号 for 小巨人)
    reviews_titles_of: tuple[str, ...] = ()
    sources: Mapping[str, Provenance] = field(default_factory=dict)  #: policy key → provenance


class PolicySet:
    """Every loaded policy, answering "which rules govern tier T on date D"."""

    def __init__(self, policies: Iterable[Policy]) -> None:
        self.policies = sorted(policies, key=lambda p: (p.programme, p.effective_from))
        self.by_code = {p.code: p for p in self.policies}

    def tier(self, code: str, on: date | None = None, *, policy_code: str | None = None) -> Tier:
        """Return tier `code` under `policy_code`, else under the version in force on `on`."""
        if policy_code is not None and policy_code in self.by_code:
            found = [t for t in self.by_code[policy_code].tiers if t.code == code]
        else:
            found = [t for p in self.policies if on is None or p.effective_from <= on
                     for t in p.tiers if t.code == code]
        if not found:
            raise NotFound(f"未知的称号层级 / unknown tier: {code}", field="tier")
        return found[-1]

    def review_tier(self, code: str, policy_code: str, on: date) -> Tier:
        """Return the rules a review of a `policy_code` title held on `on` follows.

        A later version of the same programme governs the review when it is in force on `on` and
        its text says it covers titles of `policy_code` (`reviews_titles_of`); else the title's own
        version does. The next term starts under the version returned.
        """
        own = self.tier(code, policy_code=policy_code)
        later = [p for p in self.policies if p.programme == own.programme and p.effective_from <= on
                 and policy_code in p.reviews_titles_of and any(t.code == code for t in p.tiers)]
        if not later:
            return own
        return next(t for t in later[-1].tiers if t.code == code)

    def programmes_of_ladder(self, ladder: str) -> set[str]:
        """Return the programmes whose policies name `ladder`."""
        return {p.programme for p in self.policies if p.ladder == ladder}

    def current_tiers(self, on: date | None = None) -> list[Tier]:
        """List the tiers in force on `on` (latest version of each code), by programme and rank."""
        latest: dict[str, Tier] = {}
        for p in self.policies:
            if on is None or p.effective_from <= on:
                for t in p.tiers:
                    latest[t.code] = t
        return sorted(latest.values(), key=lambda t: (t.programme, t.rank))

    def tier_codes(self) -> set[str]:
        """Return every tier code any policy defines."""
        return {t.code for p in self.policies for t in p.tiers}


# ---------------------------------------------------------------------------------- loading

class _Reader:
    """Reads one table of a policy file, tracking the key path for error messages."""

    def __init__(self, file: str, path: str, table: Mapping[str, Any]) -> None:
        self.file, self.path, self.table = file, path, table
        self.used: set[str] = set()

    def fail(self, key: str, problem: str) -> PolicyError:
        return PolicyError(self.file, f"{self.path}.{key}" if self.path else key, problem)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.table:
            if default is ...:
                raise self.fail(key, "missing (required)")
            return default
        value = self.table[key]
        if isinstance(value, bool) and kind is not bool and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.fail(key, f"expected {_kind_name(kind)}, got a boolean")
        if not isinstance(value, kind):
            raise self.fail(key, f"expected {_kind_name(kind)}, got {type(value).__name__} {value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: Any = ...) -> Any:
        value = self.get(key, str, default)
        if value is not default and value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def positive(self, key: str, default: Any = ..., *, allow_zero: bool = False) -> Any:
        value = self.get(key, int, default)
        if value is not default and value is not None and (value < 0 or (value == 0 and not allow_zero)):
            raise self.fail(key, f"must be a positive whole number; got {value}")
        return value

    def sub(self, key: str, default: Any = ...) -> _Reader | None:
        table = self.get(key, dict, default)
        if table is None:
            return None
        return _Reader(self.file, f"{self.path}.{key}" if self.path else key, table)

    def items(self, key: str) -> list[_Reader]:
        rows = self.get(key, list, [])
        out = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise self.fail(f"{key}[{i}]", "expected a table")
            out.append(_Reader(self.file, f"{self.path}.{key}[{i}]" if self.path else f"{key}[{i}]", row))
        return out

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise self.fail(unknown[0], "unknown key (a typo?)")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a string", int: "a whole number", dict: "a table", list: "a list",
             bool: "true or false", date: "a date (YYYY-MM-DD)", float: "a number"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def parse_period(text: str) -> Period:
    """Parse "3 months", "30 working days", "30个工作日". :raises ValueError: not a period."""
    stripped = text.strip()
    digits = ""
    for ch in stripped:
        if not ch.isdigit():
            break
        digits += ch
    unit = PERIOD_UNITS.get(stripped[len(digits):].strip())
    if not digits or unit is None or int(digits) <= 0:
        raise ValueError(f"expected e.g. '3 months' or '30 working days'; got {text!r}")
    return Period(int(digits), unit)


def _month_day(reader: _Reader, key: str) -> tuple[int, int]:
    text = reader.get(key, str)
    try:
        month, day = (int(x) for x in text.split("-"))
        date(2024, month, day)  # a leap year, so 02-29 is accepted as a month-day
    except ValueError:
        raise reader.fail(key, f"expected a month-day like '04-30'; got {text!r}") from None
    return month, day


def _four_facts(item: _Reader) -> Provenance:
    """Read `source`, `quote`, `assumed`, `note` of a table, unchecked."""
    return Provenance(item.get("source", str, ""), item.get("quote", str, ""),
                      item.get("assumed", bool, False), item.get("note", str, ""))


def _provenance_of(item: _Reader) -> Provenance:
    """Read the provenance of a rule table (a prerequisite): an assumed rule needs a note."""
    found = _four_facts(item)
    if found.assumed and not found.note:
        raise item.fail("note", "an assumed rule needs a note saying why (what is known, what is not)")
    return found


def _check_provenance(reader: _Reader, key: str, found: Provenance) -> None:
    if found.assumed and not found.note:
        raise reader.fail(key, "an assumed rule needs a note saying why (what is known, what is not)")
    if not found.assumed and not found.source:
        raise reader.fail(key, "a rule needs its source (document and article or quote), or assumed = true")


def _sources(reader: _Reader, allowed: tuple[str, ...]) -> dict[str, Provenance]:
    """Read a `sources` table: rule key → {source, quote, assumed, note}."""
    table = reader.sub("sources", None)
    if table is None:
        return {}
    out = {}
    for key in list(table.table):
        if key not in allowed:
            raise table.fail(key, f"not a rule key; one of {', '.join(allowed)}")
        entry = table.sub(key)
        out[key] = _cited(entry)
        entry.done()
    table.done()
    return out


def stated_rule_keys(raw: Mapping[str, Any]) -> list[str]:
    """Return the RULE_KEYS a (merged) tier table states."""
    out = []
    for key in RULE_KEYS:
        head, _, tail = key.partition(".")
        value = raw.get(head)
        if tail:
            value = value.get(tail) if isinstance(value, dict) else None
        # `is not False`, not `not in (…, False)`: 0 == False, and a stated 0 (window_days = 0) is a value
        if value is not None and value != [] and value is not False:
            out.append(key)
    return out


def _tier(reader: _Reader, policy: tuple[str, str], ladder: str | None = None) -> Tier:
    code = reader.get("code", str)
    sources = _sources(reader, RULE_KEYS)
    validity = reader.sub("validity")
    semantics = validity.choice("semantics", EXPIRY_SEMANTICS)
    years = validity.positive("years", None)
    if semantics != "until_superseded" and years is None:
        raise validity.fail("years", f"required when semantics is {semantics}")
    validity.done()
    review = reader.sub("review")
    window = review.positive("window_days", None, allow_zero=True)
    missed_review = review.choice("missed", REVIEW_OUTCOMES)
    failed_review = review.choice("failed", REVIEW_OUTCOMES, missed_review)
    # `timing = "after_expiry"`, or `follows_expiry = true` (the same fact, as the Zhejiang file states it)
    follows_expiry = review.get("follows_expiry", bool, False)
    timing = review.choice("timing", REVIEW_TIMINGS, "after_expiry" if follows_expiry else "before_expiry")
    if follows_expiry and timing != "after_expiry":
        raise review.fail("timing", "follows_expiry = true means timing = \"after_expiry\"")
    after_days = review.positive("after_expiry_days", None)
    if timing == "after_expiry" and after_days is None:
        raise review.fail("after_expiry_days", "required when the review follows expiry (the post-expiry window)")
    if timing != "after_expiry" and after_days is not None:
        raise review.fail("after_expiry_days", "only when the review follows expiry")
    review.done()
    update = reader.sub("annual_update", None)
    due, missed_update = None, "flag"
    if update is not None:
        due = _month_day(update, "due")
        missed_update = update.choice("missed", MISSED_UPDATE)
        update.done()
    change = reader.sub("major_change", None)
    deadline, missed_change = None, "flag"
    if change is not None:
        try:
            deadline = parse_period(change.get("deadline", str))
        except ValueError as exc:
            raise change.fail("deadline", str(exc)) from None
        missed_change = change.choice("missed", MISSED_CHANGE)
        change.done()
    prerequisites = []
    for item in reader.items("prerequisites"):
        any_of = item.get("any_of", list)
        if not any_of or not all(isinstance(x, str) for x in any_of):
            raise item.fail("any_of", "expected a non-empty list of tier codes")
        at_most = item.get("when_revenue_at_most", int, None)
        prerequisites.append(Prerequisite(tuple(any_of), Decimal(at_most) if at_most is not None else None,
                                          item.get("note", str, ""), _provenance_of(item)))
        item.done()
    reasons = []
    for item in reader.items("revocation_reasons"):
        reasons.append(RevocationReason(item.get("code", str), item.get("name", str),
                                        item.positive("ban_years", allow_zero=True),
                                        item.choice("scope", SCOPES), item.get("basis", str, ""),
                                        item.choice("ban_blocks", BAN_BLOCKS, "programme"),
                                        item.get("assumed", bool, False), item.get("note", str, "")))
        if reasons[-1].assumed and not reasons[-1].note:
            raise item.fail("note", "an assumed rule needs a note saying why")
        item.done()
    reminders: dict[str, tuple[int, ...]] = {}
    rem = reader.sub("reminders", None)
    if rem is not None:
        for kind in REMINDER_KINDS:
            days = rem.get(kind, list, None)
            if days is None:
                continue
            if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in days):
                raise rem.fail(kind, "expected a list of whole days (0 or more) before the date")
            reminders[kind] = tuple(sorted(set(days), reverse=True))
        rem.done()
    chain = tuple(reader.get("review_chain", list, []))
    for i, level in enumerate(chain):
        if level not in AUTHORITIES:
            raise reader.fail(f"review_chain[{i}]", f"must be one of {', '.join(AUTHORITIES)}")
    publicity_min = None
    if (publicity := reader.get("publicity_min", str, None)) is not None:
        try:
            publicity_min = parse_period(publicity)
        except ValueError as exc:
            raise reader.fail("publicity_min", str(exc)) from None
    tier = Tier(
        code=code, name=reader.get("name", str), rank=reader.positive("rank"),
        authority=reader.choice("authority", AUTHORITIES), policy_code=policy[0], programme=policy[1],
        validity=semantics, validity_years=years, review_window_days=window,
        missed_review=missed_review, failed_review=failed_review, annual_update_due=due,
        missed_annual_update=missed_update, change_deadline=deadline,
        missed_change_report=missed_change, prerequisites=tuple(prerequisites),
        excluded_if_holding=tuple(reader.get("excluded_if_holding", list, [])),
        revocation_reasons=tuple(reasons), reminders=reminders, review_chain=chain,
        requires_audit_code=reader.get("requires_audit_code", bool, False),
        downgrades_to=reader.get("downgrades_to", str, None),
        criteria=parse_criteria(reader.get("criteria", dict, {}), file=reader.file,
                                path=f"{reader.path}.criteria"),
        review_timing=timing, review_after_expiry_days=after_days, ladder=ladder,
        sources=sources, **_list_rules(reader),
        holder=reader.choice("holder", HOLDERS, "enterprise"), publicity_min=publicity_min,
    )
    reader.done()
    return tier


def _cited(item: _Reader) -> Provenance:
    """Read the source of a rule in `sources`, a list, channel or report: a source, or `assumed` with a note."""
    found = _four_facts(item)
    _check_provenance(item, "source", found)
    return found


def _list_rules(reader: _Reader) -> dict[str, Any]:
    """Read a tier's `list`, `channels` and `reports` (registry.domain.listings)."""
    listing = None
    table = reader.sub("list", None)
    if table is not None:
        listing = Listing(table.choice("kind", LIST_KINDS), table.get("exit", str, ""), _cited(table))
        table.done()
    channels = []
    for item in reader.items("channels"):
        quota = item.positive("quota", None)
        channels.append(Channel(item.get("code", str), item.get("name", str), item.get("unit", str), quota,
                                item.get("outside_quota", str, ""), _cited(item)))
        item.done()
    if len({c.code for c in channels}) != len(channels):
        raise reader.fail("channels", "duplicate channel code")
    reports = []
    for item in reader.items("reports"):
        every = item.choice("every", REPORT_EVERY)
        due = _month_day(item, "due") if every == "year" else None
        if every != "year" and "due" in item.table:
            raise item.fail("due", "a month-day only for every = \"year\"; use days_after")
        days_after = item.positive("days_after", None, allow_zero=True)
        if every != "year" and days_after is None:
            raise item.fail("days_after", f"required for every = \"{every}\"")
        reports.append(PeriodicReport(item.get("code", str), item.get("name", str), every,
                                      item.choice("by", REPORT_BY), due, days_after, _cited(item)))
        item.done()
    if len({r.code for r in reports}) != len(reports):
        raise reader.fail("reports", "duplicate report code")
    return {"listing": listing, "channels": tuple(channels), "reports": tuple(reports)}


def _merged(defaults: Mapping[str, Any], tier: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a tier over the file's defaults, one level deep for sub-tables."""
    merged = dict(defaults)
    for key, value in tier.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def parse_policy(name: str, data: Mapping[str, Any]) -> Policy:
    """Build a Policy from a parsed TOML document. :raises PolicyError: malformed."""
    root = _Reader(name, "", data)
    head = root.sub("policy")
    code = head.get("code", str)
    programme = head.get("programme", str)
    reviews_of = head.get("reviews_titles_of", list, [])
    if not all(isinstance(x, str) for x in reviews_of):
        raise head.fail("reviews_titles_of", "expected a list of policy codes")
    ladder = head.get("ladder", str, None)
    policy = Policy(code=code, programme=programme, name=head.get("name", str),
                    document_no=head.get("document_no", str),
                    effective_from=head.get("effective_from", date),
                    source=head.get("source", str), tiers=(), ladder=ladder,
                    reviews_titles_of=tuple(reviews_of), sources=_sources(root, POLICY_RULE_KEYS))
    head.done()
    defaults = root.get("defaults", dict, {})
    tiers = []
    for i, raw in enumerate(root.get("tiers", list)):
        if not isinstance(raw, dict):
            raise root.fail(f"tiers[{i}]", "expected a table")
        tiers.append(_tier(_Reader(name, f"tiers[{i}]", _merged(defaults, raw)), (code, programme), ladder))
    root.done()
    if not tiers:
        raise root.fail("tiers", "a policy needs at least one tier")
    _check_references(name, tiers)
    return Policy(**{**policy.__dict__, "tiers": tuple(tiers)})


def _check_references(name: str, tiers: list[Tier]) -> None:
    seen: set[str] = set()
    for i, tier in enumerate(tiers):
        if tier.code in seen:
            raise PolicyError(name, f"tiers[{i}].code", f"duplicate tier code {tier.code!r}")
        seen.add(tier.code)
        codes = [r.code for r in tier.revocation_reasons]
        if len(codes) != len(set(codes)):
            raise PolicyError(name, f"tiers[{i}].revocation_reasons", "duplicate reason code")


def unsourced(policy: Policy, raw: Mapping[str, Any]) -> list[str]:
    """Return the rules of `policy` (parsed from `raw`) that carry neither a source nor `assumed`."""
    missing = [f"sources.{k}" for k in POLICY_RULE_KEYS
               if k in raw.get("policy", {}) and k not in policy.sources]
    defaults = raw.get("defaults", {})
    for i, (tier, table) in enumerate(zip(policy.tiers, raw.get("tiers", []), strict=True)):
        merged = _merged(defaults, table)
        missing += [f"tiers[{i}].sources.{k}" for k in stated_rule_keys(merged) if k not in tier.sources]
        missing += [f"tiers[{i}].prerequisites[{j}]" for j, p in enumerate(tier.prerequisites)
                    if not p.provenance.source and not p.provenance.assumed]
        missing += [f"tiers[{i}].revocation_reasons[{j}]" for j, r in enumerate(tier.revocation_reasons)
                    if not r.basis and not r.assumed]
    return missing


def unsourced_in(directory: Path) -> list[str]:
    """Return "file: key" for every rule of the files under `directory` with no source and not assumed."""
    out = []
    for path in sorted(Path(directory).glob("*.toml")):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        out += [f"{path.name}: {key}" for key in unsourced(parse_policy(path.name, raw), raw)]
    return out


def load_policy_file(path: Path) -> Policy:
    """Read and parse one policy file. :raises PolicyError: unreadable or malformed."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(path.name, "(syntax)", str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(path.name, "(file)", str(exc)) from None
    return parse_policy(path.name, data)


def load_policies(directory: Path) -> PolicySet:
    """Load every *.toml under `directory` and check cross-file references."""
    files = sorted(Path(directory).glob("*.toml"))
    if not files:
        raise PolicyError(str(directory), "(directory)", "no policy files (*.toml) found")
    policies = [load_policy_file(f) for f in files]
    codes = [p.code for p in policies]
    for f, p in zip(files, policies, strict=True):
        if codes.count(p.code) > 1:
            raise PolicyError(f.name, "policy.code", f"duplicate policy code {p.code!r}")
        if f.stem != p.code:
            raise PolicyError(f.name, "policy.code", f"must match the file name ({f.stem!r})")
    known = {t.code for p in policies for t in p.tiers}
    for f, p in zip(files, policies, strict=True):
        for i, t in enumerate(p.tiers):
            refs = [c for pre in t.prerequisites for c in pre.any_of] + list(t.excluded_if_holding)
            refs += [t.downgrades_to] if t.downgrades_to else []
            refs += sorted(t.criteria.title_refs())
            for ref in refs:
                if ref not in known:
                    raise PolicyError(f.name, f"tiers[{i}]", f"refers to unknown tier {ref!r}")
    return PolicySet(policies)
