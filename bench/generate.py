"""Generate a synthetic national roster into a fresh database: `python -m bench.generate [--db URL] [--scale N]`.

Schema by the app's migrations and region sync; users through the services (so their audit
events head the chain); then enterprises, titles, terms, events, annual reports, change reports,
bans and one `enterprise.created` audit event per enterprise — a valid hash chain continuing from
the users' events, the chain-head row updated — loaded in one transaction (bench/load.py).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa

from bench import load
from bench.synth import COLUMNS, GENERATOR, PROVINCE_WEIGHTS, Roster
from config import Settings
from registry import create_app
from registry.accounts.users import create_user
from registry.audit.models import AuditChainHead
from registry.cli.base import today_in
from registry.domain.actors import system_actor
from registry.platform.migrate import upgrade
from registry.policies.rules import load_rules
from registry.regions.models import Region
from registry.regions.reference import sync_regions

PASSWORD = "bench-password-2026"
ADMIN = "bench_admin"


@dataclass
class Generated:
    """What the generator made and how long each stage took."""

    url: str
    scale: int
    today: date
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        """Rows loaded in bulk."""
        return sum(self.rows.values())


def make_app(url: str):  # noqa: ANN201
    """The app on the bench database (development settings, a fixed secret)."""
    return create_app(Settings(database_url=url, secret_key="bench-secret", env="development"))


def officer_name(province: str) -> str:
    """Username of a province's officer."""
    return f"officer_{province}"


def _users(app) -> dict[str, int]:  # noqa: ANN001
    """Create the bench admin and one officer per province through the services."""
    actor, at = system_actor(*GENERATOR), datetime(2022, 6, 1, tzinfo=UTC)
    ids: dict[str, int] = {}
    with app.extensions["registry.sessionmaker"]() as session:
        create_user(session, actor=actor, username=ADMIN, role="admin", region_code="000000",
                    email="bench_admin@example.gov.cn", password=PASSWORD, at=at, display_name="基准测试管理员")
        for province in sorted(PROVINCE_WEIGHTS):
            user = create_user(session, actor=actor, username=officer_name(province), role="officer",
                               region_code=f"{province}0000", email=f"officer_{province}@example.gov.cn",
                               password=PASSWORD, at=at, display_name=f"{province} 省级业务人员")
            ids[province] = user.id
        session.commit()
    return ids


def generate(url: str | None = None, *, scale: int = 1_000_000, today: date | None = None,
             echo=print) -> Generated:  # noqa: ANN001
    """Create a fresh bench database at `url` and fill it with `scale` enterprises."""
    url, admin = load.bench_url(url)
    today = today or today_in("Asia/Shanghai")
    result = Generated(url=url, scale=scale, today=today)
    clock = time.perf_counter()
    load.recreate(url, admin)
    upgrade(url)
    app = make_app(url)
    engine = app.extensions["registry.engine"]
    with app.extensions["registry.sessionmaker"]() as session:
        sync_regions(session)
        session.commit()
        regions = [tuple(r) for r in session.execute(sa.select(Region.code, Region.name, Region.parent_code, Region.level))]
        calendar = load_rules(session, app.extensions["registry.policies"]).calendar
    officers = _users(app)
    with engine.connect() as conn:
        head = conn.execute(sa.select(AuditChainHead.last_event_id, AuditChainHead.last_hash)).one()
    result.seconds["schema, regions, users"] = time.perf_counter() - clock
    _load(engine, result, Roster(scale=scale, today=today, policies=app.extensions["registry.policies"],
                                 calendar=calendar, regions=regions, officers=officers,
                                 chain=(head.last_event_id or 0, head.last_hash)), echo)
    engine.dispose()
    return result


def _load(engine: sa.Engine, result: Generated, roster: Roster, echo) -> None:  # noqa: ANN001
    tables = list(COLUMNS)
    indexes = load.secondary_indexes(engine, tables)
    load.drop_indexes(engine, indexes)
    loader = load.BulkLoader(engine, COLUMNS)
    clock, spent_loading, reported = time.perf_counter(), 0.0, 0
    for rows in roster.chunks():
        started = time.perf_counter()
        for table in tables:  # parents before children: the foreign keys stay checked
            loader.write(table, rows[table])
        spent_loading += time.perf_counter() - started
        done = loader.counts.get("enterprises", 0)
        if done // 100_000 > reported:
            reported = done // 100_000
            echo(f"  … {done:,} enterprises ({time.perf_counter() - clock:.0f} s)")
    last_id, last_hash = roster.chain_head()
    loader.execute("UPDATE audit_chain_head SET last_event_id = ?, last_hash = ? WHERE id = 1", (last_id, last_hash))
    loader.commit()
    total = time.perf_counter() - clock
    result.seconds["synthesise rows (Python)"] = total - spent_loading
    result.seconds["bulk load (COPY / executemany)"] = spent_loading
    started = time.perf_counter()
    load.finish(engine, indexes, tables)
    result.seconds["indexes, sequences, analyze"] = time.perf_counter() - started
    result.rows = dict(loader.counts)


def main(argv: list[str] | None = None) -> Generated:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--db", help=f"SQLAlchemy URL (default {load.DEFAULT_URL}; a PostgreSQL URL names the "
                                     f"server: the bench database is always {load.BENCH_DB})")
    parser.add_argument("--scale", type=int, default=1_000_000, help="enterprises (default 1,000,000)")
    parser.add_argument("--today", type=date.fromisoformat, help="the roster's today (default: today in Shanghai)")
    args = parser.parse_args(argv)
    result = generate(args.db, scale=args.scale, today=args.today)
    for stage, seconds in result.seconds.items():
        print(f"{stage:<36} {seconds:8.1f} s")
    for table, count in result.rows.items():
        print(f"{table:<36} {count:>12,}")
    return result


if __name__ == "__main__":
    main()
