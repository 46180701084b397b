"""Helpers for the import tests: run an import with the test clock, count what the registry holds."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.enterprises.models import AnnualReport, Enterprise
from registry.roster.imports import run_import
from registry.roster.models import ImportRun
from registry.titles.models import Certification

TODAY = date(2026, 6, 1)


def registry_counts(session) -> dict[str, int]:
    """Count the rows an import may write (all regions; the test session is unscoped)."""
    return {m.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Enterprise, Certification, AnnualReport, AuditEvent)}


@pytest.fixture
def do_import(session, admin, rules):
    """Run an import (apply unless told otherwise) with the test clock; return the ImportRun."""
    from tests.conftest import NOW

    def run(content: bytes, *, filename: str = "名单.xlsx", mode: str = "apply", actor=None,
            **kwargs) -> ImportRun:
        return run_import(session, actor=actor or admin, rules=rules, filename=filename, content=content,
                          mode=mode, at=NOW, today=kwargs.pop("today", TODAY), **kwargs)

    return run
