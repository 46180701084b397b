"""The whole schedule as one list: job id, body, trigger. Times are Asia/Shanghai (the scheduler's zone)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jobs import tasks


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job."""

    id: str
    func: Callable[[tasks.JobContext], None]
    trigger: str  #: "cron" or "interval"
    trigger_args: Mapping[str, Any]
    name: str


JOBS: tuple[JobSpec, ...] = (
    JobSpec("daily-scan", tasks.daily_scan, "cron", {"hour": 1, "minute": 0}, "每日扫描 / daily scan"),
    JobSpec("send-outbox", tasks.send_outbox, "interval", {"minutes": 2}, "发送邮件 / outbox sender"),
    JobSpec("send-channels", tasks.send_channels, "interval", {"minutes": 1},
            "发送钉钉、企业微信、浙政钉消息 / channel sender"),
    JobSpec("officer-digest", tasks.officer_digest, "cron", {"day_of_week": "mon", "hour": 8, "minute": 0},
            "业务人员周报 / weekly officer digest"),
    JobSpec("import-reaper", tasks.reap_imports, "interval", {"minutes": 1},
            "中断导入清理 / fail imports whose worker stopped"),
    # hourly from 01:30: it retries today's scan when undone, so it must not run before the 01:00 scan
    JobSpec("watchdog", tasks.watchdog, "cron", {"hour": "1-23", "minute": 30}, "扫描补跑与健康检查 / watchdog"),
)
