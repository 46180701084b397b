"""USCC normalisation and wording, region levels: mutation survivors (docs/mutation.md)."""

import pytest

from registry.domain import uscc
from registry.domain.errors import RuleViolation
from registry.domain.regions import level

GOOD = "91331002MA0000001K"


def test_normalize_drops_spaces_and_dashes_and_upper_cases():
    assert uscc.normalize(" ma-1\u30002 ") == "MA12"
    assert uscc.normalize(None) == ""
    assert uscc.normalize("") == ""


def test_refusals_are_filed_under_uscc_by_default_with_exact_wording():
    with pytest.raises(RuleViolation) as err:
        uscc.validate("91331002MA000000IK")
    assert err.value.errors == {"uscc": ["统一社会信用代码含有非法字符 / contains characters GB 32100 does not allow"]}
    with pytest.raises(RuleViolation) as err:
        uscc.validate("91331002MA0000001X", field="code")
    assert err.value.errors == {"code": ["统一社会信用代码校验位错误，应为 K / wrong check digit"]}


def test_region_warning_names_the_registration_code_exactly():
    assert uscc.region_warning(GOOD, "330102") == (
        "统一社会信用代码的登记机关代码 331002 与所在地区 330102 不一致，请核实是否跨地区迁移"
        " / registration region 331002 differs from declared region 330102")
    # A code registered by the province (digits 3–8 = 330000) covers every district in it: only
    # digits 3–8 are read, never the ninth.
    assert uscc.region_warning("91330000MA0000001K", "331002") is None


@pytest.mark.parametrize(("code", "kind"), [("330000", "province"), ("331000", "city"), ("331002", "district"),
                                            ("110000", "province")])
def test_region_levels(code, kind):
    assert level(code) == kind
