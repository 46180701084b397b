"""clean_text: the one cleaning of user text (API, forms, import)."""

from __future__ import annotations

import pytest

from registry.domain.text import UNSAFE_RANGES, clean_code, clean_text, unsafe_ranges

ZERO_WIDTH = "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"


def test_the_table_matches_the_running_unicode_database():
    assert list(UNSAFE_RANGES) == unsafe_ranges()


@pytest.mark.parametrize("hostile", [ZERO_WIDTH, BIDI, "\x00\x01\x1f\x7f\x9f", " \u3000\u00a0\t\n ", "\u2028\u2029\u00ad"])
def test_invisible_only_text_is_empty(hostile):
    assert clean_text(hostile) == "" and clean_text(hostile, multiline=True) == ""


def test_visible_text_survives_with_invisible_characters_removed():
    assert clean_text("  台州\u200b精工\u202e有限\x00公司\ufeff ") == "台州精工有限公司"
    assert clean_text("杭州  某某\u3000公司") == "杭州 某某 公司"  # single line: whitespace runs collapse
    assert clean_text("e\u0301") == "\u00e9"  # NFC
    assert clean_text("\ue000氏精工") == "\ue000氏精工"  # private use (rare hanzi) is kept
    assert clean_text("（全角）ＡＢＣ") == "（全角）ＡＢＣ"  # no NFKC on names


def test_multiline_keeps_line_breaks_and_tabs():
    assert clean_text(" 第一行\r\n\t第二行\u200b  \r第三行 ", multiline=True) == "第一行\n\t第二行\n第三行"


def test_codes_fold_full_width_and_spaces():
    assert clean_code(" ９１３３ １０００\u200bMA ") == "91331000MA"
