"""An officer reads the reminders in 站内消息 and sets a DingTalk robot; an admin sets an office's WeCom robot."""

from __future__ import annotations

import re
import time

from tests.e2e.conftest import login, screenshot

TOKEN = "e2edemotoken0123456789abcdef"


def test_officer_reads_the_inbox_and_adds_a_signed_robot(page):
    login(page, "tz_officer")
    page.wait_for_url("**/")
    page.get_by_role("link", name=re.compile("站内消息")).first.click()
    page.wait_for_url(re.compile(r"/inbox"))
    for _ in range(40):  # the jobs process's catch-up scan fills the inbox shortly after start
        if page.locator("ul.inbox li details").count():
            break
        time.sleep(1)
        page.reload()
    items = page.locator("ul.inbox li details")
    assert items.count() > 0, "the scan put no reminder in the officer's inbox"
    unread = page.locator("nav .count[aria-label$='条未读']")
    assert unread.count() == 1
    before = int(unread.inner_text())
    items.first.locator("summary").click()
    assert "梯度培育" in items.first.inner_text()
    screenshot(page, "inbox", full_page=False)
    with page.expect_navigation():
        page.get_by_role("button", name="标为已读", exact=True).first.click()
    after = page.locator("nav .count[aria-label$='条未读']")
    assert (int(after.inner_text()) if after.count() else 0) == before - 1

    page.get_by_role("link", name="提醒渠道", exact=True).click()
    page.wait_for_url(re.compile(r"/channels$"))
    page.get_by_label("渠道类型").select_option("dingtalk")
    page.get_by_label("名称", exact=True).fill("台州市经信局业务提醒群")
    page.get_by_label("地址", exact=True).fill(f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}")
    page.get_by_role("button", name="添加").click()
    assert "加签密钥：钉钉机器人须启用" in page.content()  # refused beside the field, nothing saved
    page.get_by_label("地址", exact=True).fill(f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}")
    page.get_by_label("加签密钥（仅钉钉机器人）").fill("SECe2e0123456789abcdef")
    page.get_by_role("button", name="添加").click()
    page.wait_for_url(re.compile(r"/channels$"))
    html = page.content()
    assert "台州市经信局业务提醒群" in html and "••••" + TOKEN[-4:] in html and TOKEN not in html


def test_admin_sets_an_office_robot(page):
    login(page, "tz_admin")
    page.wait_for_url("**/")
    page.goto("/channels")
    page.get_by_label("渠道类型").select_option("wecom")
    page.get_by_label("名称", exact=True).fill("椒江区经信局企业服务群")
    page.get_by_label("地址", exact=True).fill("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=e2e-wecom-key-0001")
    page.get_by_label("单位", exact=True).select_option("331002")
    page.get_by_label("也接收下级地区的提醒").check()
    page.get_by_role("button", name="添加").click()
    page.wait_for_url(re.compile(r"/channels$"))
    assert "椒江区经信局企业服务群" in page.content() and "e2e-wecom-key-0001" not in page.content()
    screenshot(page, "channels", full_page=False)
