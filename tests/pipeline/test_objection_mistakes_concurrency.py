"""Six identical withdrawals (or corrections) of one mistaken objection at once on PostgreSQL: one effect, one
event, the rest 409 in Chinese."""

from __future__ import annotations

from datetime import timedelta

from registry.pipeline.models import Objection
from tests.web.test_concurrency import live, one_winner, publicised  # noqa: F401  (live is a fixture)


def test_six_identical_withdrawals_withdraw_once(live):  # noqa: F811
    url, objection = publicised(live)
    filed = live.client().post(f"{url}/objections", json=objection).get_json()
    body = {"reason": "登记错了申请"}
    winner = one_winner(live.race(lambda c: c.post(f"/api/v1/objections/{filed['id']}/withdrawal", json=body)),
                        won=200)
    assert winner["status"] == "withdrawn"
    assert live.audit("objection.withdrawn", "objection", filed["id"]) == 1
    assert live.count(Objection, Objection.id == filed["id"], Objection.status == "withdrawn") == 1


def test_six_identical_corrections_correct_once(live):  # noqa: F811
    url, objection = publicised(live)
    filed = live.client().post(f"{url}/objections", json=objection).get_json()
    day = (live.today - timedelta(days=2)).isoformat()
    assert filed["received_on"] != day
    body = {"reason": "收到日期登记错误", "received_on": day}
    winner = one_winner(live.race(lambda c: c.post(f"/api/v1/objections/{filed['id']}/correction", json=body)),
                        won=200)
    assert winner["received_on"] == day
    assert live.audit("objection.corrected", "objection", filed["id"]) == 1
