"""Nothing on a page speaks the browser's language instead of Chinese. A browser's own date box shows the pattern
of the browser's language (mm/dd/yyyy in an English Chromium, whatever the page's lang), so page dates are text
boxes typed in Chinese order; its own validation bubbles ("Please fill out this field.") are in that language too,
so no form asks the browser to validate (the server answers in Chinese, naming the field); the file box's
"Choose File" is covered by file-input.js (tests/e2e/test_browser_language.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest

from registry.cli.base import today_in
from tests.factories import grant, make_enterprise
from tests.web.pages import page


@pytest.fixture
def roster(session, admin, rules, settings):
    today = today_in(settings.timezone)
    old = make_enterprise(session, admin, region_code="331002", name="台州老牌机械有限公司")
    grant(session, admin, rules, old, "innovative_sme", today - timedelta(days=400))
    new = make_enterprise(session, admin, region_code="331002", name="台州新近电子有限公司")
    grant(session, admin, rules, new, "innovative_sme", today - timedelta(days=10))
    session.commit()
    return today


def _inputs(html: str) -> list[str]:
    return re.findall(r"<input[^>]*>", html)


@pytest.mark.parametrize("path", ["/enterprises", "/audit", "/reminders"])
def test_no_page_renders_a_browser_date_box(login_as, roster, path):
    html = page(login_as("officer", "331000"), path)
    dates = [tag for tag in _inputs(html) if 'placeholder="如 2026-06-30"' in tag]
    assert dates, f"{path} has a date field with the Chinese hint"
    assert not any('type="date"' in tag for tag in _inputs(html))
    assert all('type="text"' in tag for tag in dates)


@pytest.mark.parametrize("written", ["{d:%Y-%m-%d}", "{d.year}/{d.month}/{d.day}", "{d.year}.{d.month}.{d.day}",
                                     "{d.year}年{d.month}月{d.day}日", " {d.year} 年 {d.month} 月 {d.day} 日 ",
                                     "{d:%Y%m%d}", "\u200b{d:%Y-%m-%d}\u200b", "{d.year}-\ufeff{d.month}-{d.day}"])
def test_a_day_is_read_however_an_officer_writes_it(login_as, roster, written):
    as_of = roster - timedelta(days=100)  # the older title was granted by then, the newer not yet
    officer = login_as("officer", "331000")
    text = written.format(d=as_of)
    html = page(officer, "/enterprises?" + urlencode({"as_of": text}))
    assert "共 1 家企业" in html and "台州老牌机械有限公司" in html and "台州新近电子有限公司" not in html
    wide = text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789-/."})  # full-width digits and marks
    assert page(officer, "/enterprises?" + urlencode({"as_of": wide})).count("台州老牌机械有限公司") >= 1


@pytest.mark.parametrize("written", ["06/30/2026", "2026-02-29", "2026-13-01", "明天", "x" * 10_000, "2026116",
                                     "202601161", "20261301"])
def test_a_day_that_cannot_be_read_names_the_order(login_as, roster, written):
    html = page(login_as("officer", "331000"), "/enterprises?" + urlencode({"as_of": written}))
    assert "不是有效的日期值，请按“年-月-日”填写" in html
    assert "共 2 家企业" in html  # the bad filter is shown, the roster is not narrowed by it


TEMPLATES = Path(__file__).resolve().parents[2] / "registry"


def test_no_form_asks_the_browser_to_validate():
    forms = [(path.name, tag) for path in TEMPLATES.rglob("*.html")
             for tag in re.findall(r"<form\b[^>]*>", path.read_text(encoding="utf-8"))]
    assert len(forms) > 40
    assert [f for f in forms if "novalidate" not in f[1]] == []
