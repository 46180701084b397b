"""Personal information in the pure domain (issue 16 §6): how each kind is masked, at and around its
limits, and how a phone or an e-mail is normalised and recognised for the blind index."""

import pytest

from registry.domain.personal import (
    CONTACT_FIELDS,
    INDEXED,
    MASK,
    NORMALIZERS,
    looks_like_email,
    looks_like_phone,
    mask,
    mask_changes,
    mask_email,
    mask_field,
    mask_name,
    mask_phone,
    mask_text,
    normalize_email,
    normalize_phone,
)


@pytest.mark.parametrize(("value", "shown"), [
    ("13812341234", "138****1234"),
    ("138-1234-1234", "138****1234"),  # formatting dropped
    ("0576-88881234", "057****1234"),
    ("12345678", "123****5678"),  # 8 digits: the long form
    ("1234567", "****67"),  # 7 digits: only the last two
    ("123", "****23"),
    ("12", "****"),  # two digits or fewer: nothing shown
    ("", "****"),
])
def test_a_phone_shows_its_first_three_and_last_four_digits(value, shown):
    assert mask_phone(value) == shown


@pytest.mark.parametrize(("value", "shown"), [
    ("zhang@example.org", "z***@example.org"),
    ("  Li@Example.org ", "L***@Example.org"),
    ("@example.org", "***@example.org"),
    ("a@b@example.org", "a***@b@example.org"),  # split at the first @
    ("not-an-address", "n***"),  # no @: masked as text
])
def test_an_email_shows_its_first_letter_and_its_domain(value, shown):
    assert mask_email(value) == shown


@pytest.mark.parametrize(("value", "shown"), [("张三", "张*"), ("欧阳修", "欧**"), (" 王 ", "*"), ("李", "*"), ("", "*")])
def test_a_name_keeps_its_first_character(value, shown):
    assert mask_name(value) == shown


@pytest.mark.parametrize(("value", "shown"), [
    ("a@b.cn", "a***@b.cn"),
    ("138 1234 1234", "138****1234"),
    ("（0576）8888123", "057****8123"),
    ("微信 wx123", "微***"),
    ("  ", ""),
    ("123456", "1***"),  # six characters: too short for a phone number
])
def test_a_contact_of_unknown_shape_is_masked_as_what_it_is(value, shown):
    assert mask_text(value) == shown


def test_mask_leaves_empty_and_masked_values_and_non_text_alone():
    assert mask("phone", None) is None and mask("phone", "") == "" and mask("phone", 5) == 5
    assert mask("phone", "138****1234") == "138****1234"  # masked again unchanged
    assert mask("name", "张三") == "张*" and mask("email", "z@x.cn") == "z***@x.cn" and mask("text", "abc") == "a***"
    assert MASK == "*"


def test_only_the_contact_fields_are_masked():
    assert CONTACT_FIELDS == {"contact_name": "name", "contact_phone": "phone", "contact_email": "email"}
    assert INDEXED == ("contact_phone", "contact_email")
    assert mask_field("contact_phone", "13812341234") == "138****1234"
    assert mask_field("name", "张三有限公司") == "张三有限公司"
    changes = {"contact_name": ["张三", "李四"], "contact_email": "a@b.cn", "name": ["甲", "乙"]}
    assert mask_changes(changes) == {"contact_name": ["张*", "李*"], "contact_email": "a***@b.cn", "name": ["甲", "乙"]}
    assert changes["contact_name"] == ["张三", "李四"]  # the caller's dict is left as it was
    assert mask_changes({"contact_phone": ("13812341234", None)}) == {"contact_phone": ["138****1234", None]}


@pytest.mark.parametrize(("value", "digits"), [
    ("138-1234-1234", "13812341234"), ("+86 138 1234 1234", "13812341234"), ("8613812341234", "13812341234"),
    ("86138123412345", "86138123412345"),  # 14 digits: no country code taken off
    ("0576-88881234", "057688881234"),
])
def test_a_phone_is_matched_by_its_digits_without_the_country_code(value, digits):
    assert normalize_phone(value) == digits == NORMALIZERS["phone"](value)


def test_an_email_is_matched_trimmed_and_lower_cased():
    assert normalize_email("  Zhang@Example.ORG ") == "zhang@example.org" == NORMALIZERS["email"](" Zhang@Example.ORG")


@pytest.mark.parametrize(("text", "phone", "email"), [
    ("13812341234", True, False), ("138 1234 1234", True, False), ("1234567", True, False),
    ("123456", False, False), ("---()----", False, False), ("a@b.cn", False, True), ("a@b", False, False),
    ("张三", False, False), (" a@b.cn ", False, True),
])
def test_a_search_text_is_recognised_as_a_phone_or_an_email(text, phone, email):
    assert looks_like_phone(text) is phone and looks_like_email(text) is email
