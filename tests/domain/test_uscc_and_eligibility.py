"""USCC validation and the grant checks: bans, prerequisites, exclusions, the 4亿 rule."""

from decimal import Decimal

import pytest

from registry.domain import uscc
from registry.domain.eligibility import Ban, Holding, ban_ends, check_grant
from registry.domain.errors import RuleViolation
from tests.conftest import d

GOOD = "91331002MA0000001K"


def test_valid_code_is_normalised():
    assert uscc.validate(" ９１３３１００２ma０００００01k ") == GOOD
    assert uscc.validate("913310-02MA0000001K") == GOOD


@pytest.mark.parametrize(("raw", "words"), [
    ("91331002MA0000001", "18位"), ("91331002MA0000001X", "校验位"), ("91331002MA000000IK", "非法字符")])
def test_bad_codes_name_the_field(raw, words):
    with pytest.raises(RuleViolation) as err:
        uscc.validate(raw, field="uscc")
    assert list(err.value.errors) == ["uscc"] and words in err.value.errors["uscc"][0]


def test_the_quick_path_accepts_exactly_what_python_stdnum_accepts():
    """validate() skips stdnum for canonical codes with a right check digit: it must agree with it on all."""
    import random

    from stdnum.cn import uscc as stdnum_uscc

    rng, alphabet = random.Random(7), "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for _ in range(20_000):
        body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(
            rng.choice(alphabet + "IOSVZa -") for _ in range(9))
        right = stdnum_uscc.calc_check_digit(body[:17]) if all(c in alphabet for c in body) else "0"
        code = body + (right if rng.random() < 0.5 else rng.choice(alphabet))
        try:
            expected = stdnum_uscc.validate(uscc.normalize(code))
        except ValueError:
            expected = None
        try:
            got = uscc.validate(code)
        except RuleViolation:
            got = None
        assert got == expected, code


def test_region_cross_check_is_a_warning():
    assert uscc.region_warning(GOOD, "331002") is None
    assert uscc.region_warning(GOOD, "331000") is None  # the city contains the district
    assert uscc.region_warning(GOOD, "330000") is None
    warning = uscc.region_warning(GOOD, "330102")
    assert warning and "331002" in warning


NAMES = {"innovative_sme": "创新型中小企业", "specialized_sme": "专精特新中小企业", "little_giant": "小巨人"}


def test_little_giant_needs_specialized_on_the_recognition_date(policies):
    tier = policies.tier("little_giant", d("2025-07-01"))
    lapsed = [Holding("specialized_sme", d("2021-06-01"), d("2024-06-01"))]
    with pytest.raises(RuleViolation) as err:
        check_grant(tier, d("2025-07-01"), lapsed, [], None, NAMES)
    assert "专精特新中小企业" in err.value.errors["tier"][0]
    check_grant(tier, d("2025-07-01"), [Holding("specialized_sme", d("2024-06-01"), d("2027-06-01"))], [], None, NAMES)


def test_ended_holding_does_not_count(policies):
    tier = policies.tier("specialized_sme", d("2025-07-01"))
    revoked = [Holding("innovative_sme", d("2024-06-01"), d("2027-06-01"), ended_on=d("2025-01-01"))]
    with pytest.raises(RuleViolation):
        check_grant(tier, d("2025-07-01"), revoked, [], None, NAMES)


def test_champion_under_four_yi_needs_little_giant(policies):
    tier = policies.tier("single_champion", d("2025-07-01"))
    with pytest.raises(RuleViolation) as err:
        check_grant(tier, d("2025-07-01"), [], [], Decimal("399999999.99"), NAMES)
    assert "4亿元" in err.value.errors["tier"][0]
    # seed 001: "年销售收入4亿元以下的企业,如申请单项冠军,应为已入选的专精特新'小巨人'企业" — 以下
    # includes 4亿 itself; just above it the prerequisite no longer applies.
    with pytest.raises(RuleViolation):
        check_grant(tier, d("2025-07-01"), [], [], Decimal("400000000"), NAMES)
    check_grant(tier, d("2025-07-01"), [], [], Decimal("400000000.01"), NAMES)
    with pytest.raises(RuleViolation) as err:
        check_grant(tier, d("2025-07-01"), [], [], None, NAMES)
    assert "无上年度营业收入" in err.value.errors["tier"][0]
    giant = [Holding("little_giant", d("2024-01-01"), d("2027-01-01"))]
    check_grant(tier, d("2025-07-01"), giant, [], Decimal("100"), NAMES)


def test_champion_is_not_granted_little_giant(policies):
    tier = policies.tier("little_giant", d("2025-07-01"))
    holdings = [Holding("specialized_sme", d("2024-06-01"), d("2027-06-01")),
                Holding("single_champion", d("2024-06-01"), d("2027-06-01"))]
    with pytest.raises(RuleViolation, match="single_champion"):
        check_grant(tier, d("2025-07-01"), holdings, [], None, NAMES)


def test_ban_blocks_any_grant_naming_its_end(policies):
    tier = policies.tier("innovative_sme", d("2025-07-01"))
    ban = Ban(d("2025-01-10"), ban_ends(d("2025-01-10"), 3), "数据造假", "浙经信〔2025〕1号")
    assert ban.ends_on == d("2028-01-10")
    with pytest.raises(RuleViolation) as err:
        check_grant(tier, d("2025-07-01"), [], [ban], None, NAMES)
    assert "2028-01-10" in err.value.errors["uscc"][0]
    check_grant(tier, d("2028-01-11"), [], [ban], None, NAMES)
    lifted = Ban(ban.starts_on, ban.ends_on, ban.reason, lifted_on=d("2026-01-01"))
    check_grant(tier, d("2026-02-01"), [], [lifted], None, NAMES)


def test_holding_the_same_tier_is_refused(policies):
    tier = policies.tier("innovative_sme", d("2025-07-01"))
    with pytest.raises(RuleViolation, match="already holds"):
        check_grant(tier, d("2025-07-01"), [Holding("innovative_sme", d("2024-01-01"), d("2027-01-01"))], [], None, NAMES)
