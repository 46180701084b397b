"""待办 lists a publicity (公示) that ends soon only to the officers whose region holds the application: a
杭州 or 重庆 officer is not told about a 台州 list (found by the browser walk as a 重庆 officer)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.pipeline.models import Batch
from tests.pipeline.test_objection_pages import browser, scene, today  # noqa: F401  (fixtures)

pytestmark = pytest.mark.usefixtures("app")


def test_a_publicity_ending_soon_is_listed_in_its_region_only(browser, scene, session, today):  # noqa: F811
    batch = session.get(Batch, scene["batch"])
    batch.publicity_ends_on = today + timedelta(days=5)  # setup: the scene's publicity ended yesterday
    session.commit()
    item = f"申请 #{scene['application']} 公示期截止"

    assert item in browser("officer", "331000").get("/todo").get_data(as_text=True)  # 台州: its application
    assert item in browser("officer", "330000").get("/todo").get_data(as_text=True)  # the province above it
    for elsewhere in ("330100", "500000"):  # 杭州, 重庆
        assert item not in browser("officer", elsewhere).get("/todo").get_data(as_text=True), elsewhere
    assert session.scalar(sa.select(Batch.publicity_ends_on).where(Batch.id == batch.id)) == today + timedelta(days=5)
