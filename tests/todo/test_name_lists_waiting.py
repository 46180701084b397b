"""待办 lists the officer's own name lists (公告名单) waiting for review, until confirmed or discarded."""

from __future__ import annotations

import io

from tests.roster.namelist_files import name_list
from tests.web.fixtures import csrf_from
from tests.web.pages import page

TITLE = {"tier": "innovative_sme", "recognized_on": "2026-05-20", "document_no": "浙经信企业〔2026〕12号"}


def test_a_list_under_review_is_to_do_until_discarded(login_as):
    officer = login_as("officer", "331000")
    token = csrf_from(page(officer, "/name-lists"))
    answer = officer.post("/name-lists", data={**TITLE, "csrf_token": token,
                                               "file": (io.BytesIO(name_list([[1, "", "待办名单测试有限公司"]])), "待办名单.xlsx")},
                          content_type="multipart/form-data")
    url = answer.headers["Location"]
    todo = page(officer, "/todo")
    assert "公告名单「待办名单.xlsx」待逐行核对，尚未确认导入" in todo and f'href="{url}"' in todo

    other = login_as("officer", "331002")  # another officer's list is not their task
    assert "待办名单.xlsx" not in page(other, "/todo")

    done = officer.post(url + "/discard", data={"csrf_token": csrf_from(page(officer, url))})
    assert done.status_code == 302
    assert "已放弃" in page(officer, url) and "确认导入" not in page(officer, url)
    assert "待办名单.xlsx" not in page(officer, "/todo")
    again = officer.post(url + "/confirm", data={"csrf_token": csrf_from(page(officer, url)), "choice-3": "skip"})
    assert again.status_code == 409 and "已放弃" in again.get_data(as_text=True)
