"""Every export and download of personal data is in the audit trail: who, what filter, how many rows (issue 16 §5).

Run on the committed databases of test_streamed_downloads (a SQLite file, a PostgreSQL database):
the event is written by the download's own session, which on SQLite is a read-only (DEFERRED)
session until `writing` lifts it — so these also show that the short write works there.
"""

from __future__ import annotations

import csv
import io
import time

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from registry.audit import trail as audit
from registry.audit.models import AuditEvent
from registry.audit.queries import action_name, field_changes
from registry.platform.db import set_read_only
from registry.roster.models import ImportRun
from tests.web.test_streamed_downloads import DOWNLOADS, PROMPT, live  # noqa: F401  the module's fixture

ACTIONS = {"roster": ("export.roster", "导出企业名录"), "audit": ("export.audit", "导出审计日志"),
           "pool": ("export.pool", "导出培育库"), "errors": ("download.import_errors", "下载导入错误清单")}


def data_rows(name: str, body: bytes) -> int:
    """The rows of data in a downloaded file (its header row left out)."""
    if name.endswith(".csv"):
        return len(list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))) - 1
    book = load_workbook(io.BytesIO(body), read_only=True)
    heading = 2 if name.startswith("pool") else 1  # the pool sheet has a title line above its header
    return sum(1 for _ in book.worksheets[0].iter_rows()) - heading


def last_event(live) -> AuditEvent:  # noqa: ANN001
    with live.app.extensions["registry.sessionmaker"]() as session:
        set_read_only(session, True)  # a plain read (SQLite: DEFERRED), possible while a writer holds the lock
        event = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
        session.expunge(event)
        return event


@pytest.mark.parametrize("name", DOWNLOADS)
def test_each_download_is_audited_with_who_what_and_how_many_rows(live, name):  # noqa: F811
    before = last_event(live).id
    response = live.client_for(name).get(live.paths[name])
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    event = last_event(live)
    assert event.id == before + 1, "exactly one event per download"
    action, label = ACTIONS[name.split(".")[0]]
    assert (event.action, action_name(event.action)) == (action, label)
    kind = "user" if "(page)" in name else "token"  # the page client is logged in; the API client has a token
    assert (event.actor_name, event.actor_kind, event.region_code) == ("province", kind, "330000")
    changes = event.changes
    assert changes["format"] == [None, "csv" if name.endswith(".csv") else "xlsx"]
    if name.startswith("errors"):
        with live.app.extensions["registry.sessionmaker"]() as session:
            expected = len(session.get(ImportRun, event.entity_id).errors)
        assert expected > 0
    else:
        expected = data_rows(name, response.data)
    assert changes["row_count"] == [None, expected]
    labels = {c.field: c.label for c in field_changes(event.entity_type, changes)}
    assert labels["row_count"] == "导出行数" and labels["filter"] == "筛选条件" and labels["format"] == "文件格式"


def test_a_zero_criterion_is_kept():
    from registry.enterprises.queries import RosterFilter
    from registry.web.downloads import criteria

    assert criteria(RosterFilter(expiring_within_days=0, q="")) == {"expiring_within_days": 0, "sort": "name"}


@pytest.mark.parametrize("path", ("/api/v1/exports/roster.csv?region=331002&q=%E4%BC%81%E4%B8%9A",
                                  "/api/v1/audit/export.csv?action=enterprise.&actor=tests"))
def test_the_filter_is_recorded(live, path):  # noqa: F811
    response = live.api().get(path)
    assert response.status_code == 200
    recorded = last_event(live).changes["filter"][1]
    if "roster" in path:
        assert recorded == {"region": "331002", "q": "企业", "sort": "name"}
        assert last_event(live).changes["row_count"][1] == data_rows("x.csv", response.data)
    else:
        assert recorded == {"action": "enterprise.", "actor": "tests"}


def test_a_download_whose_event_cannot_be_recorded_sends_nothing(live, monkeypatch):  # noqa: F811
    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("the trail is unavailable")

    before = last_event(live).id
    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):  # raised before the first chunk: no data leaves without its event
        live.api().get("/api/v1/exports/roster.csv", buffered=False)
    monkeypatch.undo()
    assert last_event(live).id == before
    live.nothing_held()


def test_download_events_keep_the_chain_whole_and_show_in_chinese_on_the_audit_page(live):  # noqa: F811
    assert live.api().get("/api/v1/exports/roster.xlsx").status_code == 200
    page = live.page.get("/audit?action=export.").get_data(as_text=True)
    assert "导出企业名录" in page and "导出行数" in page
    with live.app.extensions["registry.sessionmaker"]() as session:
        assert audit.verify(session).ok


def test_a_download_behind_a_long_writer_answers_at_once_and_its_event_follows(live):  # noqa: F811
    """A long import holds the chain (SQLite: the write lock; PostgreSQL: the chain-head row): the export
    does not wait for it; its event is appended as soon as the writer is done, stamped with the download's time."""
    before = last_event(live).id
    engine = live.engine
    holder = engine.connect()
    transaction = holder.begin()
    if engine.dialect.name == "sqlite":
        holder.exec_driver_sql("UPDATE enterprises SET contact_name = contact_name WHERE id = 1")
    else:
        holder.exec_driver_sql("SELECT 1 FROM audit_chain_head WHERE id = 1 FOR UPDATE")
    try:
        started = time.perf_counter()
        response = live.api().get("/api/v1/exports/roster.csv")
        assert response.status_code == 200 and time.perf_counter() - started < PROMPT
        assert last_event(live).id == before  # not yet: the writer holds the chain
        threads = list(live.app.extensions["registry.download_audit_threads"])
        assert threads, "the event was neither recorded nor handed to a recorder"
    finally:
        transaction.rollback()
        holder.close()
    for thread in threads:
        thread.join(timeout=60)
    event = last_event(live)
    assert event.id == before + 1 and event.action == "export.roster"
    assert event.changes["row_count"] == [None, data_rows("roster.csv", response.data)]
    assert not live.app.extensions["registry.download_audit_threads"]
    with live.app.extensions["registry.sessionmaker"]() as session:
        assert audit.verify(session).ok
