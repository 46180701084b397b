"""Objections on the batch page: an anonymous one is recorded and said to be not accepted; only the office that
published the list gets the form to resolve one, and another office's post is refused in Chinese."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from registry.cli.base import today_in
from tests.web.fixtures import csrf_from, login
from tests.web.pipeline_data import LEVELS, publicity_scene


@pytest.fixture
def today(settings):
    return today_in(settings.timezone)


@pytest.fixture
def scene(api_as, session, admin, rules, today):
    clients = {level: api_as("admin" if code == "000000" else "officer", code) for level, code in LEVELS.items()}
    return publicity_scene(clients, session, admin, rules, today)


@pytest.fixture
def browser(app, make_user):
    def make(role: str, region: str):
        make_user(role, region, username=f"web-{role}-{region}")
        client = app.test_client()
        assert login(client, f"web-{role}-{region}").status_code == 302
        return client
    return make


def test_only_the_publishing_office_is_offered_the_resolution(browser, scene):
    url = f"/batches/{scene['batch']}"
    province = browser("officer", "330000").get(url).get_data(as_text=True)
    city_client = browser("officer", "331000")
    city = city_client.get(url).get_data(as_text=True)
    form = f'action="/objections/{scene["objection"]}/resolution"'
    assert form in province and form not in city
    token = csrf_from(city)
    refused = city_client.post(f"/objections/{scene['objection']}/resolution",
                               data={"csrf_token": token, f"o{scene['objection']}-outcome": "rejected",
                                     f"o{scene['objection']}-note": "经核实"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 403 and "只有发布公示名单的单位（浙江省中小企业主管部门）可以处理该异议" in text


def test_an_anonymous_objection_filed_on_the_page_is_recorded_as_not_accepted(browser, scene, today):
    client = browser("officer", "330000")
    url = f"/batches/{scene['batch']}"
    page = client.get(url).get_data(as_text=True)
    assert "登记为匿名异议，不予受理" in page  # the rule is said before filing
    done = client.post(f"{url}/objections", follow_redirects=True, data={
        "csrf_token": csrf_from(page), "application_id": str(scene["application"]), "submitter_name": "知情人士",
        "submitter_identity": "real_name", "contact": "13800000000", "grounds": "数据不实",
        "received_on": (today - timedelta(days=1)).isoformat(), "confidential": "y"})
    shown = done.get_data(as_text=True)
    assert done.status_code == 200 and re.search(r"已登记异议 #\d+，为匿名异议，不予受理（署名“知情”不是姓名）", shown)
    assert "匿名，不予受理" in shown
