"""Logging in as an officer uses it: the real server, a real browser."""

from tests.e2e.conftest import login, screenshot


def test_wrong_password_is_shown_in_chinese(page):
    login(page, "tz_officer", "not-the-password")
    assert page.get_by_role("alert").inner_text().startswith("用户名或密码错误")
    assert page.url.endswith("/login")
    screenshot(page, "login")


def test_officer_logs_in_and_sees_the_dashboard(page):
    login(page, "tz_officer")
    page.wait_for_url("**/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("heading", name="工作台").is_visible()


def test_login_works_by_keyboard_alone(page):
    page.goto("/login")
    for _ in range(5):  # past the skip link and the header's home link
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "username":
            break
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type("tz_officer")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type("demo-admin-2026")
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    assert page.get_by_role("heading", name="工作台").is_visible()


def test_every_control_on_the_main_pages_has_a_label(page):
    login(page, "tz_officer")
    page.wait_for_url("**/")
    for path in ("/", "/enterprises", "/audit", "/reminders"):
        page.goto(path)
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
            .filter(el => el.type !== 'hidden' && el.type !== 'submit')
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            .map(el => el.name || el.id)""")
        assert unlabelled == [], (path, unlabelled)
