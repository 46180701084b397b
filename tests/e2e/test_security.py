"""Issue 16 in a real browser: the pages work under the Content-Security-Policy; one session per account."""

from tests.e2e.conftest import login


def _violations(page) -> list[str]:  # noqa: ANN001
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    return seen


def test_main_pages_raise_no_csp_violation(page):
    seen = _violations(page)
    login(page, "tz_officer")
    page.wait_for_url("**/")
    for url in ("/", "/enterprises", "/pools", "/batches", "/imports", "/reminders", "/audit", "/no-such-page"):
        page.goto(url)
        page.wait_for_load_state("load")
    assert seen == []
    page.get_by_role("link", name="返回上一页").click()  # the error page's back link is static JS now
    page.wait_for_url("**/audit")


def test_a_second_login_ends_the_first_browser_session_with_a_notice(browser, server):  # noqa: ANN001
    first, second = (browser.new_context(base_url=server, locale="zh-CN") for _ in range(2))
    try:
        one, two = first.new_page(), second.new_page()
        login(one, "hz_officer")
        one.wait_for_url("**/")
        login(two, "hz_officer")
        two.wait_for_url("**/")
        one.goto("/enterprises")
        one.wait_for_url("**/login**")
        assert "您的账号已在其他地方登录" in one.get_by_role("status").first.inner_text()
        two.goto("/enterprises")
        assert two.url.endswith("/enterprises")
    finally:
        first.close()
        second.close()


def test_logout_then_the_old_cookie_is_refused(browser, server):  # noqa: ANN001
    context = browser.new_context(base_url=server, locale="zh-CN")
    try:
        tab = context.new_page()
        login(tab, "auditor")
        tab.wait_for_url("**/")
        cookies = context.cookies()
        tab.get_by_role("button", name="退出").click()
        tab.wait_for_url("**/login")
        replay = browser.new_context(base_url=server, locale="zh-CN")
        replay.add_cookies(cookies)
        again = replay.new_page()
        again.goto("/enterprises")
        again.wait_for_url("**/login**")
        replay.close()
    finally:
        context.close()
