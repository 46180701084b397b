"""The field catalogue of enterprises, annual reports and change reports (registry/platform/catalogue.py).

Each field is declared here once; the page forms, the API schemas, the import columns, the export
headers and the audit labels are built from it. Where the surfaces used to disagree (issue 15), the
declaration settles it:

- 统一社会信用代码: at most 40 characters as typed (the API's bound; the form said 30) — the
  services then check the 18-character code and its check digit.
- 数据年度: 1990 … 2100 (the API's range; the form said 2000, the import 1949); a year later than
  this year is refused by the services and the import.
- Labels: 联系邮箱 (not 联系人邮箱), 所在地区 (not 所属地区 or 地区代码), 服务专员 (not 责任人员),
  变化情况 (not 变化详情), 数据年度 (not 年度), 主导产品名称 (not 主导产品); counts show their unit
  (从业人员（人）, not 从业人员数).
- Staff counts at most 10 000 000 and patents at most 1 000 000 (the API's plausibility bounds;
  the form and the import only stopped at the INTEGER limit).
"""

from __future__ import annotations

from decimal import Decimal

from registry.enterprises.models import CHANGE_KIND_NAMES, HOLDER_KIND_NAMES, SIZE_NAMES, ZONE_TYPE_NAMES
from registry.platform.catalogue import Catalogue, Field

MIN_YEAR, MAX_YEAR = 1990, 2100
PEOPLE = 10_000_000  #: staff of one enterprise: far above any SME, far below INTEGER
PATENTS = 1_000_000
PERCENT = (Decimal(0), Decimal(1000))  #: 资产负债率 above 100 % happens (insolvent), above 1000 % is a typo

ENTERPRISE = Catalogue(
    "enterprise",
    Field("name", "企业名称", "text", required=True, max_length=200, aliases=("名称", "企业全称")),
    Field("uscc", "统一社会信用代码", "uscc", required=True, max_length=40, aliases=("社会信用代码", "信用代码")),
    Field("region_code", "所在地区", "region", required=True, aliases=("地区代码", "行政区划代码", "地区")),
    Field("industry_code", "行业代码", "industry", max_length=8, hint="GB/T 4754", aliases=("所属行业代码",)),
    Field("size_class", "企业规模", "choice", choices=tuple((k.value, v) for k, v in SIZE_NAMES.items()),
          aliases=("规模",)),
    Field("founded_on", "成立日期", "date", aliases=("成立时间",)),
    Field("contact_name", "联系人", "text", max_length=64),
    Field("contact_email", "联系邮箱", "email", max_length=254, aliases=("联系人邮箱", "电子邮箱", "邮箱", "email")),
    Field("contact_phone", "联系电话", "text", max_length=32, aliases=("电话", "phone")),
    Field("officer_id", "服务专员", "user"),
    # issue 17 (docs/holders.md): a record is an enterprise or a zone (园区或行政区域: 合作区, 示范区); a zone's
    # USCC is its managing body's, its contact the managing body's, and it has no size or industry
    Field("holder_kind", "登记类型", "choice", choices=tuple(HOLDER_KIND_NAMES.items()),
          hint="不填为企业", aliases=("主体类型", "持有者类型")),
    Field("zone_type", "区域类型", "choice", choices=tuple(ZONE_TYPE_NAMES.items()), hint="园区（区域）填写",
          aliases=("园区类型",)),
    Field("managing_body", "管理机构", "text", max_length=200, hint="园区（区域）填写",
          aliases=("运营管理机构", "园区管理机构", "创建主体")),
)

ANNUAL_REPORT = Catalogue(
    "annual_report",
    Field("year", "数据年度", "year", required=True, min_value=MIN_YEAR, max_value=MAX_YEAR, aliases=("年度", "年份")),
    Field("submitted_on", "填报日期", "date", required=True, aliases=("提交日期",)),
    Field("revenue", "营业收入", "money", unit="元"),
    Field("main_business_revenue", "主营业务收入", "money", unit="元"),
    Field("rd_expense", "研发费用", "money", unit="元"),
    Field("employees", "从业人员", "count", min_value=0, max_value=PEOPLE, unit="人", aliases=("从业人数", "员工人数")),
    Field("rd_staff", "研发人员", "count", min_value=0, max_value=PEOPLE, unit="人", aliases=("研发人数",)),
    Field("debt_ratio", "资产负债率", "percent", min_value=PERCENT[0], max_value=PERCENT[1], unit="%"),
    Field("invention_patents", "发明专利", "count", min_value=0, max_value=PATENTS, unit="件", aliases=("发明专利数",)),
    Field("audit_report_code", "审计报告验证码", "text", max_length=64, aliases=("验证码",)),
    Field("audit_firm", "会计师事务所", "text", max_length=200),
    Field("main_product", "主导产品名称", "text", max_length=200, aliases=("主导产品", "主要产品")),
    Field("main_product_revenue", "主导产品销售收入", "money", unit="元", aliases=("主要产品销售收入", "主导产品销售额")),
)

CHANGE_REPORT = Catalogue(
    "change_report",
    Field("kind", "变化类型", "choice", required=True, choices=tuple((k.value, v) for k, v in CHANGE_KIND_NAMES.items())),
    Field("occurred_on", "发生日期", "date", required=True),
    Field("reported_on", "报告日期", "date", hint="未报告则留空"),
    Field("details", "变化情况", "long_text", max_length=4000),
)
