"""An office loads its real roster: titles recognised before the current texts import under the
version in force on their recognition date (issue 14). On SQLite and PostgreSQL."""

from datetime import date

import sqlalchemy as sa

from registry.titles.models import Certification
from tests.factories import make_uscc
from tests.roster.files import xlsx
from tests.roster.test_apply import FULL, full_row


def test_a_roster_of_titles_since_each_programme_began_imports(session, do_import):
    rows = [
        full_row(make_uscc("331002", 710_001), 企业名称="台州甲有限公司", 称号="专精特新\"小巨人\"企业",
                 认定日期=date(2019, 6, 1), 批次="第一批", 认定机关="工业和信息化部"),
        full_row(make_uscc("331002", 710_002), 企业名称="台州乙有限公司", 称号="制造业单项冠军示范企业",
                 认定日期=date(2016, 11, 1), 批次="第一批", 认定机关="工业和信息化部"),
        full_row(make_uscc("331002", 710_003), 企业名称="台州丙有限公司", 称号="专精特新中小企业",
                 认定日期=date(2021, 5, 1), 批次="2021年", 认定机关="浙江省经济和信息化厅"),
    ]
    run = do_import(xlsx(rows, FULL))
    assert run.status == "applied", run.errors
    found = {c.tier: (c.policy_code, c.valid_until) for c in session.scalars(sa.select(Certification))}
    assert found == {"little_giant": ("national-2018", date(2022, 6, 1)),
                     "single_champion": ("single-champion-2016", date(2019, 11, 1)),
                     "specialized_sme": ("national-2018", date(2024, 5, 1))}


def test_a_title_before_its_programme_began_is_still_refused(session, do_import):
    rows = [full_row(make_uscc("331002", 710_011), 称号="创新型中小企业", 认定日期=date(2022, 7, 31))]
    run = do_import(xlsx(rows, FULL))
    assert run.status != "applied" and "尚未施行" in str(run.errors)
