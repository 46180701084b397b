"""The as-of query — who held a tier on a date in a region — through the ORM, against its raw SQL."""

from __future__ import annotations

from datetime import date

from flask import Flask

from bench.sql import capture, explain, inline, replayer
from bench.timing import Figure, percentile, repeat
from registry.enterprises.queries import holders_as_of

RUNS = 20


def measure(app: Flask, tier: str, day: date, region: str, *, n: int = RUNS) -> Figure:
    """Median of `n` runs of registry.enterprises.queries.holders_as_of (ORM objects) vs the same SQL raw."""
    engine = app.extensions["registry.engine"]
    sessions = app.extensions["registry.sessionmaker"]
    stmt = holders_as_of(tier, day, region)

    def orm() -> int:
        with sessions() as session:
            return len(session.scalars(stmt).all())

    with capture(engine) as seen:
        count = orm()
    statements = [s for s in seen if "certification_terms" in s.sql]
    samples = repeat(orm, n, warmup=2)
    run, close = replayer(engine, statements)
    try:
        raw = repeat(run, n, warmup=2)
    finally:
        close()
    return Figure(
        f"as-of holders: {tier} in {region} on {day}, p50", percentile(samples, 50), percentile(raw, 50),
        "the same SQL on the raw driver, p50",
        note=f"{count:,} enterprises materialised as ORM objects; p95 {percentile(samples, 95) * 1000:.1f} ms "
             f"vs raw {percentile(raw, 95) * 1000:.1f} ms",
        details={"statements": [inline(s) for s in statements], "plans": [explain(engine, s) for s in statements]})
