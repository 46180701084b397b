"""A catch-up scan, and the two scans after it, write exactly the rows the scan wrote before issue 19's rework.

tests/jobs/golden/scan_catch_up.{sqlite,postgresql}.json were written by the scan as it stood before its queueing was made
set-based (commit b126e06); regenerate it only on purpose:
REGISTRY_WRITE_GOLDEN=1 pytest tests/jobs/test_scan_golden.py -p no:randomly.

The roster is the demo's (every tier, titles in every status, overdue annual updates, change reports, bans,
a pipeline with an application waiting at every level) in a fresh database, so that ids are the same on
every run and backend; a few officers and contacts are varied so that every way a reminder goes out is taken
(a daily digest, reminder e-mail switched off, a contact sharing the officer's address, no contact address,
an inactive officer, channels of users and of offices). Every table is compared before and after each scan,
every column of every row added or changed, ids, dedupe keys and Message-IDs included (the ledger's, the
outbox's and the inbox's rows by a digest of all their columns; the test names a row that differs and shows it
as written now); only the audit chain's hashes are left out (they follow from the demo's timestamps, which tick), and the chain must verify.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from config import Settings
from jobs.scan import scan_once
from registry import create_app
from registry.accounts.models import User
from registry.audit import trail
from registry.channels.models import ChannelKind, ChannelTarget
from registry.enterprises.models import Enterprise
from registry.platform.db import Base
from registry.reminders import services as reminder_services
from tests.conftest import ROOT, backends, fresh_database

#: one file per backend: PostgreSQL's sequences also advance for rows an INSERT … ON CONFLICT DO NOTHING skips
GOLDEN = Path(__file__).parent / "golden" / "scan_catch_up.{dialect}.json"
SEEDED_ON = "2026-11-22"
#: the first scan ever (a catch-up: every reminder the roster implies), the steady state the day after, one after
#: a five months' pause (titles ended, the annual update of 2026's figures due on 30 April for every enterprise,
#: a year without holiday data) and the one after that update's due date (overdue reminders)
DAYS = (date(2026, 11, 30), date(2026, 12, 1), date(2027, 4, 26), date(2027, 5, 6))
#: hashes follow from every earlier event, whose timestamps the demo takes from the ticking clock
#: the tables written by the thousand: kept as a digest of each row, to keep the file small
DIGESTED = {"reminders", "outbox_messages", "inbox_messages"}
LEFT_OUT = {"audit_events": {"hash", "prev_hash"}, "audit_chain_head": {"last_hash", "anchor"}}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _tables(conn: sa.Connection) -> dict[str, dict[str, dict[str, Any]]]:
    """Every row of every table (the model's types decrypt what is encrypted at rest), by primary key."""
    found = {}
    for table in Base.metadata.sorted_tables:
        keys = [c.name for c in table.primary_key.columns]
        rows = {}
        for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns)).mappings():
            rows["/".join(str(row[k]) for k in keys)] = {k: _plain(v) for k, v in row.items()
                                                         if k not in LEFT_OUT.get(table.name, ())}
        found[table.name] = rows
    return found


def _written(before: dict, after: dict) -> dict[str, Any]:
    """Per table, the rows gained (whole) and the columns of rows that changed (their new values), by primary key;
    the keys of rows removed. The tables the scan writes by the thousand are kept as a digest per row."""
    out: dict[str, Any] = {}
    for name, rows in after.items():
        old = before.get(name, {})
        added = {key: row for key, row in rows.items() if key not in old}
        changed = {key: {c: v for c, v in row.items() if old[key].get(c) != v}
                   for key, row in rows.items() if key in old and old[key] != row}
        removed = sorted(key for key in old if key not in rows)
        if added or changed or removed:
            if name in DIGESTED:
                added, changed = ({key: _digest(row) for key, row in part.items()} for part in (added, changed))
            out[name] = {"added": added, "changed": changed, "removed": removed}
    return out


def _digest(row: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(row, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:20]


def _vary(app) -> None:  # noqa: ANN001
    """Officers and contacts that take every branch of the queueing, and channels of users and offices."""
    at = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    with app.extensions["registry.sessionmaker"].begin() as session:
        users = {u.username: u for u in session.scalars(sa.select(User))}
        users["hz_officer"].wants_daily_digest = True
        users["jj_officer"].wants_daily_digest = True  # an office's officer (opinion_due) on a digest
        users["zj_officer"].wants_reminder_email = False
        ents = session.scalars(sa.select(Enterprise).order_by(Enterprise.id)).all()
        tz = [e for e in ents if e.officer_id == users["tz_officer"].id]
        tz[0].contact_email = users["tz_officer"].email  # the officer is the contact: mailed once
        for e in tz[1::9]:
            e.contact_email = None
        other = [e for e in ents if e.officer_id not in (users["tz_officer"].id, users["hz_officer"].id)]
        for e in other[2::11]:
            e.contact_email = None
        for e in other[5::13]:
            e.officer_id = users["auditor"].id
        users["auditor"].is_active = False  # an inactive officer: no mail, no inbox
        for kind, owner, region, subregions, label in (
                (ChannelKind.DINGTALK, None, "330000", True, "省厅群"),
                (ChannelKind.WECOM, None, "331002", False, "椒江群"),
                (ChannelKind.WECOM, None, "331000", False, "台州群"),
                (ChannelKind.ZZD, users["tz_officer"].id, None, False, "台州专员"),
                (ChannelKind.DINGTALK, users["hz_officer"].id, None, False, "杭州专员群"),
                (ChannelKind.ZZD, users["jj_officer"].id, None, False, "椒江专员")):
            session.add(ChannelTarget(kind=kind, address=f"addr-{label}", secret="s" if kind == ChannelKind.DINGTALK
                                      else None, user_id=owner, region_code=region, include_subregions=subregions,
                                      label=label, created_at=at, updated_at=at))
        session.add(ChannelTarget(kind=ChannelKind.WECOM, address="off", region_code="330100", label="停用群",
                                  is_active=False, created_at=at, updated_at=at))


@pytest.fixture(params=backends())
def demo_app(request, tmp_path):
    url, pg = fresh_database(request.param, tmp_path)
    app = create_app(Settings(env="testing", database_url=url, secret_key="t", policy_dir=ROOT / "config" / "policies",
                              mail_from="registry@zj.example.cn"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    seeded = runner.invoke(args=["seed-demo", "--size", "160", "--today", SEEDED_ON])
    assert seeded.exit_code == 0, seeded.output
    _vary(app)
    yield app
    app.extensions["registry.engine"].dispose()
    if pg is not None:
        pg.drop()


@pytest.mark.parametrize("chunk", [None, 7], ids=["one_chunk", "chunks_of_7"])
def test_the_catch_up_and_the_scans_after_it_write_the_golden_rows(demo_app, chunk, monkeypatch):
    if chunk is not None:  # written and released in chunks (a national catch-up): the same rows, in the same order
        monkeypatch.setattr(reminder_services, "QUEUE_CHUNK", chunk)
        monkeypatch.setattr(reminder_services, "ARM_CHUNK", chunk)
    engine, sessions = demo_app.extensions["registry.engine"], demo_app.extensions["registry.sessionmaker"]
    got: dict[str, Any] = {}
    rows: dict[str, dict[str, Any]] = {}  #: the latest form of each row of the digested tables, to show a difference
    for day in DAYS:
        with engine.connect() as conn:
            before = _tables(conn)
        at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=1, minutes=30)
        outcome = scan_once(sessions, policies=demo_app.extensions["registry.policies"], today=day,
                            clock=lambda at=at: at, domain="zj.example.cn")
        with engine.connect() as conn:
            after = _tables(conn)
        report = outcome.report
        got[day.isoformat()] = {"counts": report.counts(), "lines": report.reminders.lines,
                                "transitions": report.transitions, "flags": report.flags,
                                "bans_lifted": report.bans_lifted, "warnings": report.warnings,
                                "written": _written(before, after)}
        for table in DIGESTED:
            rows.update({f"{table}/{key}": row for key, row in after[table].items()})
        with sessions() as session:
            assert trail.verify(session).ok
    added = [row for key, row in rows.items() if key.startswith("outbox_messages/")]
    assert len(added) > 800 and sum(g["counts"]["reminders_queued"] for g in got.values()) > 300
    assert {row["channel"] for row in added} == {"email", "dingtalk", "wecom", "zzd"}
    keys = [row["dedupe_key"] for row in added]
    assert any(k.startswith("digest:") for k in keys) and any(":user:" in k for k in keys)
    golden = Path(str(GOLDEN).format(dialect=engine.dialect.name))
    if os.environ.get("REGISTRY_WRITE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(golden.read_text(encoding="utf-8"))
    for day in expected:  # table by table, so that a failure names the table
        assert got[day].keys() == expected[day].keys()
        for part in ("counts", "lines", "transitions", "flags", "bans_lifted", "warnings"):
            assert got[day][part] == expected[day][part], (day, part)
        assert sorted(got[day]["written"]) == sorted(expected[day]["written"]), day
        for table, want in expected[day]["written"].items():
            have = got[day]["written"][table]
            if table in DIGESTED:
                for part in ("added", "changed"):
                    differ = sorted(set(have[part].items()) ^ set(want[part].items()))
                    assert not differ, (day, table, part, [rows.get(f"{table}/{key}") for key, _ in differ[:3]])
            assert have == want, (day, table)
