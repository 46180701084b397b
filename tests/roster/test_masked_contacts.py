"""Masked contacts stored beside their ciphertext (issue 19): the roster page, the list API and the default exports
decrypt nothing; the masked forms stay those of the contacts after an edit, an import and a rekey; migration 0032
fills them for the rows that exist (both backends)."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from registry.domain.personal import CONTACT_FIELDS, mask_field
from registry.enterprises.models import contact_columns
from registry.enterprises.services import update_enterprise
from registry.platform import pi_crypto
from registry.platform.db import make_engine, utcnow
from registry.platform.migrate import downgrade, upgrade
from registry.privacy.rekey import rekey
from tests.audit.helpers import events_after, last_id
from tests.factories import make_enterprise, make_uscc
from tests.roster.files import read_xlsx, xlsx

PHONE, EMAIL, NAME = "13800001234", "zhang@example.org", "张三"
MASKED = {"contact_phone": "138****1234", "contact_email": "z***@example.org", "contact_name": "张*"}
STORED = "SELECT id, contact_name, contact_email, contact_phone, contact_name_masked, contact_email_masked," \
         " contact_phone_masked FROM enterprises ORDER BY id"


@pytest.fixture
def ents(session, admin):
    """Three enterprises in 椒江; the first one's contact is 张三, 13800001234, zhang@example.org."""
    made = [make_enterprise(session, admin, region_code="331002", name="台州脱敏测试有限公司",
                            contact_name=NAME, contact_phone=PHONE, contact_email=EMAIL),
            make_enterprise(session, admin, region_code="331002", contact_name="欧阳修", contact_phone="0576-8800"),
            make_enterprise(session, admin, region_code="331002", contact_email=None)]
    session.commit()
    return made


@pytest.fixture
def decrypted(monkeypatch):
    """The columns of every value decrypted from now on (Keyring.decrypt counted, then run as it is)."""
    seen: list[str] = []
    real = pi_crypto.Keyring.decrypt

    def counting(self, stored, column):
        seen.append(column)
        return real(self, stored, column)

    monkeypatch.setattr(pi_crypto.Keyring, "decrypt", counting)
    return seen


def contacts_decrypted(seen):
    return [c for c in seen if c.startswith("enterprises.contact_")]


def assert_masked_forms_match(session):
    """Every stored masked form is the masking of the stored contact, decrypted with the current keyring."""
    keyring = pi_crypto.current()
    rows = session.execute(sa.text(STORED)).all()
    assert rows
    for row in rows:
        for field in CONTACT_FIELDS:
            stored = getattr(row, field)
            plain = None if stored is None else keyring.decrypt(stored, f"enterprises.{field}")
            assert getattr(row, f"{field}_masked") == mask_field(field, plain), (row.id, field)


def test_writing_a_contact_stores_its_masked_form(session, ents):
    row = session.execute(sa.text(STORED + " LIMIT 1")).one()
    assert (row.contact_name_masked, row.contact_email_masked, row.contact_phone_masked) == (
        MASKED["contact_name"], MASKED["contact_email"], MASKED["contact_phone"])
    assert PHONE not in str(tuple(row)) and NAME not in str(tuple(row))  # neither in clear nor derivable
    assert_masked_forms_match(session)


def test_the_bulk_helper_derives_only_the_contacts_a_row_carries():
    assert contact_columns({"contact_phone": PHONE, "name": "甲"}) == {
        "contact_phone_masked": MASKED["contact_phone"],
        "contact_phone_index": pi_crypto.current().blind_index("phone", PHONE)}
    assert contact_columns({"contact_name": None}) == {"contact_name_masked": None}


def test_the_roster_page_list_api_and_default_exports_decrypt_no_contact(login_as, api_as, session, ents, decrypted):
    page, api = login_as("auditor", "331000"), api_as("officer", "331000")
    session.commit()  # the token: a request ends with a rollback
    ids = [e.id for e in ents]
    session.expire_all()  # nothing already decrypted in the shared session (reading ents now would decrypt)
    decrypted.clear()
    html = page.get("/enterprises").get_data(as_text=True)
    assert "台州脱敏测试有限公司" in html and "共 3 家企业" in html
    listed = api.get("/api/v1/enterprises")
    assert listed.status_code == 200, listed.get_data(as_text=True)
    items = listed.get_json()["items"]
    first = next(e for e in items if e["id"] == ids[0])
    assert {f: first[f] for f in CONTACT_FIELDS} == MASKED
    assert next(e for e in items if e["id"] == ids[1])["contact_name"] == "欧**"
    exported = api.get("/api/v1/exports/roster.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported)))
    assert len(rows) == 4 and all(m in exported for m in MASKED.values()) and PHONE not in exported
    workbook = str(read_xlsx(api.get("/api/v1/exports/roster.xlsx").data))
    assert all(m in workbook for m in MASKED.values()) and EMAIL not in workbook
    assert contacts_decrypted(decrypted) == []
    # the counter sees decryption where it happens: a list asked for in full decrypts, and is audited
    mark = last_id(session)
    full = api.get("/api/v1/enterprises?unmask=1").get_json()["items"]
    assert next(e for e in full if e["id"] == ids[0])["contact_phone"] == PHONE
    assert len(contacts_decrypted(decrypted)) == 6  # the contacts the three enterprises have (2 × 3)
    assert [e.action for e in events_after(session, mark)] == ["pi.unmask"]
    decrypted.clear()
    assert PHONE in api.get("/api/v1/exports/roster.csv?unmask=1&q=脱敏").data.decode("utf-8-sig")
    assert "enterprises.contact_phone" in contacts_decrypted(decrypted)


def test_an_edit_keeps_the_masked_forms_in_step(api_as, session, admin, ents):
    officer = api_as("officer", "331000")
    changed = officer.patch(f"/api/v1/enterprises/{ents[0].id}", json={"contact_phone": "13911112222",
                                                                        "version": ents[0].version})
    assert changed.status_code == 200 and changed.get_json()["contact_phone"] == "139****2222"
    session.expire_all()
    ent = session.get(type(ents[0]), ents[0].id)
    update_enterprise(session, actor=admin, enterprise_id=ent.id, version=ent.version, at=utcnow(),
                      data={"contact_name": "李四", "contact_email": None})
    session.commit()
    row = session.execute(sa.text(STORED + " LIMIT 1")).one()
    assert (row.contact_name_masked, row.contact_email_masked, row.contact_phone_masked) == ("李*", None, "139****2222")
    assert_masked_forms_match(session)


def test_an_import_writes_the_masked_forms_of_new_and_changed_contacts(session, ents, do_import):
    headers = ["企业名称", "统一社会信用代码", "地区代码", "联系人", "联系邮箱", "联系电话"]
    code = make_uscc("331002", 700_091)
    run = do_import(xlsx([["台州新导入有限公司", code, "331002", "王伟", "wang@example.com", "0576-88001234"],
                          [ents[1].name, ents[1].uscc, "331002", "欧阳修", None, "0576-8899"]], headers))
    assert run.status == "applied", run.errors
    new = session.execute(sa.text("SELECT contact_name_masked, contact_email_masked, contact_phone_masked"
                                  " FROM enterprises WHERE uscc = :code"), {"code": code}).one()
    assert tuple(new) == ("王*", "w***@example.com", "057****1234")
    changed = session.execute(sa.text("SELECT contact_phone_masked FROM enterprises WHERE id = :id"),
                              {"id": ents[1].id}).scalar_one()
    assert changed == "057****8899"
    assert_masked_forms_match(session)


def test_a_rekey_keeps_the_masked_forms(session, admin, ents):
    before = session.execute(sa.text(STORED)).all()
    old = pi_crypto.current()
    new = pi_crypto.Keyring("k9", {"k9": bytes(range(16, 32)), **old.keys}, old.index_key)
    with pi_crypto.using(new):
        assert rekey(session, actor=admin, at=utcnow())["enterprises.contact_phone"] >= 2
        after = session.execute(sa.text(STORED)).all()
        assert all(r.contact_phone.startswith("sm4gcm:k9:") for r in after if r.contact_phone)
        assert [tuple(r)[4:] for r in after] == [tuple(r)[4:] for r in before]
        assert_masked_forms_match(session)
    session.rollback()


def test_migration_0032_fills_the_masked_forms_and_its_downgrade_drops_them(empty_url):
    upgrade(empty_url, "0031")
    keyring = pi_crypto.current()
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO enterprises (id, uscc, name, region_code, contact_name, contact_phone, contact_email,"
            " version, created_at, updated_at) VALUES (:id, :uscc, :name, '331002', :cn, :cp, :ce, 1,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
            [{"id": 1, "uscc": make_uscc("331002", 700_101), "name": "甲", "cn": keyring.encrypt(NAME, "enterprises.contact_name"),
              "cp": keyring.encrypt(PHONE, "enterprises.contact_phone"),
              "ce": keyring.encrypt(EMAIL, "enterprises.contact_email")},
             {"id": 2, "uscc": make_uscc("331002", 700_102), "name": "乙", "cn": None, "cp": None, "ce": None},
             {"id": 3, "uscc": make_uscc("331002", 700_103), "name": "丙", "cn": None,
              "cp": keyring.encrypt("0576-88", "enterprises.contact_phone"), "ce": None}])
    engine.dispose()
    upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT contact_name_masked, contact_email_masked, contact_phone_masked"
                                    " FROM enterprises ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(MASKED["contact_name"], MASKED["contact_email"], MASKED["contact_phone"]),
                                        (None, None, None), (None, None, "****88")]
    downgrade(empty_url, "0031")
    engine = make_engine(empty_url)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("enterprises")}
    with engine.connect() as conn:
        phone = conn.execute(sa.text("SELECT contact_phone FROM enterprises WHERE id = 1")).scalar_one()
    engine.dispose()
    assert not columns & {f"{f}_masked" for f in CONTACT_FIELDS} and "contact_phone" in columns
    assert keyring.decrypt(phone, "enterprises.contact_phone") == PHONE  # the ciphertext untouched
