"""An auditor reads the trail in a real browser and has no way to change anything."""

from __future__ import annotations

import re

from tests.e2e.conftest import login, screenshot


def test_auditor_reads_the_trail_and_cannot_write(page):
    login(page, "auditor")
    page.wait_for_url("**/")
    page.get_by_role("link", name="审计日志").click()
    page.wait_for_url(re.compile(r"/audit"))
    rows = page.locator("table.audit-table > tbody > tr")
    assert 0 < rows.count() <= 50  # one compact row per event, 50 a page
    first = rows.first
    assert first.locator("details table").is_hidden()  # the field changes wait behind 详情
    first.locator("summary").click()
    assert first.locator("details").get_attribute("open") is not None
    assert not re.search(r"\b[a-z]+\.[a-z_]+\b", first.locator("td").nth(2).inner_text())  # the action by name
    page.get_by_role("button", name="校验审计链").click()
    assert "审计链完整" in page.content()
    screenshot(page, "audit", full_page=False)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: rows stack, nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/enterprises")
    page.locator("table tbody th a").first.click()
    page.wait_for_url(re.compile(r"/enterprises/\d+$"))
    assert page.get_by_role("link", name="授予称号").count() == 0
    assert page.get_by_role("button", name="保存").count() == 0
    enterprise_url = page.url
    refused = page.request.get(enterprise_url + "/annual-reports/new", fail_on_status_code=False)
    assert refused.status == 403
