"""Issue 13 §8b: a red banner on the admins' dashboard when mail has waited past REGISTRY_OUTBOX_ALARM_MINUTES."""

from datetime import timedelta

import pytest
import time_machine

from registry.reminders import outbox
from tests.conftest import NOW


def queue(session, key, *, at, region):
    outbox.enqueue(session, dedupe_key=key, to_addr="boss@factory.cn", subject="【梯度培育提醒】测试", body="测试\n",
                   at=at, domain="zj.example.cn", region_code=region)
    session.commit()


@pytest.fixture(autouse=True)
def frozen():
    """The web reads the clock (utcnow): hold it at NOW for the logins and the pages."""
    with time_machine.travel(NOW, tick=False):
        yield


def banner(client) -> str | None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    start = html.find('id="outbox-alarm"')
    return None if start < 0 else html[start:html.index("</div>", start)]


def test_admins_see_a_backlog_banner_officers_do_not(session, login_as):
    admin, officer = login_as("admin", "331000"), login_as("officer", "331000")
    queue(session, "recent", at=NOW - timedelta(minutes=10), region="331002")
    assert banner(admin) is None  # younger than 30 minutes: no alarm
    queue(session, "stuck", at=NOW - timedelta(minutes=95), region="331002")
    text = banner(admin)
    assert text is not None and "邮件积压" in text and "2 封邮件未发出" in text and "已等待 95 分钟" in text
    assert "REGISTRY_SMTP" in text and "30 分钟" in text
    assert banner(officer) is None


def test_the_banner_counts_only_the_admins_region(session, login_as):
    hangzhou = login_as("admin", "330100")
    queue(session, "taizhou", at=NOW - timedelta(hours=3), region="331002")
    assert banner(hangzhou) is None
    queue(session, "hangzhou", at=NOW - timedelta(hours=1), region="330102")
    assert "1 封邮件未发出" in banner(hangzhou)
