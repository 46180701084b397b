"""Enterprise names as lists write them: one key for the spellings of one name, the forms a register holds."""

from __future__ import annotations

import pytest

from registry.domain.names import MAX_FORMS, lookup_forms, name_key, search_words, similarity


@pytest.mark.parametrize(("a", "b"), [
    ("杭州精工（椒江）机械有限公司", "杭州精工(椒江)机械有限公司"),
    ("杭州精工【椒江】机械有限公司", "杭州精工[椒江]机械有限公司"),
    ("杭州精工机械有限公司", "杭州精工机械有限责任公司"),
    ("杭州 精工机械\u3000有限公司", "杭州精工机械有限公司"),
    ("杭州ＡＢＣ精工１２３有限公司", "杭州abc精工123有限公司"),
    ("杭州Abc精工有限公司", "杭州aBC精工有限公司"),
])
def test_one_key_for_the_spellings_of_one_name(a, b):
    assert name_key(a) == name_key(b)
    assert similarity(a, b) == 1.0


@pytest.mark.parametrize(("a", "b"), [
    ("杭州精工机械有限公司", "杭州精工机械股份有限公司"),  # a 股份 company is another company
    ("杭州精工机械有限公司", "杭州精功机械有限公司"),
    ("杭州精工（椒江）机械有限公司", "杭州精工机械有限公司"),
])
def test_different_names_keep_different_keys(a, b):
    assert name_key(a) != name_key(b)
    assert similarity(a, b) < 1.0


def test_lookup_forms_cover_the_register_spellings():
    forms = lookup_forms("杭州ABC精工(椒江)机械有限公司")
    for stored in ("杭州ABC精工(椒江)机械有限公司", "杭州ＡＢＣ精工（椒江）机械有限公司", "杭州ABC精工（椒江）机械有限责任公司"):
        assert stored in forms
    assert forms[0] == "杭州ABC精工(椒江)机械有限公司" and len(forms) <= MAX_FORMS
    assert "杭州精工股份有限责任公司" not in lookup_forms("杭州精工股份有限公司")


def test_search_words_leave_out_company_forms_and_split_long_runs():
    assert search_words("台州精工机械有限责任公司") == ["台州精工机械", "台州精", "工机械"]
    assert search_words("ABC有限公司") == []
    assert similarity("台州精工机械有限公司", "台州精工机械制造有限公司") > 0.8
    assert similarity("台州精工机械有限公司", "温岭泵业有限公司") < 0.6


def test_bigram_overlap_orders_names_cheaply():
    from registry.domain.names import bigram_overlap, name_key

    key = name_key("台州精工机械有限公司")
    assert bigram_overlap(key, key) == 1.0
    assert bigram_overlap(key, name_key("台州精工机械制造有限公司")) > bigram_overlap(key, name_key("温岭泵业有限公司"))
    assert bigram_overlap("甲", "乙") == 0.0 and bigram_overlap("甲", "甲") == 1.0
