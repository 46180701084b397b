"""docs/policies.md from the policy files: every rule, its value, its source, and whether it is assumed.

`flask policies doc` writes the file; a test renders it again and compares, so the committed
file always says what config/policies says. A rule whose value is in no source text carries the
word "assumed" in its row — and only such rows do, so `grep -c assumed docs/policies.md` counts
the assumed rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from registry.domain.criteria_nodes import Flag, Group, Indicator, InRegion, Manual, Node, Score, Threshold, Title
from registry.domain.criteria_report import SYMBOLS, show_bound
from registry.domain.eligibility import BLOCK_NAMES
from registry.domain.listings import REPORT_BY_NAMES, REPORT_EVERY_NAMES
from registry.domain.policy import Policy, PolicySet, Provenance, Tier

ASSUMED = "assumed"
OUTCOMES = {"expire": "不再保留（到期失效）", "revoke": "撤销", "lose_review_eligibility": "丧失下一次复核资格",
            "flag": "仅标记"}
HOLDERS = {"enterprise": "企业", "product": "产品（单项冠军产品）", "zone": "园区（区域）"}


@dataclass(frozen=True)
class Row:
    """One rule of the document."""

    rule: str
    value: str
    source: str
    assumed: bool
    note: str = ""


def _cell(text: object) -> str:
    return str(text).replace("|", "｜").replace("\n", " ").strip()


def _from(p: Provenance | None) -> tuple[str, bool, str]:
    if p is None:
        return "（缺出处）", False, ""
    source = f"{p.source}：「{p.quote}」" if p.quote else p.source
    return source, p.assumed, p.note


def _tier_values(tier: Tier) -> Iterator[tuple[str, str, str]]:
    """Yield (key, rule name, value) for every rule the tier states."""
    if tier.holder != "enterprise":
        yield "holder", "称号持有者", HOLDERS[tier.holder]
    yield "authority", "认定机关", tier.authority
    if tier.review_chain:
        yield "review_chain", "复核逐级", " → ".join(tier.review_chain)
    yield "validity.semantics", "有效期计法", tier.validity
    if tier.validity_years is not None:
        yield "validity.years", "有效期（年）", str(tier.validity_years)
    if tier.review_window_days is not None:
        yield "review.window_days", "复核窗口（到期前日数）", str(tier.review_window_days)
    if tier.review_follows_expiry:
        yield "review.follows_expiry", "复核在到期之后", "是"
        yield "review.after_expiry_days", "到期后复核期限（日）", str(tier.post_expiry_review_days)
    yield "review.missed", "未参加复核", OUTCOMES[tier.missed_review]
    yield "review.failed", "复核不通过", OUTCOMES[tier.failed_review]
    if tier.annual_update_due is not None:
        month, day = tier.annual_update_due
        yield "annual_update.due", "年度信息更新截止", f"{month:02d}-{day:02d}"
        yield "annual_update.missed", "未按期更新", OUTCOMES[tier.missed_annual_update]
    if tier.change_deadline is not None:
        yield "major_change.deadline", "重大变化报告期限", str(tier.change_deadline)
        yield "major_change.missed", "未及时报告重大变化", OUTCOMES[tier.missed_change_report]
    if tier.excluded_if_holding:
        yield "excluded_if_holding", "持有即不予认定", "、".join(tier.excluded_if_holding)
    if tier.requires_audit_code:
        yield "requires_audit_code", "审计报告须附验证码", "是"
    if tier.downgrades_to:
        yield "downgrades_to", "复核可降级为", tier.downgrades_to
    if tier.publicity_min is not None:
        yield "publicity_min", "公示期不少于", str(tier.publicity_min)


def _node_value(node: Node) -> str:
    if isinstance(node, Threshold):
        kind = node.metric.kind
        if node.bound is not None:
            bound = show_bound(kind, node.bound)
        else:
            bound = "；".join(f"{z.name} {show_bound(kind, z.bound)}" for z in node.zones)
        span = f"（近{node.years}年{'合计' if node.over == 'total' else '每年'}）" if node.years > 1 else ""
        unrecorded = "；未记录该数据时待人工核实" if node.missing == "manual" else ""
        return f"{node.wording}（{SYMBOLS[node.op]}）{bound}{span}{unrecorded}"
    if isinstance(node, Manual):
        return "待人工核实"
    if isinstance(node, Flag):
        return f"{'是' if node.expected else '否'}（{node.flag}）"
    if isinstance(node, InRegion):
        return "、".join(node.regions)
    if isinstance(node, Title):
        return "持有 " + "或".join(node.any_of)
    if isinstance(node, Score):
        mins = "，".join(f"{k}≥{v}" for k, v in node.minimums.items())
        return f"≥{node.pass_mark}分" + (f"（{mins}）" if mins else "")
    if isinstance(node, Indicator):
        return "；".join(f"{b.points}分：{b.label}" for b in node.bands)
    if isinstance(node, Group):
        return {"all_of": "同时满足", "any_of": "满足其一", "at_least": f"至少满足{node.k}项"}[node.mode]
    return node.kind


def _walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Group):
        for child in node.children:
            yield from _walk(child)
    if isinstance(node, Score):
        yield from node.indicators


def rows(policy: Policy, tier: Tier) -> list[Row]:
    """Return every rule of `tier` under `policy` as document rows."""
    out = []
    for key, name, value in _tier_values(tier):
        source, assumed, note = _from(tier.sources.get(key))
        out.append(Row(f"{name}（{key}）", value, source, assumed, note))
    for pre in tier.prerequisites:
        cond = f"（年销售收入{pre.when_revenue_at_most / 10**8:g}亿元以下，含本数）" if pre.when_revenue_at_most else ""
        source, assumed, note = _from(pre.provenance)
        out.append(Row("前置称号（prerequisites）", f"认定日须持有有效的 {'或'.join(pre.any_of)}{cond}", source,
                       assumed, note))
    for reason in tier.revocation_reasons:
        value = (f"撤销（{'同一梯度全部称号' if reason.scope == 'all_tiers' else '本称号'}）；"
                 + (f"禁止申报{reason.ban_years}年，范围：{BLOCK_NAMES[reason.ban_blocks]}" if reason.ban_years
                    else "不设禁止申报期"))
        out.append(Row(f"撤销原因 {reason.code}：{reason.name}", value, reason.basis or ("" if reason.assumed else "（缺出处）"),
                       reason.assumed, reason.note))
    for item in tier.criteria.items:
        for node in _walk(item):
            out.append(Row(f"条件 {node.id}：{node.name}", _node_value(node), node.source, node.assumed, node.note))
    return out + list_rows(tier)


def list_rows(tier: Tier) -> list[Row]:
    """Return the rows of a tier's list, recommendation channels and periodic reports (registry.domain.listings)."""
    out = []
    if tier.listing is not None:
        source, assumed, note = _from(tier.listing.cited)
        out.append(Row("名单（list）", f"{tier.listing.kind_name}；出库：{tier.listing.exit or '未规定'}", source,
                       assumed, note))
    for ch in tier.channels:
        source, assumed, note = _from(ch.cited)
        quota = f"每家{ch.unit}每批不超过{ch.quota}家" if ch.quota is not None else f"{ch.unit}推荐，名额不限"
        outside = f"；不占名额：{ch.outside_quota}" if ch.outside_quota else ""
        out.append(Row(f"推荐渠道 {ch.code}：{ch.name}", quota + outside, source, assumed, note))
    for rep in tier.reports:
        source, assumed, note = _from(rep.cited)
        if rep.every == "year" and rep.due is not None:
            due = f"每年{rep.due[0]}月{rep.due[1]}日前"
        elif rep.every == "quarter":
            due = f"每季度结束后{rep.days_after}日内"
        else:
            due = f"入选后{rep.days_after}日内"
        out.append(Row(f"定期报告 {rep.code}：{rep.name}", f"{due}，由{REPORT_BY_NAMES[rep.by]}报送"
                       f"（{REPORT_EVERY_NAMES[rep.every]}）", source, assumed, note))
    return out


def policy_rows(policy: Policy) -> list[Row]:
    """Return the policy-level rules (effective date, which earlier titles it reviews)."""
    source, assumed, note = _from(policy.sources.get("effective_from"))
    out = [Row("施行日期（effective_from）", policy.effective_from.isoformat(), source, assumed, note)]
    if policy.reviews_titles_of:
        source, assumed, note = _from(policy.sources.get("reviews_titles_of"))
        out.append(Row("复核此前版本的称号（reviews_titles_of）", "、".join(policy.reviews_titles_of), source,
                       assumed, note))
    return out


def _table(items: list[Row]) -> list[str]:
    lines = ["| 规则 | 值 | 出处（文件、条款或原文） | 假定 | 说明 |", "|---|---|---|---|---|"]
    for r in items:
        lines.append(f"| {_cell(r.rule)} | {_cell(r.value)} | {_cell(r.source)} | {ASSUMED if r.assumed else ''} "
                     f"| {_cell(r.note)} |")
    return lines


def all_rows(policies: PolicySet) -> list[Row]:
    """Return every row of the document."""
    return [r for p in policies.policies for r in policy_rows(p) + [x for t in p.tiers for x in rows(p, t)]]


def render(policies: PolicySet) -> str:
    """Render docs/policies.md."""
    every = all_rows(policies)
    out = [
        "# 政策规则及其出处 / Policy rules and their sources",
        "",
        "由 `flask policies doc` 据 `config/policies/*.toml` 生成，请勿手改；测试核对本文件与政策文件一致。",
        "Generated by `flask policies doc` from `config/policies/*.toml`; do not edit (a test compares).",
        "",
        f"共 {len(every)} 条规则；原文中找不到、由本系统假定的值 {sum(r.assumed for r in every)} 条，"
        "在「假定」列标出并在「说明」中写明已知与未知。public = 公开文本（seeds 未收录原文）；"
        "seed NNN = shared/seeds 中的原文。提醒天数（reminders）是本系统设置，不是政策规则，不列入。",
        "",
        "Versions: the version in force on the recognition date governs a term; a later version whose "
        "`reviews_titles_of` names it governs its review (and the next term).",
        "",
    ]
    for p in policies.policies:
        out += [f"## {p.code} — {p.name}", "",
                f"{p.document_no}；项目 `{p.programme}`"
                + (f"，梯度 `{p.ladder}`" if p.ladder else "") + f"；施行 {p.effective_from.isoformat()}。"
                f" {p.source}", ""]
        out += _table(policy_rows(p)) + [""]
        for t in p.tiers:
            out += [f"### {t.name}（`{t.code}`）", ""] + _table(rows(p, t)) + [""]
    return "\n".join(out).rstrip("\n") + "\n"
