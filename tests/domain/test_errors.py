"""The refusals' messages and details: a rule violation's message is its first field and message;
a missing holiday year names the year and what the administrator must load."""

from registry.domain.errors import (
    CalendarDataMissing,
    Conflict,
    DomainError,
    IllegalTransition,
    NotFound,
    PolicyError,
    RuleViolation,
    StaleVersion,
)


def test_a_domain_error_keeps_its_message_and_details():
    error = DomainError("不存在", status="active")
    assert str(error) == "不存在" and error.message == "不存在" and error.details == {"status": "active"}
    assert isinstance(NotFound("x"), DomainError)
    assert isinstance(StaleVersion("x"), Conflict) and isinstance(IllegalTransition("x"), Conflict)


def test_a_violation_reads_as_its_first_field_and_message():
    error = RuleViolation({"name": ["名称必填", "名称过长"], "uscc": ["统一社会信用代码无效"]})
    assert error.message == "name: 名称必填" and str(error) == "name: 名称必填"
    assert error.errors == {"name": ["名称必填", "名称过长"], "uscc": ["统一社会信用代码无效"]}
    assert RuleViolation({"name": ["名称必填"]}, "请更正").message == "请更正"


def test_a_violation_of_one_field():
    error = RuleViolation.on("granted_on", "认定日期不得晚于今天")
    assert error.errors == {"granted_on": ["认定日期不得晚于今天"]}
    assert error.message == "granted_on: 认定日期不得晚于今天"


def test_an_empty_violation_still_has_a_message():
    error = RuleViolation({})
    assert error.message == ": " and error.errors == {}


def test_a_policy_error_names_the_file_the_key_and_the_problem():
    error = PolicyError("national.toml", "tiers[0].years", "必须为正整数")
    assert error.message == "national.toml: tiers[0].years: 必须为正整数"
    assert (error.file, error.key, error.problem) == ("national.toml", "tiers[0].years", "必须为正整数")


def test_missing_holiday_data_names_the_year_and_the_notice_to_load():
    error = CalendarDataMissing(2027)
    assert error.year == 2027 and error.details == {"year": 2027}
    assert error.message == (
        "缺少 2027 年节假日数据，请管理员录入国务院办公厅 2027 年部分节假日安排通知"
        " / no holiday data for 2027: load that year's State Council notice into the holiday override table")
