"""An officer switches reminder e-mail off and on and edits a robot on the 提醒渠道 page; at 390 px the page does
not scroll sideways (issue 18 §8)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import login, screenshot
from tests.e2e.test_phone import PHONE, sideways

pytestmark = pytest.mark.browser

TOKEN = "e2eeditrobot0123456789abcdef"
NEW_TOKEN = "e2eeditrobotNEW0123456789zz"


def test_officer_switches_e_mail_off_and_on_and_edits_a_robot(page):
    login(page, "jj_officer")
    page.wait_for_url("**/")
    page.goto("/channels")
    assert "已开启：提醒也发到您的邮箱" in page.locator("#email-state").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="关闭邮件提醒").click()
    assert "已关闭邮件提醒" in page.locator(".flash").inner_text()
    assert "已关闭" in page.locator("#email-state").inner_text()
    page.goto("/todo")
    assert "您已关闭邮件提醒" in page.locator("#email-off").inner_text()
    page.goto("/channels")

    page.get_by_label("渠道类型").select_option("dingtalk")
    page.get_by_label("名称", exact=True).fill("椒江区经信局提醒群")
    page.get_by_label("地址", exact=True).fill(f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}")
    page.get_by_label("加签密钥（仅钉钉机器人）").fill("SECe2eedit0123456789")
    page.get_by_role("button", name="添加").click()
    page.wait_for_url(re.compile(r"/channels$"))
    page.get_by_role("link", name="修改 椒江区经信局提醒群").click()
    page.wait_for_url(re.compile(r"/channels/\d+/edit$"))
    assert page.get_by_label("名称", exact=True).input_value() == "椒江区经信局提醒群"
    assert page.get_by_label("地址", exact=True).input_value() == ""  # never shown back
    assert TOKEN not in page.content() and "••••" + TOKEN[-4:] in page.content()
    page.get_by_label("名称", exact=True).fill("椒江区经信局企业服务群")
    screenshot(page, "channel-edit", full_page=False)
    assert page.get_by_label("名称", exact=True).get_attribute("maxlength") == "64"  # the browser stops a huge name
    page.get_by_label("名称", exact=True).fill("\u200b\u200b")  # zero-width only: empty once cleaned
    page.get_by_role("button", name="保存").click()
    assert "名称：请填写" in page.content()  # refused beside the field, nothing saved
    page.get_by_label("名称", exact=True).fill("椒江区经信局企业服务群")
    page.get_by_label("地址", exact=True).fill(NEW_TOKEN)
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r"/channels$"))
    html = page.content()
    assert "椒江区经信局企业服务群" in html and "••••" + NEW_TOKEN[-4:] in html and NEW_TOKEN not in html
    screenshot(page, "channels-email", full_page=False)

    page.set_viewport_size(PHONE)  # a phone: the page itself never scrolls sideways
    page.reload()
    assert sideways(page) == 0, "channels at 390 px"
    with page.expect_navigation():
        page.get_by_role("button", name="开启邮件提醒").click()
    assert "已开启邮件提醒" in page.locator(".flash").inner_text()
    assert sideways(page) == 0, "channels at 390 px after switching"
    page.goto("/todo")
    assert page.locator("#email-off").count() == 0
