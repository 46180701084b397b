"""Choices of the filter and form selects every feature's pages share: the regions of the actor's subtree, the tiers."""

from __future__ import annotations

import sqlalchemy as sa
from wtforms import SelectChoice

from registry.domain.actors import Actor
from registry.domain.regions import region_prefix
from registry.platform.extensions import get_session, policies
from registry.regions.models import Region
from registry.web.pages.forms import choices

INDENT = {"province": "", "city": "　", "district": "　　"}


def region_choices(actor: Actor, *, blank: str | None = "全部地区", districts: bool = False) -> list[SelectChoice]:
    """Return the regions of the actor's subtree (nationwide filters: provinces and cities only)."""
    stmt = sa.select(Region.code, Region.name, Region.level).order_by(Region.code)
    if actor.region_code == "000000" and not districts:
        stmt = stmt.where(Region.level != "district")
    else:
        stmt = stmt.where(Region.code.startswith(region_prefix(actor.region_code)))
    rows = [(code, f"{INDENT.get(level, '')}{name}（{code}）") for code, name, level in get_session().execute(stmt)]
    return choices(([("", blank)] if blank is not None else []) + rows)


def programme_choices() -> list[tuple[str, str]]:
    """Return every programme code with the name of its latest policy, in the order of the tiers."""
    latest = {p.programme: p.name for p in policies().policies}
    order = list(dict.fromkeys(t.programme for t in policies().current_tiers()))
    return [(code, latest[code]) for code in order if code in latest]


def tier_choices() -> list[tuple[str, str]]:
    """Return every tier code with its name, by programme and rank."""
    return [(t.code, t.name) for t in policies().current_tiers()]
