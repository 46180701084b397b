"""The issue's acceptance (1,000 rows, 3 bad) and a 50,000-row file, checked for correctness only."""

from datetime import date

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.enterprises.models import Enterprise
from registry.titles.models import Certification
from tests.roster.conftest import registry_counts
from tests.roster.files import csv_bytes, roster_rows, xlsx

pytestmark = pytest.mark.slow


def test_1000_rows_with_3_bad_import_nothing_then_all_then_nothing_again(session, do_import):
    rows = roster_rows(1000, serial=800_000)
    good = [list(r) for r in rows]
    rows[99][2] = rows[99][2][:-1] + ("0" if rows[99][2][-1] != "0" else "1")  # row 101: check digit
    rows[499][5] = "2024-06-31"  # row 501: no such day
    rows[899][4] = "隐形冠军"  # row 901: no such tier
    before = registry_counts(session)
    failed = do_import(xlsx(rows))
    assert failed.status == "failed"
    assert [(e["row"], e["column"]) for e in failed.errors] == [
        (101, "C列（统一社会信用代码）"), (501, "F列（认定日期）"), (901, "E列（称号）")]
    assert registry_counts(session) == before
    applied = do_import(xlsx(good))
    assert applied.status == "applied" and applied.counts["new_enterprises"] == 1000
    assert applied.counts["new_titles"] == 1000
    after = registry_counts(session)
    assert after["enterprises"] == before["enterprises"] + 1000
    assert after["certifications"] == before["certifications"] + 1000
    again = do_import(xlsx(good))
    assert again.counts["unchanged_rows"] == 1000 and again.counts["new_titles"] == 0
    assert registry_counts(session) == {**after, "audit_events": after["audit_events"] + 1}


def test_a_50000_row_file_imports_correctly(session, do_import):
    n = 50_000  # an announcement table, as the offices receive them (CSV: the quickest to build)
    rows = roster_rows(n, serial=1_000_000, on=date(2025, 3, 1), batch="2025年第一批")
    seen = []
    run = do_import(csv_bytes(rows), filename="全省名单.csv", progress=lambda done, total: seen.append((done, total)))
    assert run.status == "applied", run.errors[:5]
    assert run.total_rows == run.processed_rows == n and seen[-1] == (n, n) and len(seen) == n // 1000
    assert run.counts["new_enterprises"] == run.counts["new_titles"] == n
    codes = [r[2] for r in rows]
    sample = codes[:500] + codes[24_750:25_250] + codes[-500:]
    imported = session.execute(sa.select(Enterprise.uscc, Enterprise.name, Certification.valid_until)
                               .join(Certification).where(Enterprise.uscc.in_(sample))).all()
    expected = {r[2]: r[1] for r in rows}
    assert len(imported) == 1500
    assert all(expected[code] == name and until == date(2028, 3, 1) for code, name, until in imported)
    events = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.note.like("导入 全省名单.csv 第%")))
    assert events == 2 * n
