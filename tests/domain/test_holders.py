"""Holders (registry/domain/holders.py, docs/holders.md): what a record of each kind carries, which
tiers it may hold, what a product title carries, and 择一申请 / 只能申请一个产品 (2021 notice 一（二）, seed 001)."""

from datetime import date
from decimal import Decimal

import pytest

from registry.domain import holders
from registry.domain.errors import RuleViolation
from tests.domain.test_policy_sources import in_seed

ON = date(2026, 6, 1)
ZONE = {"holder_kind": "zone", "zone_type": "park", "managing_body": "台州湾新区管理委员会"}


def test_the_choice_and_the_one_product_are_the_notices_words():
    assert in_seed("001", "企业依据自身条件在单项冠军示范企业和单项冠军产品中择一申请")
    assert in_seed("001", "申请单项冠军产品的,只能申请一个产品")


def test_a_zone_needs_its_type_and_managing_body_and_has_no_size_or_industry():
    holders.check_record("zone", ZONE)
    with pytest.raises(RuleViolation) as missing:
        holders.check_record("zone", {"zone_type": None, "managing_body": "  "})
    assert set(missing.value.errors) == {"zone_type", "managing_body"}
    assert "园区（区域）须填写管理机构" in missing.value.errors["managing_body"][0]
    with pytest.raises(RuleViolation) as extra:
        holders.check_record("zone", {**ZONE, "size_class": "small", "industry_code": "C3311"})
    assert set(extra.value.errors) == {"size_class", "industry_code"}
    assert "园区（区域）不填写企业规模" in extra.value.errors["size_class"][0]


def test_an_enterprise_has_no_zone_fields_and_an_unknown_kind_or_type_is_refused():
    holders.check_record("enterprise", {"size_class": "small", "industry_code": "C3311", "zone_type": ""})
    with pytest.raises(RuleViolation) as wrong:
        holders.check_record("enterprise", {"managing_body": "某管委会"})
    assert "企业不填写管理机构" in wrong.value.errors["managing_body"][0]
    with pytest.raises(RuleViolation, match="登记类型应为"):
        holders.check_record("product", {})  # a product holds a title; it is never a record
    with pytest.raises(RuleViolation, match="区域类型应为"):
        holders.check_record("zone", {**ZONE, "zone_type": "planet"})


def test_each_tier_goes_to_its_holder_kind_only(policies):
    zone_tier, giant = policies.tier("cooperation_zone"), policies.tier("little_giant")
    holders.check_holder(zone_tier, "zone")
    holders.check_holder(giant, "enterprise")
    holders.check_holder(policies.tier("champion_product"), "enterprise")  # a product is an enterprise's
    with pytest.raises(RuleViolation, match="中外中小企业合作区只授予园区（区域），「某公司」是企业"):
        holders.check_holder(zone_tier, "enterprise", "某公司")
    with pytest.raises(RuleViolation, match="只授予企业"):
        holders.check_holder(giant, "zone")
    with pytest.raises(RuleViolation, match="只授予企业"):
        holders.check_holder(policies.tier("champion_product"), "zone")


def test_a_product_title_names_its_product_and_only_product_titles_carry_one(policies):
    product, champion = policies.tier("champion_product"), policies.tier("single_champion")
    holders.check_product(product, holders.Product("高精度轴承", Decimal("1"), Decimal("100")))
    holders.check_product(product, holders.Product(None), required=False)  # a downgrade without a known product
    with pytest.raises(RuleViolation, match="须填写产品名称"):
        holders.check_product(product, holders.Product("  "))
    with pytest.raises(RuleViolation) as carried:
        holders.check_product(champion, holders.Product("轴承", Decimal(5), None))
    assert set(carried.value.errors) == {"product_name", "product_sales"}


@pytest.mark.parametrize(("sales", "share", "bad"), [
    (Decimal("-0.01"), None, {"product_sales"}), (Decimal(0), Decimal(0), set()),
    (None, Decimal("100"), set()), (None, Decimal("100.01"), {"product_share"}),
    (None, Decimal("-1"), {"product_share"})])
def test_product_figures_bounds(policies, sales, share, bad):
    given = holders.Product("轴承", sales, share)
    if not bad:
        holders.check_product(policies.tier("champion_product"), given)
        return
    with pytest.raises(RuleViolation) as refused:
        holders.check_product(policies.tier("champion_product"), given)
    assert set(refused.value.errors) == bad


def test_one_live_product_per_enterprise_and_programme(policies):
    product = policies.tier("champion_product")
    held = holders.HeldTitle("champion_product", "single_champion", "product", date(2024, 3, 1), None, "轴承")
    with pytest.raises(RuleViolation, match="已持有制造业单项冠军产品（轴承）：每家企业只能申请一个产品"):
        holders.check_one_product(product, ON, [held], {"champion_product": "制造业单项冠军产品"})
    ended = holders.HeldTitle("champion_product", "single_champion", "product", date(2024, 3, 1), ON, "轴承")
    holders.check_one_product(product, ON, [ended], {})  # ended on the day: a new product may start that day
    ending_tomorrow = holders.HeldTitle("champion_product", "single_champion", "product", date(2024, 3, 1),
                                        date(2026, 6, 2))
    with pytest.raises(RuleViolation):
        holders.check_one_product(product, ON, [ending_tomorrow], {})
    other_programme = holders.HeldTitle("x_product", "other", "product", date(2024, 3, 1))
    holders.check_one_product(product, ON, [other_programme], {})
    holders.check_one_product(policies.tier("single_champion"), ON, [held], {})  # not a product tier: no rule here


def test_the_policy_files_state_the_choice_both_ways(policies):
    for on in ("2021-07-01", "2024-01-01"):
        assert policies.tier("single_champion", date.fromisoformat(on)).excluded_if_holding == ("champion_product",)
        product = policies.tier("champion_product", date.fromisoformat(on))
        assert product.excluded_if_holding == ("single_champion",) and product.holder == "product"
        assert "择一申请" in product.sources["excluded_if_holding"].quote
    assert policies.tier("single_champion").downgrades_to == "champion_product"  # the replacement stays legal
