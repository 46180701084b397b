"""GET /api/v1/certifications reads no title's terms or events (issue 19: at 1,000,000 the list made two
statements per title — 103 for a page of 50, 82 ms of the request — because the dump's hasattr() loaded both
relationships it then left out); the items stay the title's dump as before."""

from __future__ import annotations

from datetime import date

from sqlalchemy import event
from sqlalchemy.engine import Engine

from registry.titles.models import Certification
from registry.web.api.common import dump_certification
from tests.factories import grant, make_enterprise, make_uscc


def _statements(client, url):
    engine, seen = Engine, []  # every engine: the tests' app runs on the test session's connection

    def count(*_args):  # noqa: ANN002
        seen.append(1)
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.get_data(as_text=True)
    return len(seen), response.get_json()


def test_the_statements_of_a_page_do_not_grow_with_its_titles_and_the_items_are_unchanged(
        app, api_as, session, admin, rules):
    officer = api_as("officer", "331000")
    session.commit()
    officer.get("/api/v1/certifications")  # the token's first use stamps it: not part of what is counted
    made = []
    for n in range(12):
        ent = make_enterprise(session, admin, region_code="331002", uscc=make_uscc("331002", 700_000 + n),
                              name=f"台州列表称号{n:02d}有限公司")
        made.append(grant(session, admin, rules, ent, "innovative_sme", date(2025, 1, 2 + n)).id)
    session.commit()
    session.expire_all()  # nothing already loaded by the grants: the request loads what it shows
    few, _ = _statements(officer, "/api/v1/certifications?per_page=2")
    session.expire_all()
    many, body = _statements(officer, "/api/v1/certifications?per_page=12")
    assert few == many, (few, many)
    assert body["total"] == 12 and sorted(i["id"] for i in body["items"]) == sorted(made)
    session.expire_all()
    with app.test_request_context():
        expected = {c.id: dump_certification(c) for c in (session.get(Certification, i) for i in made)}
    assert {i["id"]: i for i in body["items"]} == expected
