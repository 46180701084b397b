"""Models of the jobs process: the run ledger."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.platform.db import Base, str_enum


class RunStatus(StrEnum):
    """A job run: claimed (running), then succeeded or failed."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobRun(Base):
    """The run ledger: each (job, run date) is claimed once."""

    __tablename__ = "job_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_name: Mapped[str] = mapped_column(sa.String(64))
    run_on: Mapped[date]
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus, "status", length=16))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    detail: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    __table_args__ = (
        sa.UniqueConstraint("job_name", "run_on"),
    )

