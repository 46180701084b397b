"""Holders of titles (issue 17 §2, docs/holders.md): an enterprise, a product of an enterprise, or a zone.

One record kind carries every holder — the roster's enterprise record, with a `holder_kind`:
an enterprise, or a zone (a park or an administrative area: 中外中小企业合作区, 全国质量品牌提升示范区)
with its zone type and its managing body (管理机构); size class and industry are an enterprise's and
never a zone's. A product title (单项冠军产品) is held by an enterprise and carries its product: name,
sales (元) and share of 主营业务收入 (%). Pure: the services gather the facts, these functions decide,
every refusal names its field in Chinese.

The rules (sources in the policy files):
- a tier is granted only to its holder kind (`Tier.holder`): a zone tier to a zone, an enterprise
  or product tier to an enterprise;
- a product tier's title names its product (the downgrade carries the demonstration title's product
  when one is known); product figures belong to product titles only; sales ≥ 0, share 0–100 %;
- 择一申请 (2021 notice 一（二）): an enterprise holds at most one live product title per programme
  ("申请单项冠军产品的,只能申请一个产品"), and never a product title and a title of the same programme
  that downgrades to it (a 示范企业) at once — the policy files state the exclusion both ways
  (`excluded_if_holding`), `check_one_product` holds the first rule for every product tier.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from registry.domain.errors import RuleViolation
from registry.domain.policy import Tier

ENTERPRISE, PRODUCT, ZONE = "enterprise", "product", "zone"
#: what a record is (enterprises.holder_kind): a product is a title's holder, never a record
RECORD_KINDS = (ENTERPRISE, ZONE)
HOLDER_NAMES = {ENTERPRISE: "企业", PRODUCT: "产品", ZONE: "园区（区域）"}
RECORD_KIND_NAMES = {ENTERPRISE: "企业", ZONE: "园区（区域）"}
#: a zone's type: a park (产业园区、产业集聚区) or an administrative area (县、区、市的行政区域)
ZONE_TYPES = ("park", "area")
ZONE_TYPE_NAMES = {"park": "园区", "area": "行政区域"}
#: an enterprise's size under 工信部联企业〔2011〕300号, by its stored code (enterprises.models.SizeClass)
SIZE_CLASS_NAMES = {"medium": "中型", "small": "小型", "micro": "微型"}
PRODUCT_FIELDS = ("product_name", "product_sales", "product_share")
#: an enterprise's own fields that a zone never has
ENTERPRISE_ONLY = {"size_class": "企业规模", "industry_code": "行业代码"}
ZONE_ONLY = {"zone_type": "区域类型", "managing_body": "管理机构"}


def check_record(kind: str, values: dict[str, object]) -> None:
    """Refuse a record whose fields do not fit its kind. :raises RuleViolation: every problem by field.

    A zone needs its zone type and its managing body and has no size class or industry; an
    enterprise has neither a zone type nor a managing body.
    """
    errors: dict[str, list[str]] = {}
    if kind not in RECORD_KINDS:
        raise RuleViolation.on("holder_kind", f"登记类型应为 企业 或 园区（区域），实为「{kind}」 / holder_kind must be "
                                              "enterprise or zone")
    if kind == ZONE:
        for name, label in ZONE_ONLY.items():
            if not str(values.get(name) or "").strip():
                errors.setdefault(name, []).append(f"园区（区域）须填写{label} / a zone needs its {name}")
        for name, label in ENTERPRISE_ONLY.items():
            if values.get(name) not in (None, ""):
                errors.setdefault(name, []).append(f"园区（区域）不填写{label}（{label}只适用于企业） / "
                                                   f"a zone has no {name}")
    else:
        for name, label in ZONE_ONLY.items():
            if values.get(name) not in (None, ""):
                errors.setdefault(name, []).append(f"企业不填写{label}（{label}只适用于园区、区域） / "
                                                   f"an enterprise has no {name}")
    zone_type = values.get("zone_type")
    if zone_type not in (None, "") and zone_type not in ZONE_TYPES:
        errors.setdefault("zone_type", []).append(f"区域类型应为 园区 或 行政区域，实为「{zone_type}」 / "
                                                  "zone_type must be park or area")
    if errors:
        raise RuleViolation(errors)


@dataclass(frozen=True)
class Product:
    """What a product title carries: the product's name, its sales (元) and its share of 主营 (%)."""

    name: str | None = None
    sales: Decimal | None = None
    share: Decimal | None = None

    @property
    def given(self) -> bool:
        """Tell whether any of the product's facts is given."""
        return bool((self.name or "").strip()) or self.sales is not None or self.share is not None


def check_holder(tier: Tier, record_kind: str, record_name: str = "") -> None:
    """Refuse granting `tier` to a record of kind `record_kind`. :raises RuleViolation: on `tier`."""
    wanted = ZONE if tier.holder == ZONE else ENTERPRISE
    if record_kind != wanted:
        who = f"「{record_name}」" if record_name else "该记录"
        raise RuleViolation.on("tier", f"{tier.name}只授予{RECORD_KIND_NAMES[wanted]}，{who}是"
                                       f"{RECORD_KIND_NAMES.get(record_kind, record_kind)}"
                                       f" / {tier.code} is held by a {wanted}, not a {record_kind}")


def check_product(tier: Tier, product: Product, *, required: bool = True) -> None:
    """Refuse product facts that do not fit `tier`. :raises RuleViolation: every problem by field.

    A product tier's title names its product (unless not `required`: a downgrade whose product is
    not on record); other tiers carry no product; sales are not negative; the share lies in 0–100 %.
    """
    errors: dict[str, list[str]] = {}
    if tier.holder != PRODUCT:
        for name, value in zip(PRODUCT_FIELDS, (product.name, product.sales, product.share), strict=True):
            if value not in (None, ""):
                errors.setdefault(name, []).append(f"{tier.name}不是产品称号，不填写产品信息 / {tier.code} "
                                                   "carries no product")
    elif required and not (product.name or "").strip():
        errors.setdefault("product_name", []).append(f"{tier.name}须填写产品名称（只能申请一个产品） / "
                                                     "a product title needs the product's name")
    if product.sales is not None and product.sales < 0:
        errors.setdefault("product_sales", []).append(f"产品销售收入不能为负数（{product.sales}） / negative")
    if product.share is not None and not Decimal(0) <= product.share <= Decimal(100):
        errors.setdefault("product_share", []).append(f"产品销售收入占主营业务收入比重应在 0–100% 之间（填写为 "
                                                      f"{product.share}%） / share outside 0–100")
    if errors:
        raise RuleViolation(errors)


@dataclass(frozen=True)
class HeldTitle:
    """A live title of the record, as the product rule reads it."""

    tier: str
    programme: str
    holder: str
    valid_from: date
    ended_on: date | None = None
    product_name: str | None = None


def check_one_product(tier: Tier, on: date, held: Iterable[HeldTitle], names: dict[str, str]) -> None:
    """Refuse a second product title of one programme for one enterprise (只能申请一个产品). :raises RuleViolation:

    A title held on `on` counts: one that ended on or before `on` (a downgrade's product replaces it) does not.
    """
    if tier.holder != PRODUCT:
        return
    for title in held:
        if title.holder == PRODUCT and title.programme == tier.programme \
                and (title.ended_on is None or title.ended_on > on):
            what = f"（{title.product_name}）" if title.product_name else ""
            raise RuleViolation.on("tier", f"该企业已持有{names.get(title.tier, title.tier)}{what}：每家企业只能申请一个"
                                           "产品，不再认定另一产品 / one product title per enterprise")
