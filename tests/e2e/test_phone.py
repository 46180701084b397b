"""Phone-sized (issue 18 point 9): roster, enterprise, to-do and login usable at 390 px wide — the page
itself never scrolls sideways (a wide table scrolls inside its own box)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import login, screenshot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def sideways(page) -> int:  # noqa: ANN001
    """How many pixels the page is wider than the screen (0: nothing to scroll sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.fixture
def phone(browser, server):  # noqa: ANN001, ANN201
    context = browser.new_context(base_url=server, locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    tab = context.new_page()
    tab.set_default_timeout(15000)
    yield tab
    context.close()


def test_login_roster_enterprise_and_todo_fit_a_phone(phone):
    phone.goto("/login")
    assert sideways(phone) == 0, "login"
    login(phone, "tz_officer")
    phone.goto("/enterprises")
    assert sideways(phone) == 0, "roster"
    page = phone  # the README's screenshot of the phone-sized roster
    screenshot(page, "phone-roster", full_page=False)
    phone.locator("table a[href^='/enterprises/']").first.click()
    phone.wait_for_load_state()
    assert sideways(phone) == 0, f"enterprise {phone.url}"
    phone.goto("/todo")
    assert sideways(phone) == 0, "todo"
    phone.goto("/")
    assert sideways(phone) == 0, "dashboard"
