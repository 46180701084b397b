"""Password policy (等保 2.0 level 3): at least 10 characters from at least three of the four
classes, no user name inside, no surrounding spaces; a password lasts 90 days, one never
recorded has expired. Each boundary at, just below and just above."""

from datetime import datetime, timedelta

from registry.domain.passwords import CLASS_NAMES, PasswordPolicy, classes, expired, problem

POLICY = PasswordPolicy()


def test_the_floors():
    assert (POLICY.min_length, POLICY.min_classes, POLICY.history, POLICY.max_age_days) == (10, 3, 5, 90)


def test_each_character_class_counts_once():
    assert classes("") == 0
    assert classes("abc") == 1
    assert classes("ABC") == 1
    assert classes("123") == 1
    assert classes("!@#") == 1
    assert classes(" ") == 1  # a space is an "other" character
    assert classes("aB") == 2
    assert classes("aB1") == 3
    assert classes("aB1!") == 4
    assert classes("a1") == 2 and classes("A!") == 2 and classes("1!") == 2


def test_length_at_and_below_the_minimum():
    assert problem("Abcdefgh1", POLICY) == "新密码至少 10 位"  # 9
    assert problem("Abcdefgh12", POLICY) is None  # 10
    assert problem("Abcdefgh12", PasswordPolicy(min_length=11)) == "新密码至少 11 位"


def test_three_classes_needed_two_refused():
    message = "新密码须包含小写字母、大写字母、数字、其他字符中的至少 3 类"
    assert problem("abcdefghij", POLICY) == message
    assert problem("abcdefghi1", POLICY) == message  # two classes
    assert problem("abcdefgh1!", POLICY) is None  # three
    assert problem("abcdefgh1!", PasswordPolicy(min_classes=4)).endswith("中的至少 4 类")
    assert CLASS_NAMES == ("小写字母", "大写字母", "数字", "其他字符")


def test_the_user_name_may_not_appear_in_any_case():
    assert problem("Zhang.San2026", POLICY, username="zhang") == "新密码不得包含用户名"
    assert problem("xZHANGx2026!", POLICY, username="Zhang") == "新密码不得包含用户名"
    assert problem("Zhang.San2026", POLICY, username="li") is None
    assert problem("Zhang.San2026", POLICY) is None  # no user name given
    assert problem("Xxxx.Yyyy2026", POLICY) is None  # … whatever the password contains


def test_no_surrounding_spaces():
    assert problem(" Abcdefg12!", POLICY) == "新密码首尾不得有空格"
    assert problem("Abcdefg12! ", POLICY) == "新密码首尾不得有空格"
    assert problem("Abc defg12!", POLICY) is None


def test_a_password_expires_on_the_ninetieth_day():
    changed = datetime(2026, 1, 1, 9, 0)
    assert not expired(changed, changed + timedelta(days=90) - timedelta(seconds=1), POLICY)
    assert expired(changed, changed + timedelta(days=90), POLICY)
    assert expired(changed, changed + timedelta(days=91), POLICY)
    assert not expired(changed, changed, POLICY)
    assert expired(changed, changed + timedelta(days=30), PasswordPolicy(max_age_days=30))


def test_a_password_never_recorded_has_expired():
    assert expired(None, datetime(2026, 1, 1), POLICY)
