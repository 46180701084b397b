"""An applied mixed file writes exactly the rows and audit events the row-by-row apply wrote.

tests/roster/golden/apply_mixed.json was written by the row-by-row apply (each changed enterprise
and report through the services, one audit event at a time), before the apply became set-based;
regenerate it only on purpose: REGISTRY_WRITE_GOLDEN=1 pytest tests/roster/test_apply_golden.py.
The snapshot names every record by its natural key (USCC, tier and date, year) instead of its id
and leaves out timestamps and hashes (they follow from ids and the clock); the chain must verify.
"""

from __future__ import annotations

import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from registry.audit import trail as audit
from registry.audit.models import AuditEvent
from registry.enterprises.models import AnnualReport, Enterprise
from registry.platform.pi_crypto import blind_index
from registry.roster.models import ImportRun
from registry.titles.models import Certification, CertificationEvent, CertificationTerm
from tests.factories import make_enterprise, make_uscc, report
from tests.roster.files import xlsx
from tests.roster.test_apply import FULL, full_row

GOLDEN = Path(__file__).parent / "golden" / "apply_mixed.json"
SKIP = {"id", "created_at", "updated_at", "enterprise_id", "certification_id"}


def _seed(session, admin, do_import) -> dict[str, str]:
    """Enterprises already registered before the mixed file: by the import and by the services."""
    codes = {k: make_uscc("331002", 702_000 + n) for n, k in enumerate(
        ("same", "changed", "climbs", "moves", "corrected", "by_hand", "new_a", "new_b", "new_c"))}
    first = xlsx([
        full_row(codes["same"], 企业名称="台州不变有限公司"),
        full_row(codes["changed"], 企业名称="台州改名前有限公司", 联系电话="0576-88000001"),
        full_row(codes["climbs"], 企业名称="台州攀升有限公司"),
        full_row(codes["moves"], 企业名称="台州迁址有限公司", 年度=2024),
        full_row(codes["corrected"], 企业名称="台州更正有限公司", 从业人员="40"),
    ], FULL)
    assert do_import(first, filename="首批.xlsx").status == "applied"
    hand = make_enterprise(session, admin, uscc=codes["by_hand"], name="台州手录有限公司",
                           contact_phone="13800001111", size_class="micro")
    report(session, admin, hand, 2024, revenue=Decimal("3000000"), employees=12)
    return codes


def _mixed(codes: dict[str, str]) -> bytes:
    """New enterprises, changed fields, unchanged rows, new titles, new and corrected reports."""
    return xlsx([
        full_row(codes["same"], 企业名称="台州不变有限公司"),  # unchanged
        full_row(codes["changed"], 企业名称="台州改名后有限公司", 联系电话="13900002222", 企业规模="中型",
                 联系人="李娜"),  # changed fields, contacts masked in the trail
        full_row(codes["climbs"], 企业名称="台州攀升有限公司", 称号="专精特新中小企业", 认定日期=date(2025, 7, 1),
                 批次="2025年第一批", 文号="浙经信企业〔2025〕66号", 年度=2024, 营业收入="9,000"),  # new title, report
        full_row(codes["moves"], 企业名称="台州迁址有限公司", 地区代码="331003", 年度=2024),  # region moves
        full_row(codes["corrected"], 企业名称="台州更正有限公司", 从业人员="45", 资产负债率="50%"),  # corrected
        full_row(codes["by_hand"], 企业名称="台州手录有限公司", 年度=2024, 营业收入="310", 从业人员="12",
                 联系人=None, 联系邮箱=None, 联系电话=None, 企业规模=None, 成立日期=None, 行业代码=None,
                 资产负债率=None, 研发费用=None, 审计报告验证码=None),  # new title; report figures corrected
        full_row(codes["new_a"], 企业名称="台州新甲有限公司"),
        full_row(codes["new_b"], 企业名称="台州新乙有限公司", 地区代码="331003", 联系电话="13700003333"),
        full_row(codes["new_b"], 企业名称="台州新乙有限公司", 地区代码="331003", 称号="专精特新中小企业",
                 认定日期=date(2025, 7, 1), 批次="2025年第一批", 年度=2024, 营业收入="8,000", 联系电话="13700003333"),  # a ladder in one file
        full_row(codes["new_c"], 企业名称="台州新丙有限公司", 年度=2023, 营业收入="500"),
    ], FULL)


def _plain_row(obj: object, columns: list[str], keys: dict[str, Any]) -> dict[str, Any]:
    return {**keys, **{c: audit.plain(getattr(obj, c)) for c in columns if c not in SKIP}}


def _enterprise_row(e: Enterprise) -> dict[str, Any]:
    """An enterprise's columns; its blind indexes as whether they are the current keyring's index of the
    contact (their value depends on the index key the run has, as hashes depend on ids)."""
    row = _plain_row(e, _columns(Enterprise), {})
    for field, kind in (("contact_phone", "phone"), ("contact_email", "email")):
        row[f"{field}_index"] = row[f"{field}_index"] == blind_index(kind, getattr(e, field))
    return row


def _columns(model: type) -> list[str]:
    return [a.key for a in sa.inspect(model).column_attrs]


def snapshot(session, after_event: int) -> dict[str, Any]:
    """Every row the imports wrote, by natural keys, and the audit events after `after_event` in order."""
    ents = session.scalars(sa.select(Enterprise).order_by(Enterprise.uscc)).all()
    uscc = {e.id: e.uscc for e in ents}
    certs = session.scalars(sa.select(Certification).order_by(Certification.id)).all()
    cert_key = {c.id: f"{uscc[c.enterprise_id]}/{c.tier}/{c.recognized_on.isoformat()}" for c in certs}
    reports = session.scalars(sa.select(AnnualReport).order_by(AnnualReport.id)).all()
    report_key = {r.id: f"{uscc[r.enterprise_id]}/{r.year}" for r in reports}
    runs = session.scalars(sa.select(ImportRun).order_by(ImportRun.id)).all()
    run_key = {r.id: f"{r.filename}/{r.mode}" for r in runs}
    entity = {"enterprise": uscc, "certification": cert_key, "annual_report": report_key, "import": run_key}

    def unid(value: Any) -> Any:
        """The run's diff with record ids replaced by USCCs."""
        if isinstance(value, list):
            return [unid(v) for v in value]
        if isinstance(value, dict):
            return {k: (uscc.get(v, v) if k in ("enterprise_id", "existing_id") else unid(v)) for k, v in value.items()}
        return value

    events = session.scalars(sa.select(AuditEvent).where(AuditEvent.id > after_event).order_by(AuditEvent.id)).all()
    return {
        "enterprises": [_enterprise_row(e) for e in ents],
        "certifications": sorted((_plain_row(c, _columns(Certification), {"key": cert_key[c.id]}) for c in certs),
                                 key=lambda r: r["key"]),
        "terms": sorted((_plain_row(t, _columns(CertificationTerm), {"cert": cert_key[t.certification_id]})
                         for t in session.scalars(sa.select(CertificationTerm))), key=lambda r: (r["cert"], r["seq"])),
        "cert_events": sorted((_plain_row(e, _columns(CertificationEvent), {"cert": cert_key[e.certification_id]})
                               for e in session.scalars(sa.select(CertificationEvent))),
                              key=lambda r: (r["cert"], r["action"], r["note"] or "")),
        "reports": sorted((_plain_row(r, _columns(AnnualReport), {"key": report_key[r.id]}) for r in reports),
                          key=lambda r: r["key"]),
        "runs": [{"key": run_key[r.id], "status": r.status, "counts": r.counts, "errors": r.errors,
                  "diff": unid(r.diff)} for r in runs],
        "audit": [{"action": e.action, "entity": entity.get(e.entity_type, {}).get(e.entity_id, e.entity_id),
                   "entity_type": e.entity_type, "enterprise": uscc.get(e.enterprise_id),
                   "region_code": e.region_code, "changes": e.changes, "reason_code": e.reason_code,
                   "document_no": e.document_no, "note": e.note, "actor": [e.actor_kind, e.actor_name]}
                  for e in events],
    }


def test_a_mixed_file_writes_what_the_row_by_row_apply_wrote(session, admin, do_import):
    baseline = session.scalar(sa.select(sa.func.coalesce(sa.func.max(AuditEvent.id), 0)))
    codes = _seed(session, admin, do_import)
    run = do_import(_mixed(codes), filename="混合.xlsx")
    assert run.status == "applied", run.errors
    totals = run.diff["totals"]
    assert (totals["new_enterprises"], totals["new_titles"], totals["new_reports"]) == (3, 6, 5), totals
    assert totals["changed"] >= 6 and totals["unchanged_rows"] == 1, totals
    got = json.loads(json.dumps(snapshot(session, baseline), ensure_ascii=False, default=str))
    if os.environ.get("REGISTRY_WRITE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for part in expected:
        assert got[part] == expected[part], part
    assert got.keys() == expected.keys()
    assert audit.verify(session).ok
