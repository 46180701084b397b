"""Correcting and withdrawing a mistaken objection on the pages: links beside it for the publishing office only;
the correction form prefilled, old → new previewed, nothing written before the confirmation; twice → 409."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from tests.pipeline.test_objection_pages import browser, scene, today  # noqa: F401  (fixtures)
from tests.web.fixtures import csrf_from


def events(session, objection_id, action):
    return session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_type == "objection",
                                                       AuditEvent.entity_id == objection_id,
                                                       AuditEvent.action == action)).all()


def confirm(client, url, data):
    """Post the form (preview), then the confirmation; return (preview response, confirmed response)."""
    page = client.get(url).get_data(as_text=True)
    form = {"csrf_token": csrf_from(page), **data}
    preview = client.post(url, data=form)
    if preview.status_code != 200:
        return preview, None
    token = csrf_from(preview.get_data(as_text=True))
    return preview, client.post(url, data={**form, "csrf_token": token, "confirmed": "1"}, follow_redirects=True)


def test_only_the_publishing_office_sees_the_links(browser, scene):  # noqa: F811
    url, oid = f"/batches/{scene['batch']}", scene["objection"]
    province = browser("officer", "330000").get(url).get_data(as_text=True)
    city = browser("officer", "331000").get(url).get_data(as_text=True)
    for link in (f'href="/objections/{oid}/correction"', f'href="/objections/{oid}/withdrawal"'):
        assert link in province and link not in city


def test_a_correction_is_prefilled_previewed_and_confirmed(browser, scene, session, today):  # noqa: F811
    client, oid = browser("officer", "330000"), scene["objection"]
    url = f"/objections/{oid}/correction"
    form = client.get(url).get_data(as_text=True)
    assert "数据不实" in form and "王建国" in form and (today - timedelta(days=1)).isoformat() in form  # prefilled
    new_day = (today - timedelta(days=2)).isoformat()
    data = {"grounds": "数据不实", "submitter_name": "王建国", "submitter_identity": "real_name",
            "contact": "13800000000", "received_on": new_day, "reason": "收到日期登记错误"}
    missing = client.post(url, data={"csrf_token": csrf_from(form), **data, "reason": ""})
    assert missing.status_code == 422 and "此项必填" in missing.get_data(as_text=True)
    preview, done = confirm(client, url, data)
    shown = preview.get_data(as_text=True)
    assert f"收到日期：{(today - timedelta(days=1)).isoformat()} → {new_day}" in shown and "更正原因：收到日期登记错误" in shown
    assert "王建国" not in shown.split("收到日期：")[1].split("</ul>")[0]  # only what changed is listed
    assert done.status_code == 200 and f"已更正异议 #{oid}" in done.get_data(as_text=True)
    assert len(events(session, oid, "objection.corrected")) == 1
    again = client.post(url, data={"csrf_token": csrf_from(client.get(url).get_data(as_text=True)), **data})
    assert again.status_code == 409 and "没有修改任何内容" in again.get_data(as_text=True)
    late = client.post(url, data={"csrf_token": csrf_from(client.get(url).get_data(as_text=True)), **data,
                                  "received_on": (today + timedelta(days=1)).isoformat()})
    assert late.status_code == 422 and "收到日期" in late.get_data(as_text=True)


def test_a_withdrawal_is_previewed_then_confirmed_once(browser, scene, session):  # noqa: F811
    client, oid = browser("officer", "330000"), scene["objection"]
    url = f"/objections/{oid}/withdrawal"
    form = {"csrf_token": csrf_from(client.get(url).get_data(as_text=True)), "reason": "登记错了申请"}
    preview = client.post(url, data=form)
    assert preview.status_code == 200 and "状态改为“已撤回”" in preview.get_data(as_text=True)
    assert "本批次不再有待处理的异议" in preview.get_data(as_text=True)
    assert not events(session, oid, "objection.withdrawn")  # the preview wrote nothing
    done = client.post(url, data={**form, "csrf_token": csrf_from(preview.get_data(as_text=True)), "confirmed": "1"},
                       follow_redirects=True)
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and f"已撤回误登记的异议 #{oid}" in page and "已撤回" in page
    assert f'href="/objections/{oid}/withdrawal"' not in page  # no longer open: no links
    assert len(events(session, oid, "objection.withdrawn")) == 1
    again = client.post(url, data={"csrf_token": csrf_from(page), "reason": "登记错了申请"})
    assert again.status_code == 409 and "不能再撤回" in again.get_data(as_text=True)
    assert len(events(session, oid, "objection.withdrawn")) == 1


def test_another_office_is_refused_in_chinese(browser, scene):  # noqa: F811
    client, oid = browser("officer", "331000"), scene["objection"]
    page = client.get(f"/batches/{scene['batch']}").get_data(as_text=True)
    refused = client.post(f"/objections/{oid}/withdrawal", data={"csrf_token": csrf_from(page), "reason": "x"})
    assert refused.status_code == 403 and "可以撤回该异议" in refused.get_data(as_text=True)
    assert browser("officer", "330100").get(f"/objections/{oid}/correction").status_code == 404


@pytest.mark.parametrize("path", ["correction", "withdrawal"])
def test_an_unknown_objection_is_404(browser, path):  # noqa: F811
    assert browser("officer", "330000").get(f"/objections/999999/{path}").status_code == 404
