"""GET /audit, /audit/verify and the export through the API: who, when, old, new, from where."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from python_calamine import CalamineWorkbook

from tests.factories import make_enterprise


def test_contact_change_shows_who_when_old_new_and_ip(api_as, session, admin):
    ent = make_enterprise(session, admin, region_code="331002", contact_email="old@ent.cn")
    session.commit()
    officer = api_as("officer", "331000")
    changed = officer.patch(f"/api/v1/enterprises/{ent.id}", json={"contact_email": "new@ent.cn", "version": ent.version},
                            environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert changed.status_code == 200
    trail = api_as("auditor", "331000").get(f"/api/v1/audit?entity_type=enterprise&entity_id={ent.id}&action=enterprise.updated")
    event = trail.get_json()["items"][0]
    assert event["actor_name"] == "officer-331000" and event["actor_kind"] == "token"
    # the trail stores personal data masked (issue 16 §6): who changed the contact and when, not the address
    assert event["changes"] == {"contact_email": ["o***@ent.cn", "n***@ent.cn"]}
    assert event["ip"] == "10.1.2.3" and event["request_id"] and event["occurred_at"].endswith("+00:00")
    assert event["fields_changed"][0]["label"] == "联系邮箱"


def test_trail_is_region_scoped(api_as, session, admin):
    ent = make_enterprise(session, admin, region_code="331002")
    session.commit()
    url = f"/api/v1/audit?enterprise_id={ent.id}"
    assert api_as("auditor", "331000").get(url).get_json()["total"] >= 1
    assert api_as("auditor", "330100").get(url).get_json()["total"] == 0
    assert api_as("officer", "331003").get(url).get_json()["total"] == 0


def test_verify_reports_ok_then_the_tampered_event(api_as, session, admin):
    make_enterprise(session, admin, region_code="331002")
    session.commit()
    client = api_as("auditor", "330000")
    result = client.get("/api/v1/audit/verify").get_json()
    assert result["ok"] and result["checked"] >= 2 and result["first_bad_id"] is None
    victim = session.scalar(sa.text("SELECT MIN(id) FROM audit_events WHERE action = 'enterprise.created'"))
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        connection.execute(sa.text("DROP TRIGGER audit_events_no_update"))
    connection.execute(sa.text("UPDATE audit_events SET note = 'forged' WHERE id = :id"), {"id": victim})
    tampered = client.get("/api/v1/audit/verify").get_json()
    assert not tampered["ok"] and tampered["first_bad_id"] == victim


def test_regional_auditor_verifies_the_whole_chain(api_as, session, admin):
    make_enterprise(session, admin, region_code="330106")
    make_enterprise(session, admin, region_code="331002")
    session.commit()
    client = api_as("auditor", "331000")
    total = session.scalar(sa.text("SELECT COUNT(*) FROM audit_events"))
    result = client.get("/api/v1/audit/verify").get_json()
    assert result["ok"] and result["checked"] == total  # not just the 台州 events


def test_export_csv_and_xlsx(api_as, session, admin):
    make_enterprise(session, admin, region_code="331002", name="=HYPERLINK(\"x\")有限公司")
    session.commit()
    client = api_as("auditor", "331000")
    text = client.get("/api/v1/audit/export.csv?action=enterprise.created").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["时间(北京时间)", "操作人", "操作"] and len(rows) > 1
    assert not any(cell.startswith("=") for row in rows for cell in row)
    book = client.get("/api/v1/audit/export.xlsx?action=enterprise.created")
    assert book.status_code == 200
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(book.get_data())).get_sheet_by_index(0).to_python()
    assert sheet[0][0] == "时间(北京时间)" and len(sheet) == len(rows)


def test_officer_without_audit_role_and_anonymous(api_as, client):
    assert client.get("/api/v1/audit").status_code == 401
    bad = api_as("auditor", "330000").get("/api/v1/audit?since=yesterday")
    assert bad.status_code == 422 and "since" in bad.get_json()["errors"]
