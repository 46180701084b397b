"""The field catalogue of titles: granting one and recording an event on it (registry/platform/catalogue.py).

The page forms, the API schemas, the import columns, the export headers and the audit labels are
built from these declarations. Settled here (issue 15): an event's note holds at most 4000
characters (the API's bound; the form said 2000); a title's 文号 is 认定文号 everywhere, an
event's is 依据文号; the tier is 称号层级 (the export said 称号).
"""

from __future__ import annotations

from registry.platform.catalogue import Catalogue, Field

CERTIFICATION = Catalogue(
    "certification",
    Field("tier", "称号层级", "tier", required=True, max_length=32,
          aliases=("称号", "层级", "称号/层级", "梯度层级")),
    Field("recognized_on", "认定日期", "date", required=True, aliases=("认定时间",)),
    Field("batch", "批次", "text", max_length=64),
    Field("document_no", "认定文号", "text", max_length=128, aliases=("文号", "公告文号")),
    Field("authority", "认定机关", "text", max_length=128, aliases=("认定单位",)),
    # a product title (单项冠军产品, docs/holders.md): the product, its sales and its share of 主营业务收入
    Field("product_name", "产品名称", "text", max_length=200, hint="产品称号填写", aliases=("冠军产品", "申请产品")),
    Field("product_sales", "产品销售收入", "money", unit="元", aliases=("冠军产品销售收入",)),
    Field("product_share", "产品销售收入占主营业务收入比重", "percent", min_value=0, max_value=100, unit="%",
          aliases=("产品占主营业务收入比重", "产品占比")),
)

CERTIFICATION_EVENT = Catalogue(
    "certification_event",
    Field("effective_on", "生效日期", "date", required=True),
    Field("reason_code", "撤销原因", "pick", max_length=64),
    Field("incident_on", "事故（违法行为）发生日期", "date", hint="因事故撤销时填写"),
    Field("document_no", "依据文号", "text", max_length=128),
    Field("note", "备注", "long_text", max_length=4000),
)

#: a filing of a periodic report a title's tier declares (`[[tiers.reports]]`, docs/programmes.md)
REPORT_FILING = Catalogue(
    "report_filing",
    Field("report_code", "报告", "pick", required=True, max_length=64),
    Field("period", "报告期", "text", max_length=8, hint="按年填 2027，按季度填 2027Q1，入选后一次的留空"),
    Field("filed_on", "报送日期", "date", required=True),
    Field("note", "备注", "long_text", max_length=4000),
)
