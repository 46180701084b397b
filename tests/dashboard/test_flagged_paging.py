"""The dashboard's list of flagged titles is paged: honest page numbers, past the end → the last page."""

from __future__ import annotations

import re

from registry.titles.flags import mark_review_ineligible
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise
from tests.web.pages import page


def test_flagged_titles_are_paged_honestly(login_as, session, admin, rules, monkeypatch):
    monkeypatch.setattr("registry.dashboard.pages.FLAGGED_PER_PAGE", 2)
    names = []
    for n in range(3):
        ent = make_enterprise(session, admin, region_code="331002", name=f"台州标记{n}有限公司")
        cert = grant(session, admin, rules, ent, "innovative_sme", d("2025-01-10"))
        mark_review_ineligible(session, actor=admin, cert=cert, cause="annual_update_missed", at=NOW)
        names.append(ent.name)
    session.commit()
    officer = login_as("officer", "331000")

    def listed(query: str) -> tuple[list[str], str]:
        html = page(officer, f"/{query}")
        section = html.split('id="h-flag"')[1].split("</section>")[0]
        return [n for n in names if n in section], re.search(r"第 (\d+ / \d+) 页", section).group(1)

    first, shown = listed("")
    assert shown == "1 / 2" and len(first) == 2 and "flagged_page=2" in page(officer, "/")
    second, shown = listed("?flagged_page=2")
    assert shown == "2 / 2" and len(second) == 1 and set(first) | set(second) == set(names)
    assert listed("?flagged_page=99") == (second, "2 / 2")  # past the end: the last page
    assert listed("?flagged_page=abc")[1] == "1 / 2" and listed("?flagged_page=-3")[1] == "1 / 2"
