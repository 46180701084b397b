"""Helpers for reminder tests: the real scan makes reminders and e-mails, the sender's own marks settle them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.accounts.users import create_user
from registry.domain.actors import Actor
from registry.domain.lifecycle import Event
from registry.enterprises.models import Enterprise
from registry.platform.mail import MailError, PermanentMailError, TransientMailError
from registry.policies.rules import Rules
from registry.reminders import outbox
from registry.reminders.models import OutboxMessage, Reminder
from registry.titles.services import EventInput, apply_event
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise, report
from tests.jobs.conftest import scan

BOUNCE = "550 5.1.1 mailbox unavailable"


def holder(session: Session, admin: Actor, rules: Rules, region: str = "331002", **kw: object) -> Enterprise:
    """An enterprise with its annual updates filed and an innovative_sme title valid until 2026-09-01."""
    ent = make_enterprise(session, admin, region_code=region, **kw)
    for year in (2023, 2024, 2025):
        report(session, admin, ent, year, revenue=10_000_000)
    grant(session, admin, rules, ent, "innovative_sme", d("2023-09-01"))
    return ent


def settle(session: Session, errors: dict[str, MailError], at: datetime = NOW) -> None:
    """Claim every due e-mail as the sender does; record the relay's error by recipient, else a delivery."""
    for claimed in outbox.claim_batch(session, at, 1000):
        if claimed.to_addr in errors:
            outbox.mark_failure(session, claimed, errors[claimed.to_addr], at)
        else:
            outbox.mark_sent(session, claimed, at)
    session.expire_all()


@dataclass
class Ledger:
    """The enterprises of `ledger` and their e-mails, by recipient."""

    a: Enterprise  #: 椒江, officer li: the enterprise's mail bounced, li's copy was delivered
    b: Enterprise  #: 西湖区 (杭州, a sibling city of 台州): its mail bounced
    c: Enterprise  #: 椒江: delivered, then the title was withdrawn (its other reminders retired)
    e: Enterprise  #: 椒江: the relay answered 451, so its mail waits for a retry

    def message(self, session: Session, to_addr: str) -> OutboxMessage:
        """Return the e-mail sent to `to_addr`."""
        return session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to_addr == to_addr)).one()


def ledger(session: Session, admin: Actor, rules: Rules) -> Ledger:
    """Scan 2026-05-20 (the review windows open 2026-06-03: 14 days ahead) and settle the e-mails."""
    li = create_user(session, actor=admin, username="li", role="officer", region_code="331000",
                     email="li@tz.gov.cn", password="long-enough-1", at=NOW, display_name="李科长")
    found = Ledger(holder(session, admin, rules, officer_id=li.id, contact_email="boss@a.cn"),
                   holder(session, admin, rules, region="330102", contact_email="boss@b.cn"),
                   holder(session, admin, rules, contact_email="boss@c.cn"),
                   holder(session, admin, rules, contact_email="boss@e.cn"))
    scan(session, rules, d("2026-05-20"))
    settle(session, {"boss@a.cn": PermanentMailError(BOUNCE), "boss@b.cn": PermanentMailError(BOUNCE),
                     "boss@e.cn": TransientMailError("451 4.7.1 try again later")})
    [cert] = found.c.certifications
    apply_event(session, actor=admin, rules=rules, certification_id=cert.id, at=NOW,
                event=EventInput(Event.WITHDRAW, d("2026-05-21")))
    scan(session, rules, d("2026-05-21"))
    session.commit()  # each request ends with a rollback: uncommitted test data would vanish
    return found


def reminders_of(session: Session, ent: Enterprise) -> list[Reminder]:
    """Return the reminders about an enterprise."""
    return list(session.scalars(sa.select(Reminder).where(Reminder.enterprise_id == ent.id)))
