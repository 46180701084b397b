"""Shared pieces of the pipeline services: review levels, visibility of pools and batches, input checks."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from registry.domain.actors import Actor, in_scope
from registry.domain.errors import NotFound, RuleViolation
from registry.domain.policy import Tier
from registry.domain.regions import contains, level
from registry.pipeline.models import Batch, Pool
from registry.policies.rules import Rules

NATIONWIDE = "000000"
LEVEL_NAMES = {"district": "区县级", "city": "市级", "province": "省级", "ministry": "部级"}
LEVEL_ORDER = ("district", "city", "province", "ministry")


def acting_level(region_code: str) -> str:
    """Return the review level an office acts at: its region's level, or ministry for 000000."""
    return "ministry" if region_code == NATIONWIDE else level(region_code)


def office_code(region_code: str, level: str) -> str:
    """Return the office that acts at `level` for an enterprise in `region_code` (the inverse of acting_level)."""
    if level == "ministry":
        return NATIONWIDE
    keep = {"province": 2, "city": 4}.get(level, 6)
    return region_code[:keep].ljust(6, "0")


def chain_for(tier: Tier, region_code: str) -> tuple[str, ...]:
    """Return the tier's review chain for an enterprise in `region_code`.

    An enterprise registered directly under a city (or a province) has no district (or city)
    office below it, so those levels are skipped rather than left waiting forever.
    """
    chain = tier.review_chain or (tier.authority,)
    lowest = LEVEL_ORDER.index(level(region_code))
    return tuple(step for step in chain if LEVEL_ORDER.index(step) >= lowest) or chain[-1:]


def overlaps(actor: Actor, region_code: str) -> bool:
    """Tell whether an office-wide record (pool, batch) concerns the actor's region at all."""
    return (region_code == NATIONWIDE or in_scope(actor, region_code)
            or contains(region_code, actor.region_code))


def get_batch(session: Session, actor: Actor, batch_id: int) -> Batch:
    """Load a batch that concerns the actor's region. :raises NotFound:"""
    batch = session.get(Batch, batch_id)
    if batch is None or not overlaps(actor, batch.region_code):
        raise NotFound("批次不存在 / batch not found")
    return batch


def get_pool(session: Session, actor: Actor, pool_id: int) -> Pool:
    """Load a pool that concerns the actor's region. :raises NotFound:"""
    pool = session.get(Pool, pool_id)
    if pool is None or not overlaps(actor, pool.region_code):
        raise NotFound("培育库不存在 / pool not found")
    return pool


def tier_rule(rules: Rules, code: str, on: date) -> Tier:
    """Return the tier in force on `on`. :raises RuleViolation: unknown tier (field tier)."""
    try:
        return rules.policies.tier(code, on)
    except NotFound:
        raise RuleViolation.on("tier", f"未知或在 {on} 尚未施行的称号层级：{code} / unknown tier") from None


def required_text(field: str, value: str | None, what: str) -> str:
    """Return `value` stripped; refuse it when blank. :raises RuleViolation: naming `field`."""
    text = (value or "").strip()
    if not text:
        raise RuleViolation.on(field, f"请填写{what} / {field} is required")
    return text
