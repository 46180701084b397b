"""The one amount parser (issue 18 §6): what people type, read alike by the import and the forms."""

from decimal import Decimal

import pytest

from registry.domain.amounts import AmountError, parse_money, read_number
from registry.roster.imports import values

ACCEPTED = {
    "1234567.89": "1234567.89",
    "1,234,567.89": "1234567.89",
    "1,234.5万": "12345000.00",
    "1,234.5万元": "12345000.00",
    "1.2亿": "120000000.00",
    "1.5亿元": "150000000.00",
    "12千元": "12000.00",
    "12345元": "12345.00",
    "¥12,345.67": "12345.67",
    "￥ 1 234": "1234.00",
    "１，２３４．５万": "12345000.00",
    "１２３４５６": "123456.00",
    "１２３\u3000４５６元": "123456.00",
    "0.005": "0.01",
    "1.": "1.00",
    "0": "0.00",
}
REFUSED = {
    "12万3": "应为数字", "1e9": "应为数字", "1E9": "应为数字", "1_000": "应为数字", "NaN": "应为数字",
    "Infinity": "应为数字", "12元5角": "应为数字", "万": "应为数字", "0x10": "应为数字", "一万": "应为数字",
    "12,34": "千位分隔符", "1,2345.6": "千位分隔符", "-5": "不能为负数", "－1.2万": "不能为负数",
    "1亿亿": "应为数字", "99999999999亿": "金额过大",
    # more digits than the fen's rounding can hold: refused as too large, never an arithmetic error
    "9" * 29: "金额过大", "9" * 40: "金额过大", "9" * 30 + "万": "金额过大", "1" * 5000: "金额过大",
    "9999999999999999.995": "金额过大", "10000000000000000": "金额过大",
}


@pytest.mark.parametrize(("written", "yuan"), ACCEPTED.items())
def test_each_accepted_form_is_read_as_yuan_by_the_parser_and_the_import(written, yuan):
    assert parse_money(written) == Decimal(yuan)
    assert values.money(written) == Decimal(yuan)


@pytest.mark.parametrize(("written", "why"), REFUSED.items())
def test_junk_is_refused_with_a_reason_by_the_parser_and_the_import(written, why):
    with pytest.raises(AmountError, match=why):
        parse_money(written)
    with pytest.raises(values.CellError, match=why):
        values.money(written)


def test_a_written_unit_wins_over_the_default_one():
    assert parse_money("12", default_unit=Decimal(10_000)) == Decimal("120000.00")
    assert parse_money("12元", default_unit=Decimal(10_000)) == Decimal("12.00")


def test_the_sign_is_kept_for_callers_that_allow_it():
    assert read_number("-1,234.5") == (Decimal("-1234.5"), None)
    assert read_number("45.5％", (("%", Decimal(1)),)) == (Decimal("45.5"), Decimal(1))


def test_the_largest_amount_the_database_holds_is_read_and_one_fen_more_is_refused():
    assert parse_money("9999999999999999.99") == Decimal("9999999999999999.99")
    assert parse_money("0." + "0" * 50 + "1") == Decimal("0.00")
    with pytest.raises(AmountError, match="金额过大"):
        parse_money("9999999999999999.995")


@pytest.mark.parametrize("written", ["9" * 40, "1" * 5000 + "%", 1e300, "99999.995"])
def test_a_percentage_too_long_for_its_column_is_refused_not_crashed(written):
    with pytest.raises(values.CellError, match="百分比过大"):
        values.percent(written)
