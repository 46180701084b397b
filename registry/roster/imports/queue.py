"""Queued imports as the services see them: who sent a run, and the reaper's rule. Nothing here commits.

The jobs process runs the one import executor (jobs/imports.py): it claims a queued run, processes
it as its uploader (`submitter`) in a transaction of its own and fails the runs whose worker
stopped (`fail_stale_imports`, in the jobs process's reaper and watchdog).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.accounts.models import User
from registry.domain.actors import Actor
from registry.domain.errors import PermissionDenied
from registry.roster.imports.run import ABANDONED, ABANDONED_AFTER
from registry.roster.models import ImportRun

STALE = ("导入中断：处理进程已停止（超过 {minutes} 分钟没有心跳），未导入任何数据，请重新上传 / "
         "import interrupted: its worker stopped, nothing imported")


def submitter(session: Session, run: ImportRun) -> Actor:
    """Return the uploader as they are now, to act as them. :raises PermissionDenied: gone, inactive or moved."""
    user = session.get(User, run.user_id) if run.user_id is not None else None
    if user is None or not user.is_active:
        raise PermissionDenied("上传人账户不存在或已停用 / the uploader's account is gone or inactive")
    if user.region_code != run.region_code:
        raise PermissionDenied("上传人的管辖地区已变更 / the uploader's region has changed")
    info = run.submitted_by or {}
    return Actor(kind=str(info.get("kind") or "user"), name=user.username, role=user.role,
                 region_code=user.region_code, user_id=user.id, token_id=info.get("token_id"),  # type: ignore[arg-type]
                 ip=info.get("ip"), request_id=info.get("request_id"))  # type: ignore[arg-type]


def fail_stale_imports(session: Session, *, at: datetime, stale_after: timedelta) -> int:
    """Fail running imports whose heartbeat is older than `stale_after`, and queued ones nobody claimed for
    ABANDONED_AFTER; return how many. Flushes, never commits; runs on an unscoped session (jobs)."""
    cutoff = at - stale_after
    stale = sa.or_(ImportRun.heartbeat_at < cutoff,
                   sa.and_(ImportRun.heartbeat_at.is_(None), ImportRun.created_at < cutoff))
    minutes = max(int(stale_after.total_seconds() // 60), 1)
    failed = 0
    for where, message in (
            (sa.and_(ImportRun.status == "running", stale), STALE.format(minutes=minutes)),
            (sa.and_(ImportRun.status == "queued", ImportRun.created_at < at - ABANDONED_AFTER), ABANDONED)):
        failed += len(session.execute(
            sa.update(ImportRun).where(where)
            .values(status="failed", finished_at=at, counts={"errors": 1, "error_rows": 0},
                    errors=[{"row": None, "column": None, "field": None, "message": message}])
            .returning(ImportRun.id).execution_options(synchronize_session=False)).all())
    return failed
