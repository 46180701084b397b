"""Who signed an objection (异议): a real name is a person's name plus a way to reach them.

An objection is real-name (实名) only when it names a person (or, sealed, an organisation) and
gives a phone number or an address where the office can reach them. A signature that names
nobody — 匿名, 群众, 知情人士, 一名员工, 王某某, one character, digits or symbols only — is not a
name; an objection so signed, or with no reachable contact, is anonymous.

The rule for what is not a name (`not_a_name`), applied after NFKC normalisation (full-width
letters and digits become half-width) and with spaces removed:

1. nothing left → 未署名;
2. no Chinese character and no Latin letter (digits, symbols, ×, *) → 只有数字或符号;
3. a single Chinese character or Latin letter → 只有一个字;
4. a placeholder: 某 anywhere (王某, 李某某, 某公司), XX/×× in place of characters, or a word that
   describes instead of names (匿名, 无名, 佚名, 知情, 群众, 网友, 市民, 村民, 热心, 员工, 职工,
   一名, 一位, 举报人, 投诉人, 不愿透露, 保密, 路人, 老百姓, 消费者, 内部人士 …; in Latin script
   anonymous, unknown, none, n/a, test) → 不是姓名;
5. a real name longer than 40 characters → 不像姓名 (a seal's organisation name may be longer).

A contact is reachable (`reachable`) when it holds a mainland mobile number (11 digits from 1[3-9]),
a landline with its area code (0 + 9–12 digits, an extension allowed), or an address: at least
six characters with a Chinese place word (省, 市, 区, 县, 镇, 乡, 街, 路, 道, 号, 村, 室, 楼 …).
An e-mail address alone is not enough (issue 18: phone or address).

How an anonymous objection is handled (`ANONYMOUS_RULE`): the seeds hold no notice that says
so; seed 000 (第二十二條) asks "任何單位或個人" objecting for "詳實的書面舉證材料", i.e. a unit or a
person who stands behind it. The registry therefore records an anonymous objection as such and
does not accept it (不予受理): it does not hold up the batch and needs no resolution; the office
may still look into its facts by its own means. This is marked assumed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from registry.domain.policy import Provenance

REAL_NAME, SEAL, ANONYMOUS = "real_name", "seal", "anonymous"
MAX_PERSONAL_NAME = 40

#: what happens to an anonymous objection, and where that comes from
ANONYMOUS_RULE = Provenance(
    source="seed 000 第二十二條（示范园区评估验收结果公示）",
    quote="任何單位或個人對公示名單有不同意見的,可向市場監管總局提出異議,并提供詳實的書面舉證材料。",
    assumed=True,
    note="种子文件没有关于匿名异议的条文；按“单位或个人”提出并提供书面举证材料的要求，本系统将无法联系到的"
         "匿名异议登记为“匿名，不予受理”，不阻止批次办结，也无需处理意见。",
)

_PLACEHOLDER_WORDS = (
    "匿名", "无名", "無名", "佚名", "知情", "群众", "群眾", "网友", "網友", "市民", "村民", "居民", "热心", "熱心",
    "员工", "員工", "职工", "職工", "一名", "一位", "一个", "一個", "举报人", "舉報人", "投诉人", "投訴人",
    "反映人", "不愿透露", "不願透露", "保密", "路人", "老百姓", "消费者", "消費者", "内部人士", "內部人士", "知名不具",
    "本人", "某",
)
_PLACEHOLDER_LATIN = frozenset({"anonymous", "anon", "unknown", "none", "null", "na", "n/a", "test", "nobody",
                                "xx", "xxx", "xxxx"})
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ebef]")
_LATIN = re.compile(r"[A-Za-z]")
_MASKED = re.compile(r"(?:[xX×＊*]{2,})|(?:^[xX×＊*]$)|(?:(?<=[\u4e00-\u9fff])[xX×＊*]+)")
_SPACES = re.compile(r"\s+")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0[1-9]\d{8,10}")
_PLACE_WORDS = re.compile(r"[省市区區县縣镇鎮乡鄉街路道号號村室楼樓栋棟弄巷组組]")


@dataclass(frozen=True)
class Signature:
    """How an objection counts: real_name, seal or anonymous, and why when anonymous."""

    identity: str
    why: str = ""

    @property
    def anonymous(self) -> bool:
        """Whether nobody can be reached behind the objection."""
        return self.identity == ANONYMOUS


def _clean(text: str | None) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text or ""))


def not_a_name(text: str | None, *, organisation: bool = False) -> str | None:
    """Return why `text` does not name a person (or, `organisation`, a body), or None when it does."""
    name = _clean(text)
    if not name:
        return "未署名"
    if not (_CJK.search(name) or _LATIN.search(name)):
        return "只有数字或符号，不是姓名"
    letters = _CJK.findall(name) + _LATIN.findall(name)
    if len(letters) < 2:
        return "只有一个字，不是姓名"
    if _MASKED.search(name):
        return "以叉号或星号代替姓名，不是姓名"
    for word in _PLACEHOLDER_WORDS:
        if word in name:
            return f"“{word}”不是姓名"
    if re.sub(r"[^a-z/]", "", name.lower()) in _PLACEHOLDER_LATIN:
        return "不是姓名"
    if not organisation and len(name) > MAX_PERSONAL_NAME:
        return f"超过 {MAX_PERSONAL_NAME} 个字，不像姓名"
    return None


def reachable(contact: str | None) -> bool:
    """Tell whether `contact` holds a phone number or an address where the objector can be reached."""
    text = _clean(contact)
    groups = re.findall(r"\d+", text)
    if groups and groups[0] == "86" and len(groups) > 1:  # +86 written apart
        groups = groups[1:]
    whole = "".join(groups)
    for number in (whole[2:] if whole.startswith("86") else whole, *groups):
        if _MOBILE.fullmatch(number) or _LANDLINE.fullmatch(number):
            return True
    for area, number in zip(groups, groups[1:], strict=False):  # 0576-88888888(-123)
        if area.startswith("0") and 3 <= len(area) <= 4 and 7 <= len(number) <= 8:
            return True
    return len(_CJK.findall(text)) >= 6 and bool(_PLACE_WORDS.search(text))


def classify(name: str | None, identity: str | None, contact: str | None) -> Signature:
    """Return how an objection signed `name` with `contact` counts; `identity` is what the submitter
    claimed (real_name, seal or anonymous). :raises ValueError: for another claim."""
    if identity not in (REAL_NAME, SEAL, ANONYMOUS):
        raise ValueError(identity)
    if identity == ANONYMOUS:
        return Signature(ANONYMOUS, "提出人未署名")
    why = not_a_name(name, organisation=identity == SEAL)
    if why:
        return Signature(ANONYMOUS, f"署名{why}")
    if not reachable(contact):
        return Signature(ANONYMOUS, "未留可以联系到提出人的电话或地址")
    return Signature(identity)
