"""Personal information (issue 16 §6): contacts are SM4-GCM ciphertext in the table, masked for every role by
default in pages, API, exports and audit views, unmasked only by officers and admins who ask (pi.unmask),
found by exact phone or e-mail through the HMAC-SM3 blind index; keys rotate by key id."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.audit.queries import shown_changes
from registry.platform import pi_crypto
from registry.platform.pi_crypto import Keyring, PersonalKeyError
from tests.audit.helpers import events_after, last_id
from tests.factories import make_enterprise
from tests.roster.files import read_xlsx
from tests.web.pages import edit_enterprise

PHONE, EMAIL, NAME = "13800001234", "zhang@example.org", "张三"
MASKED = ("138****1234", "z***@example.org", "张*")


@pytest.fixture
def ent(session, admin):
    """An enterprise in 椒江 whose contact is 张三, 13800001234, zhang@example.org."""
    made = make_enterprise(session, admin, region_code="331002", name="台州隐私测试有限公司",
                           contact_name=NAME, contact_phone=PHONE, contact_email=EMAIL)
    session.commit()
    return made


def raw_contacts(session, enterprise_id):
    """The stored columns, read with plain SQL (no ORM type in between)."""
    return session.execute(sa.text(
        "SELECT contact_name, contact_phone, contact_email, contact_phone_index, contact_email_index"
        " FROM enterprises WHERE id = :id"), {"id": enterprise_id}).one()


def unmask_events(session, mark):
    return [e for e in events_after(session, mark) if e.action == "pi.unmask"]


def test_the_columns_hold_sm4_gcm_ciphertext_and_the_blind_index(session, ent):
    name, phone, email, phone_index, email_index = raw_contacts(session, ent.id)
    keyring = pi_crypto.current()
    for stored, plain, column in ((name, NAME, "contact_name"), (phone, PHONE, "contact_phone"),
                                  (email, EMAIL, "contact_email")):
        assert stored.startswith(f"sm4gcm:{keyring.current_id}:") and plain not in stored
        assert keyring.decrypt(stored, f"enterprises.{column}") == plain
    assert "1234" not in phone and "zhang" not in email
    assert phone_index == keyring.blind_index("phone", "+86 138-0000-1234") and len(phone_index) == 64
    assert email_index == keyring.blind_index("email", " Zhang@Example.org ")
    # each value has its own nonce: the same phone twice is two different ciphertexts
    assert keyring.encrypt(PHONE, "enterprises.contact_phone") != keyring.encrypt(PHONE, "enterprises.contact_phone")
    with pytest.raises(PersonalKeyError):  # bound to its column: another column's value does not decrypt
        keyring.decrypt(phone, "enterprises.contact_email")


def test_the_objectors_contact_is_encrypted_the_same_way():
    from registry.pipeline.models import Objection

    column = Objection.__table__.c.contact
    assert isinstance(column.type, pi_crypto.EncryptedText) and column.type.column == "objections.contact"


@pytest.mark.parametrize("role", ["auditor", "leader"])
def test_an_inspector_sees_the_mask_on_the_page_and_cannot_unmask(login_as, ent, role):
    client = login_as(role, "331000")
    html = client.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    assert all(m in html for m in MASKED) and PHONE not in html and EMAIL not in html and NAME not in html
    assert "显示完整联系方式" not in html
    assert client.get(f"/enterprises/{ent.id}?unmask=1").status_code == 403


def test_an_officer_sees_the_mask_until_asking_and_the_asking_is_audited(login_as, session, ent):
    officer = login_as("officer", "331000")
    html = officer.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    assert MASKED[0] in html and PHONE not in html and "显示完整联系方式" in html
    mark = last_id(session)
    full = officer.get(f"/enterprises/{ent.id}?unmask=1").get_data(as_text=True)
    assert PHONE in full and EMAIL in full and NAME in full and "已记入审计日志" in full
    [event] = unmask_events(session, mark)
    assert (event.actor_name, event.entity_type, event.entity_id, event.enterprise_id, event.region_code) == (
        "officer-331000", "enterprise", ent.id, ent.id, "331002")
    assert event.changes["purpose"] == "企业详情页" and "联系电话" in event.changes["fields"]
    assert PHONE not in str(event.changes)


def test_the_masked_edit_form_saved_unchanged_keeps_the_contact(login_as, session, ent):
    officer = login_as("officer", "331000")
    html = officer.get(f"/enterprises/{ent.id}").get_data(as_text=True)
    assert f'value="{MASKED[0]}"' in html and f'value="{PHONE}"' not in html  # the form is masked too
    preview, saved = edit_enterprise(officer, ent.id, {
        "edit-version": ent.version, "edit-name": "台州隐私测试股份有限公司",
        "edit-uscc": ent.uscc, "edit-region_code": ent.region_code, "edit-contact_name": MASKED[2],
        "edit-contact_phone": MASKED[0], "edit-contact_email": MASKED[1]})
    assert saved.status_code == 302
    assert "联系电话" not in preview and PHONE not in preview  # the masked contacts are not changes
    session.expire_all()
    again = session.get(type(ent), ent.id)
    assert (again.name, again.contact_name, again.contact_phone, again.contact_email) == (
        "台州隐私测试股份有限公司", NAME, PHONE, EMAIL)


def test_the_api_masks_by_default_and_unmasks_for_an_officer_who_asks(api_as, session, ent):
    auditor = api_as("auditor", "331000")
    shown = auditor.get(f"/api/v1/enterprises/{ent.id}").get_json()
    assert (shown["contact_phone"], shown["contact_email"], shown["contact_name"]) == MASKED
    assert auditor.get(f"/api/v1/enterprises/{ent.id}?unmask=1").status_code == 403
    assert auditor.get("/api/v1/enterprises?unmask=1").status_code == 403
    listed = auditor.get("/api/v1/enterprises").get_json()["items"]
    assert [e["contact_phone"] for e in listed] == [MASKED[0]]
    officer = api_as("officer", "331000")
    assert officer.get(f"/api/v1/enterprises/{ent.id}").get_json()["contact_phone"] == MASKED[0]
    mark = last_id(session)
    full = officer.get(f"/api/v1/enterprises/{ent.id}?unmask=1").get_json()
    assert (full["contact_phone"], full["contact_email"], full["contact_name"]) == (PHONE, EMAIL, NAME)
    assert officer.get("/api/v1/enterprises?unmask=1").get_json()["items"][0]["contact_phone"] == PHONE
    events = unmask_events(session, mark)
    assert [e.changes["purpose"] for e in events] == ["接口：企业详情", "接口：企业名录"]
    assert all(e.actor_name == "officer-331000" and e.actor_kind == "token" for e in events)
    assert events[1].changes["enterprises"] == f"#{ent.id}" and events[1].changes["count"] == 1


def test_search_by_exact_phone_or_email_through_the_blind_index(api_as, session, admin, ent):
    make_enterprise(session, admin, region_code="331002", contact_phone="13900005678", contact_email="li@example.org")
    session.commit()
    officer = api_as("officer", "331000")

    def found(q):
        return [e["id"] for e in officer.get("/api/v1/enterprises", query_string={"q": q}).get_json()["items"]]

    assert found(PHONE) == found("138-0000-1234") == found("+86 138 0000 1234") == [ent.id]
    assert found("ZHANG@example.org") == [ent.id]
    assert found("1380000") == [] and found("zhang@example") == []  # exact values only, never a fragment
    page = api_as("auditor", "331000").get("/api/v1/enterprises", query_string={"q": PHONE}).get_json()
    assert [e["contact_phone"] for e in page["items"]] == [MASKED[0]]  # found, still masked


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_roster_export_is_masked_unless_an_officer_asks(api_as, session, ent, fmt):
    def table(response):
        if fmt == "csv":
            return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
        return read_xlsx(response.data)

    auditor = api_as("auditor", "331000")
    masked = str(table(auditor.get(f"/api/v1/exports/roster.{fmt}")))
    assert MASKED[0] in masked and MASKED[1] in masked and PHONE not in masked and EMAIL not in masked
    assert auditor.get(f"/api/v1/exports/roster.{fmt}?unmask=1").status_code == 403
    officer = api_as("officer", "331000")
    assert PHONE not in str(table(officer.get(f"/api/v1/exports/roster.{fmt}")))
    mark = last_id(session)
    full = str(table(officer.get(f"/api/v1/exports/roster.{fmt}?unmask=1&q=隐私")))
    assert PHONE in full and EMAIL in full and NAME in full
    session.expire_all()
    events = events_after(session, mark)
    unmasked = [e for e in events if e.action == "pi.unmask"]
    exported = [e for e in events if e.action == "export.roster"]
    assert len(unmasked) == 1 and unmasked[0].changes["filter"] == {"q": "隐私", "sort": "name"}
    assert exported and exported[-1].changes["filter"][1]["unmask"] is True


def test_audit_views_and_the_audit_export_show_contacts_masked(api_as, session, ent):
    officer = api_as("officer", "331000")
    changed = officer.patch(f"/api/v1/enterprises/{ent.id}", json={"contact_phone": "13911112222",
                                                                  "version": ent.version})
    assert changed.status_code == 200 and changed.get_json()["contact_phone"] == "139****2222"
    stored = session.scalars(sa.select(AuditEvent.changes).where(AuditEvent.enterprise_id == ent.id)).all()
    assert all(PHONE not in str(c) and "13911112222" not in str(c) for c in stored)  # the trail never holds them
    for role in ("auditor", "auditadmin"):
        reader = api_as(role, "331000" if role == "auditor" else "000000")
        listed = reader.get(f"/api/v1/audit?enterprise_id={ent.id}").get_json()["items"]
        assert {"contact_phone": ["138****1234", "139****2222"]} in [e["changes"] for e in listed]
        exported = reader.get(f"/api/v1/audit/export.csv?enterprise_id={ent.id}").data.decode("utf-8-sig")
        assert "139****2222" in exported and "13911112222" not in exported and PHONE not in exported
        assert EMAIL not in exported and "z***@example.org" in exported
    # an event written before the trail masked (clear values) is shown masked all the same
    assert shown_changes("enterprise", {"contact_phone": [None, PHONE], "name": [None, "甲"]}) == {
        "contact_phone": [None, "138****1234"], "name": [None, "甲"]}


def test_the_audit_page_shows_the_unmask_event_in_plain_chinese(login_as, api_as, ent):
    api_as("officer", "331000").get(f"/api/v1/enterprises/{ent.id}?unmask=1")
    html = login_as("auditor", "331000").get("/audit?action=pi.unmask").get_data(as_text=True)
    assert "查看完整个人信息" in html and "查看用途" in html and "接口：企业详情" in html and PHONE not in html


def test_an_old_key_still_decrypts_after_rotation_and_new_values_take_the_new_key(session, admin, ent):
    old = pi_crypto.current()
    new = Keyring("k2", {"k2": bytes(range(16)), **old.keys}, old.index_key)  # REGISTRY_PI_KEYS keeps the old
    with pi_crypto.using(new):
        session.expire_all()
        again = session.get(type(ent), ent.id)
        assert (again.contact_phone, again.contact_email) == (PHONE, EMAIL)  # written under the old key id
        again.contact_phone = "13700007777"
        session.flush()
        phone = raw_contacts(session, ent.id).contact_phone
        assert phone.startswith("sm4gcm:k2:")
        assert raw_contacts(session, ent.id).contact_email.startswith(f"sm4gcm:{old.current_id}:")
        assert again.contact_phone_index == old.blind_index("phone", "13700007777")  # the index key stays
    forgot = Keyring("k2", {"k2": bytes(range(16))}, old.index_key)  # the old key dropped too early
    with pi_crypto.using(forgot), pytest.raises(PersonalKeyError, match="REGISTRY_PI_KEYS"):
        forgot.decrypt(raw_contacts(session, ent.id).contact_email, "enterprises.contact_email")
    with pi_crypto.using(old), pytest.raises(PersonalKeyError, match="no key with id 'k2'"):
        old.decrypt(phone, "enterprises.contact_phone")
    session.rollback()


def test_uploaded_files_and_error_workbooks_are_sm4_ciphertext_at_rest(session):
    """An uploaded roster holds contacts as typed; at rest it is ciphertext bound to its column (migration 0021)."""
    from registry.roster.models import ImportRun

    uploaded = "企业名称,联系人电话\n台州甲有限公司,13912345678\n".encode()
    run = ImportRun(filename="名单.csv", mode="dry_run", status="queued", region_code="331000", content=uploaded,
                    error_workbook=b"PK\x03\x04 13912345678")
    session.add(run)
    session.flush()
    content, workbook = session.execute(sa.text("SELECT content, error_workbook FROM imports WHERE id = :id"),
                                        {"id": run.id}).one()
    for stored in (bytes(content), bytes(workbook)):
        assert stored.startswith(b"sm4gcm:") and b"13912345678" not in stored
    session.expire_all()
    again = session.get(ImportRun, run.id)
    assert again.content == uploaded and again.error_workbook == b"PK\x03\x04 13912345678"
