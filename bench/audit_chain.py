"""Audit verify over the whole chain, against SHA-256 (and SM3) over the same canonical bytes alone.

The floor is computed the way the issue states it: the canonical encodings of every event are
built first (fetch and encode are timed too, and reported as the breakdown), then only the
hashing is timed. Verify is timed twice: as it runs (the database writes each event's canonical
text; PostgreSQL hashes and links them itself in one statement, SQLite hands them to Python to
hash) and with that quick path switched off (every event re-encoded from its columns in Python:
verify before issue 19), on the same chain.
"""

from __future__ import annotations

import hashlib
import time

from flask import Flask

from bench import timing
from bench.timing import Figure, once
from registry.audit import trail as audit
from registry.platform.digests import HEX_DIGESTS, SM3, sm3_available


def _canonical_bytes(app: Flask) -> tuple[list[bytes], list[str], float, float]:
    """Every event's canonical encoding and stored hash; seconds spent fetching and encoding.

    Read and encoded as verify does (`audit.pages`, `audit.stored_canonical`), so the breakdown
    says where verify's own time goes.
    """
    blobs, hashes, fetching, encoding = [], [], 0.0, 0.0
    with app.extensions["registry.sessionmaker"]() as session:
        pages = audit.pages(session)
        while True:
            started = time.perf_counter()
            rows = next(pages, None)
            fetching += time.perf_counter() - started
            if rows is None:
                break
            started = time.perf_counter()
            blobs.extend(audit.stored_canonical(row) for row in rows)
            hashes.extend(row[audit._HASH] for row in rows)  # the stored hash (hash_alg follows it)
            encoding += time.perf_counter() - started
    return blobs, hashes, fetching, encoding


def measure(app: Flask) -> Figure:
    """Time registry.audit.trail.verify against hashing alone."""
    with app.extensions["registry.sessionmaker"]() as session:
        seconds, result = once(lambda: audit.verify(session))
        memory = timing.last_peak
    if not result.ok:
        raise RuntimeError(f"the bench audit chain does not verify: {result}")
    quick_sql, audit._quick_sql = audit._quick_sql, lambda dialect: None
    try:
        with app.extensions["registry.sessionmaker"]() as session:
            python_s, python_result = once(lambda: audit.verify(session))
    finally:
        audit._quick_sql = quick_sql
    if python_result != result:
        raise RuntimeError(f"the Python re-encoding disagrees with the quick path: {python_result}")
    blobs, hashes, fetching, encoding = _canonical_bytes(app)
    sha256 = hashlib.sha256
    hashing, digests = once(lambda: [sha256(b).hexdigest() for b in blobs])
    floor_memory = timing.last_peak
    sm3 = HEX_DIGESTS[SM3] if sm3_available() else None
    sm3_s = once(lambda: [sm3(b) for b in blobs])[0] if sm3 else None
    if digests != hashes:
        raise RuntimeError("recomputed hashes differ from the stored ones")
    size = sum(map(len, blobs))
    return Figure(
        f"audit verify over {result.checked:,} events", seconds, hashing, "sha256 over the same canonical bytes",
        target_ratio=3.0, memory=memory, floor_memory=floor_memory,
        note=f"{size / 1e6:,.0f} MB hashed; every event re-encoded in Python (verify before issue 19) "
             f"{python_s:.2f} s ({python_s / hashing:.1f}×); fetching the rows took {fetching:.2f} s and encoding them "
             f"{encoding:.2f} s in that path; SM3 over the same bytes "
             + (f"{sm3_s:.2f} s ({seconds / sm3_s:.1f}× against it)" if sm3_s else "not available"),
        details={"python_path_s": python_s, "fetch_s": fetching, "encode_s": encoding, "hash_s": hashing, "sm3_s": sm3_s, "bytes": size})
