"""Two officers confirm the same list at the same moment: one wins, the other is told, nothing is duplicated."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.domain.errors import Conflict
from registry.roster.models import NameList
from registry.roster.namelists.services import confirm_name_list, upload_name_list
from registry.titles.models import Certification
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise
from tests.roster.namelist_files import name_list

TITLE = {"tier": "specialized_sme", "recognized_on": d("2026-05-20"), "document_no": "浙经信企业〔2026〕12号"}


def test_a_concurrent_confirm_twice_grants_once(committed_factory, policies, admin):
    from registry.policies.rules import load_rules

    sessions = committed_factory
    with sessions() as session:
        rules = load_rules(session, policies)
        made = [make_enterprise(session, admin, name=f"台州并发{n}机械有限公司") for n in (1, 2)]
        for enterprise in made:
            grant(session, admin, rules, enterprise, "innovative_sme", d("2025-03-01"))
        listed = upload_name_list(session, actor=admin, rules=rules, filename="名单.xlsx",
                                  content=name_list([[1, "浙江省", e.name] for e in made]), title=TITLE, at=NOW,
                                  today=d("2026-06-01"))
        decisions = {r["row"]: {"choice": "enterprise", "enterprise_id": r["match_id"]} for r in listed.rows}
        list_id, ids = listed.id, [e.id for e in made]
        session.commit()
    assert all(decision["enterprise_id"] for decision in decisions.values())

    barrier, outcomes = threading.Barrier(2), []

    def confirmer() -> None:
        barrier.wait(30)  # before the session: on SQLite a session holds the write lock from its first statement
        with sessions() as session:
            try:
                confirm_name_list(session, actor=admin, rules=rules, list_id=list_id, decisions=decisions, at=NOW,
                                  today=d("2026-06-01"))
                session.commit()
                outcomes.append("applied")
            except Conflict as exc:
                session.rollback()
                outcomes.append(exc.message)
            except Exception as exc:  # noqa: BLE001  reported by the assertion below
                session.rollback()
                outcomes.append(f"{exc.__class__.__name__}: {exc}")

    threads = [threading.Thread(target=confirmer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes, key=len)[0] == "applied", outcomes
    assert "不能再次确认" in sorted(outcomes, key=len)[1], outcomes
    with sessions() as session:
        titles = session.execute(sa.select(Certification.enterprise_id).where(
            Certification.tier == "specialized_sme")).scalars().all()
        assert sorted(titles) == sorted(ids)
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "name_list.applied")) == 1
        assert session.get(NameList, list_id).status == "applied"
