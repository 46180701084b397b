"""Reference data shipped with the product: the GB/T 2260 region tree (data/regions.csv)."""

from __future__ import annotations

import csv
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.models import Region

REGIONS_CSV = Path(__file__).resolve().parent / "data" / "regions.csv"


def read_regions(path: Path = REGIONS_CSV) -> list[dict[str, str | None]]:
    """Read the shipped region tree, parents before children."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [{"code": r["code"], "name": r["name"], "parent_code": r["parent_code"] or None,
                 "level": r["level"]} for r in csv.DictReader(fh)]
    order = {"province": 0, "city": 1, "district": 2}
    return sorted(rows, key=lambda r: (order[r["level"]], r["code"]))


def sync_regions(session: Session, path: Path = REGIONS_CSV) -> int:
    """Insert or update regions from the CSV (idempotent); return how many rows changed."""
    existing = {r.code: r for r in session.scalars(sa.select(Region))}
    changed = 0
    for row in read_regions(path):
        region = existing.get(row["code"])
        if region is None:
            session.add(Region(**row))
            changed += 1
        elif (region.name, region.parent_code, region.level) != (row["name"], row["parent_code"], row["level"]):
            region.name, region.parent_code, region.level = row["name"], row["parent_code"], row["level"]
            changed += 1
        if changed and changed % 500 == 0:
            session.flush()
    session.flush()
    return changed


def region_names(session: Session) -> dict[str, str]:
    """Map every region code to its name."""
    return dict(session.execute(sa.select(Region.code, Region.name)).all())
