"""Issue 8 (browser end-to-end tests): the points tests/e2e did not yet prove on their own.

Against the app started as `make run` starts it (tests/e2e/conftest.py's `server`), in Debian's
Chromium driven by Playwright:

- the roster filtered by a city and a tier as a province officer lists only that city and tier;
- an enterprise's timeline shows its terms and events;
- a revocation with an all_tiers reason shows every title ended, the ban with its end date and
  the audit entry naming the officer, in the history and on the audit page;
- keyboard: every control of an officer's form is reached with Tab and the form submits by keyboard;
  (the import → error workbook → fix → export flow is tests/e2e/test_import_export.py)
- contrast: every text on the main pages meets WCAG AA against its background;
- the missing-browser rule: skipped with a message outside CI, a failure in CI;
- the README's pictures are the ones the browser tests take.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import TEST_NOW
from tests.e2e.conftest import CHROMIUM, MISSING, login, second_person_confirms

ROOT = Path(__file__).resolve().parents[2]
TODAY = TEST_NOW.date()  # the pinned day; the server runs on it too (REGISTRY_CLOCK)
browser_only = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"), reason=MISSING)


def add_years(day: date, years: int) -> date:
    """The corresponding day `years` later (28 February for a 29 February without one)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def roster(page, **selects):  # noqa: ANN001, ANN003
    """Open the roster with the given filters chosen by their labels."""
    page.goto("/enterprises")
    for label, value in selects.items():
        page.get_by_label(label).select_option(value)
    page.get_by_role("button", name="查询").click()
    page.wait_for_load_state()


@browser_only
def test_province_officer_filters_the_roster_by_city_and_tier(page):
    login(page, "zj_officer")  # sees all of 浙江: the filter, not the scope, must do the narrowing
    page.wait_for_url("**/")
    roster(page, 地区="331000", 称号层级="specialized_sme")
    total = int(re.search(r"共 (\d+) 家企业", page.get_by_role("heading", name=re.compile("家企业")).inner_text()).group(1))
    usccs = page.locator("table tbody tr td:nth-child(2) code").all_inner_texts()
    assert total > 0 and usccs
    assert all(code[2:6] == "3310" for code in usccs), usccs  # the demo's USCCs carry their district code
    titles = page.locator("table tbody tr td:nth-child(4)").all_inner_texts()
    assert titles and all("专精特新中小企业" in cell for cell in titles)
    roster(page, 地区="330100", 称号层级="specialized_sme")
    assert all(code[2:6] == "3301" for code in page.locator("table tbody tr td:nth-child(2) code").all_inner_texts())


@browser_only
def test_the_enterprise_timeline_shows_terms_and_events(page):
    login(page, "tz_officer")
    page.wait_for_url("**/")
    roster(page, 称号状态="active")
    page.locator("table tbody th a").first.click()
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))
    title = page.locator("article.title").first
    assert re.search(r"认定 \d{4}-\d{2}-\d{2}", title.inner_text())
    assert title.locator("table tbody tr").first.inner_text().startswith("第 1 期")
    events = title.locator("ol.timeline li").all_inner_texts()
    assert events and "授予" in events[0] and "办理人" in events[0]


@browser_only
def test_an_all_tiers_revocation_shows_the_ban_end_and_the_audit_entry(page, browser, server):
    login(page, "tz_officer")
    page.wait_for_url("**/")
    roster(page, 称号状态="active", 称号层级="innovative_sme")
    page.locator("table tbody th a").first.click()
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))
    enterprise_url = page.url
    page.get_by_role("link", name="撤销").first.click()
    page.get_by_label("撤销原因").select_option("fraud")  # 数据造假: all titles end, a 3-year ban
    page.get_by_label("撤销依据文号").fill("台经信〔2026〕验收撤2号")
    page.get_by_label("生效日期").fill(TODAY.isoformat())
    page.get_by_role("button", name="下一步：查看办理后果").click()
    consequence = page.locator(".consequence").inner_text()
    assert "全部称号" in consequence and "禁止" in consequence
    page.get_by_role("button", name="确认办理").click()
    page.wait_for_url(enterprise_url)
    assert "已提交撤销申请" in page.content()  # a revocation with a ban waits for a second person (issue 16)
    second_person_confirms(browser, server)  # 台州's business admin confirms on 待确认事项
    page.reload()
    badges = page.locator("article.title h3 .badge").all_inner_texts()
    assert badges and "有效" not in badges and "复核中" not in badges
    bans = page.locator("section[aria-labelledby='h-bans'] tbody").inner_text()
    ends = add_years(TODAY, 3).isoformat()
    assert f"{TODAY.isoformat()} 至 {ends}" in bans and "台经信〔2026〕验收撤2号" in bans and "禁止申报中" in bans
    history = page.locator("section[aria-labelledby='h-history'] tbody tr").all_inner_texts()
    revocations = [row for row in history if "tz_officer" in row and "台经信〔2026〕验收撤2号" in row]
    assert revocations, history[:5]
    page.get_by_role("link", name=re.compile("在审计日志中查看全部")).click()
    page.wait_for_url(re.compile(r"/audit\?"))
    trail = page.locator("main table tbody tr").all_text_contents()  # a row each, its details folded in
    assert any("tz_officer" in entry and "台经信〔2026〕验收撤2号" in entry for entry in trail)


@browser_only
def test_an_officer_form_is_usable_by_keyboard_alone(page):
    login(page, "tz_officer")
    page.wait_for_url("**/")
    roster(page, 称号状态="active")
    page.locator("table tbody th a").first.click()
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))
    page.get_by_role("link", name="登记年度信息").click()
    form = page.locator("main form").first
    controls = form.evaluate("""f => [...f.querySelectorAll('input, select, textarea, button')]
        .filter(el => el.type !== 'hidden' && el.offsetParent !== null && !el.disabled)
        .map(el => el.id || el.name || el.textContent.trim())""")
    assert controls
    reached = []
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("""() => { const el = document.activeElement;
            return el.id || el.name || el.textContent.trim(); }"""))
        if set(controls) <= set(reached):
            break
    assert set(controls) <= set(reached), set(controls) - set(reached)
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focused control is visibly marked
    page.get_by_label("数据年度").focus()
    page.keyboard.type(str(TODAY.year))  # a year not filed yet: nothing prefilled or kept from an earlier filing
    type_date(page, page.get_by_label("填报日期"), TODAY)
    page.get_by_label("营业收入（元）").focus()
    page.keyboard.type("3456789.00")
    page.keyboard.press("Enter")  # submits: the confirmation step comes next
    confirm = page.get_by_role("button", name="确认办理")
    confirm.wait_for()
    assert "3456789.00" in page.locator("main").inner_text()
    confirm.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))
    assert "3,456,789.00" in page.locator("section[aria-labelledby='h-annual']").inner_text()


def type_date(page, field, day: date) -> None:  # noqa: ANN001
    """Type a date into a page's date field by keyboard, as an officer writes it: the field is a text box read in
    Chinese order (registry/web/pages/forms.py DayField), not the browser's date box, whose segments follow the
    browser's language (mm/dd/yyyy in Debian's Chromium)."""
    assert field.get_attribute("type") == "text"
    field.focus()
    page.keyboard.type(f"{day.year}年{day.month}月{day.day}日")
    assert field.input_value() == f"{day.year}年{day.month}月{day.day}日"


CONTRAST = """() => {
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(',').map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = el => {  // translucent layers composited over the first opaque one (white at the root)
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let out = {r: 255, g: 255, b: 255};
    for (const c of layers.reverse()) out = {r: c.r * c.a + out.r * (1 - c.a), g: c.g * c.a + out.g * (1 - c.a),
                                             b: c.b * c.a + out.b * (1 - c.a)};
    return out; };
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg')) continue;
    const text = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent.trim()).join('');
    if (!text) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || el.getClientRects().length === 0) continue;
    const rect = el.getBoundingClientRect(); if (rect.right < 0 || rect.width <= 1) continue;  // off-screen skip links
    const fg = parse(style.color), bg = background(el);
    const l1 = lum(fg), l2 = lum(bg), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const needed = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
    if (ratio < needed) bad.push(`${el.tagName}.${el.className} "${text.slice(0, 20)}" ${ratio.toFixed(2)}`);
  }
  return bad;
}"""


@browser_only
def test_text_on_the_main_pages_meets_wcag_aa_contrast(page):
    page.goto("/login")
    assert page.evaluate(CONTRAST) == []
    # styled through the CSSOM: the Content-Security-Policy (style-src 'self') refuses inline style attributes
    page.evaluate("""() => { const p = document.createElement('p'); p.textContent = '浅灰文字';
        p.style.color = '#aaa'; document.querySelector('main').appendChild(p); }""")
    assert [bad for bad in page.evaluate(CONTRAST) if "浅灰文字" in bad]  # the check does see a faint text
    login(page, "tz_officer")
    page.wait_for_url("**/")
    for path in ("/", "/enterprises", "/audit", "/reminders"):
        page.goto(path)
        assert page.evaluate(CONTRAST) == [], path
    roster(page, 称号状态="active")
    page.locator("table tbody th a").first.click()
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))
    assert page.evaluate(CONTRAST) == [], page.url


PATCHED_RUN = """
import sys, pytest
import tests.e2e.conftest as e2e
e2e.CHROMIUM = "/nonexistent/chromium"
e2e.MISSING = e2e.CHROMIUM + " not found: install Debian's chromium (apt-get install chromium) to run browser tests"
sys.exit(pytest.main(["tests/e2e/test_login.py::test_wrong_password_is_shown_in_chinese", "-p", "no:cacheprovider",
                      "-q", "-rs"]))
"""


@pytest.mark.parametrize("ci", [False, True], ids=["outside-ci", "in-ci"])
def test_a_missing_browser_skips_outside_ci_and_fails_in_ci(ci):
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci:
        env["CI"] = "true"
    result = subprocess.run([sys.executable, "-c", PATCHED_RUN], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    output = result.stdout + result.stderr
    if ci:
        assert result.returncode != 0 and "CI: /nonexistent/chromium not found" in output, output
    else:
        assert result.returncode == 0 and "1 skipped" in output and "/nonexistent/chromium not found" in output, output


def test_the_readme_shows_the_screenshots_the_browser_tests_take():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"\(docs/screenshots/([\w-]+)\.png\)", readme))
    taken = set()
    for test_file in (ROOT / "tests" / "e2e").glob("test_*.py"):
        taken |= set(re.findall(r'screenshot\(page, "([\w-]+)"', test_file.read_text(encoding="utf-8")))
    assert shown and shown <= taken, shown - taken
    assert all((ROOT / "docs" / "screenshots" / f"{name}.png").stat().st_size > 10_000 for name in shown)
    ci = (ROOT / ".ci" / "run").read_text()
    assert "apt-get install" in ci and "chromium" in ci
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    for topic in ("PostgreSQL", "systemd", "gunicorn", "SMTP", "Backups", "Upgrading"):
        assert topic in operations, topic
    assert "\n## Operations\n" in readme and "docs/operations.md" in readme

