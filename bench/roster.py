"""The roster API's first page with typical filters, through the WSGI app, against its raw SQL."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask

from bench.sql import Statement, capture, explain, inline, replayer
from bench.timing import Figure, percentile, repeat

REQUESTS = 200


def roster_statements(statements: list[Statement]) -> list[Statement]:
    """The count and the page of the roster (not the token lookup or its last-used update)."""
    return [s for s in statements if "FROM enterprises" in s.sql and s.sql.lstrip().upper().startswith("SELECT")]


def measure(app: Flask, token: str, query: dict[str, str], *, label: str, n: int = REQUESTS) -> Figure:
    """p50/p95 of GET /api/v1/enterprises?… over `n` requests vs the same SQL on the raw driver."""
    engine = app.extensions["registry.engine"]
    client = app.test_client()
    url = f"/api/v1/enterprises?{urlencode(query)}"
    headers = {"Authorization": f"Bearer {token}"}

    def get() -> dict:
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code} {response.get_data(as_text=True)[:300]}")
        return response.get_json()

    with capture(engine) as seen:
        body = get()
    statements = roster_statements(seen)
    api = repeat(get, n)
    run, close = replayer(engine, statements)
    try:
        raw = repeat(run, n)
    finally:
        close()
    p50, p95, raw50, raw95 = percentile(api, 50), percentile(api, 95), percentile(raw, 50), percentile(raw, 95)
    return Figure(
        f"roster API first page, p95 ({label})", p95, raw95, "the same SQL on the raw driver, p95",
        target_ratio=3.0, target_value=0.050,
        note=f"p50 {p50 * 1000:.2f} ms vs raw p50 {raw50 * 1000:.2f} ms; {body['total']:,} matching, "
             f"{len(body['items'])} on the page; {len(seen)} statements per request, {len(statements)} of them the roster's",
        details={"url": url, "statements": [inline(s) for s in statements],
                 "plans": [explain(engine, s) for s in statements],
                 "all_statements": [s.first_line for s in seen]})
