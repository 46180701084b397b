"""Leaving a list (issue 17): a pool member leaves by the yearly adjustment (撤回 with its reason, no
ban) or when the next list supersedes it; a yearly list ends on 31 December; a 重点小巨人 needs a
valid 小巨人 on the day it is listed."""

import pytest
import sqlalchemy as sa

from registry.domain.errors import RuleViolation
from registry.domain.lifecycle import Event, Status
from registry.titles.models import Ban
from registry.titles.services import EventInput, apply_event
from tests.conftest import NOW, d
from tests.factories import grant, make_enterprise


def test_a_pool_member_leaves_by_the_yearly_adjustment_without_a_ban(session, admin, rules):
    """234号 四（四）: "对不符合隐形冠军培育条件的企业,不再纳入培育库管理" — not a revocation."""
    member = make_enterprise(session, admin, region_code="331002")
    listed = grant(session, admin, rules, member, "zj_hidden_champion_pool", d("2026-06-01"))
    assert (listed.status, listed.valid_until) == (Status.ACTIVE, None)  # in the pool until taken out
    apply_event(session, actor=admin, rules=rules, certification_id=listed.id, at=NOW, today=d("2027-04-15"),
                event=EventInput(Event.WITHDRAW, d("2027-04-15"), note="行业协会动态调整意见：不再纳入培育库管理"))
    assert listed.status == Status.WITHDRAWN
    assert session.scalar(sa.select(sa.func.count()).select_from(Ban).where(Ban.uscc == member.uscc)) == 0
    again = grant(session, admin, rules, member, "zj_hidden_champion_pool", d("2028-06-01"))  # may enter again
    assert again.status == Status.ACTIVE


def test_a_yearly_list_ends_on_31_december(session, admin, rules):
    """80号: "按年度甄選" — the 2027 selection stands to the end of 2027 (also in a leap year)."""
    leader = make_enterprise(session, admin, region_code="500103")
    assert grant(session, admin, rules, leader, "cq_leading", d("2027-03-01")).valid_until == d("2027-12-31")
    other = make_enterprise(session, admin, region_code="500103")
    assert grant(session, admin, rules, other, "cq_chain_leader", d("2028-02-29")).valid_until == d("2028-12-31")


def test_a_key_little_giant_must_hold_a_valid_little_giant(session, admin, rules):
    """112号 二（一）1: "属于工业和信息化部认定的专精特新“小巨人”企业"."""
    firm = make_enterprise(session, admin, region_code="331002")
    with pytest.raises(RuleViolation, match="little_giant|小巨人"):
        grant(session, admin, rules, firm, "key_little_giant", d("2026-06-13"))
