"""What is a name and what is a way to reach someone: the table behind real-name objections."""

import pytest

from registry.domain.objectors import ANONYMOUS_RULE, classify, not_a_name, reachable

NAMES = [  # (signature, a name?)
    ("王建国", True), ("李娜", True), ("欧阳娜娜", True), ("买买提·艾力", True), ("John Smith", True),
    ("Ｌｉ Ｍｉｎｇ", True), ("  张 伟  ", True),
    ("", False), ("   ", False), (None, False), ("　", False),
    ("匿名", False), ("匿名群众", False), ("知情人士", False), ("一名员工", False), ("群众", False),
    ("热心市民", False), ("一位知情者", False), ("网友", False), ("某某", False), ("王某某", False), ("李某", False),
    ("张XX", False), ("王××", False), ("X", False), ("王", False), ("A", False), ("12345", False), ("***", False),
    ("？！", False), ("Anonymous", False), ("n/a", False), ("unknown", False), ("不愿透露姓名", False),
    ("举报人", False), ("公司内部人士", False), ("王" + "建" * 40, False),
]


@pytest.mark.parametrize(("signature", "is_name"), NAMES)
def test_what_is_not_a_name(signature, is_name):
    why = not_a_name(signature)
    assert (why is None) == is_name, (signature, why)
    if why is not None:
        assert why and all(ord(c) > 127 or not c.isalpha() for c in why)  # the reason is in Chinese


def test_an_organisation_may_have_a_long_name_but_not_a_placeholder():
    long_name = "台州市椒江区" + "精密机械制造" * 8 + "有限公司"
    assert not_a_name(long_name, organisation=True) is None
    assert not_a_name(long_name) is not None
    assert not_a_name("某公司", organisation=True) is not None


CONTACTS = [
    ("13800000000", True), ("138-0000-0000", True), ("+86 138 0000 0000", True), ("８６１３８００００００００", True),
    ("0576-88888888", True), ("(0576)88888888", True), ("0576-88888888-123", True), ("010 12345678", True),
    ("浙江省台州市椒江区中山路88号", True), ("椒江区开发大道1号3幢201室", True),
    ("", False), (None, False), ("x", False), ("12345678901", False), ("1380000000", False),
    ("138000000001", False), ("88888888", False), ("00000000000", False), ("wang@example.com", False),
    ("椒江", False), ("请与我联系", False), ("台州市", False),
]


@pytest.mark.parametrize(("contact", "ok"), CONTACTS)
def test_a_phone_or_an_address_reaches_someone(contact, ok):
    assert reachable(contact) == ok, contact


def test_classify_combines_name_contact_and_claim():
    assert classify("王建国", "real_name", "13800000000").identity == "real_name"
    assert classify("台州某某有限公司", "seal", "13800000000").anonymous
    assert classify("台州精工有限公司", "seal", "椒江区开发大道1号").identity == "seal"
    nameless = classify("知情人士", "real_name", "13800000000")
    assert nameless.anonymous and "知情" in nameless.why
    unreachable = classify("王建国", "real_name", "wang@example.com")
    assert unreachable.anonymous and "电话或地址" in unreachable.why
    assert classify("王建国", "anonymous", "13800000000").anonymous  # the submitter asked not to be named
    with pytest.raises(ValueError):
        classify("王建国", "someone", "13800000000")


def test_the_handling_rule_is_marked_assumed_and_quotes_its_seed():
    assert ANONYMOUS_RULE.assumed and ANONYMOUS_RULE.note
    assert "書面舉證材料" in ANONYMOUS_RULE.quote and "000" in ANONYMOUS_RULE.source
