"""Resolving what officers write for a region (a code or a name) and a tier (a code or its Chinese name)."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from registry.domain.policy import PolicySet
from registry.regions.models import Region, RegionCodeChange
from registry.roster.imports.values import CellError, text

_QUOTES = re.compile(r"[\"'“”‘’「」『』\s]")


#: GB/T 2260 grouping rows, not places: 北京市市辖区东城区 is written 北京市东城区
GROUPING_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


class Regions:
    """The GB/T 2260 tree, answering a 6-digit code or a name that matches exactly one division.

    A name may be written from any level down: 玄武区, 南京市玄武区, 江苏省南京市玄武区 (grouping rows
    such as 市辖区 are skipped). A code that was changed (region_code_changes) answers its successor.
    """

    def __init__(self, session: Session) -> None:
        rows = session.execute(sa.select(Region.code, Region.name, Region.parent_code)).all()
        self.names = {code: name for code, name, _ in rows}
        parents = {code: parent for code, _, parent in rows}
        self.full = {code: "".join(self._path(code, parents)) for code in self.names}
        self.by_name: dict[str, set[str]] = defaultdict(set)
        for code, _name, _ in rows:
            path = self._path(code, parents)
            for start in range(len(path)):  # 椒江区, 台州市椒江区, 浙江省台州市椒江区
                self.by_name["".join(path[start:])].add(code)
        self.by_name = dict(self.by_name)
        moves: dict[str, set[str]] = defaultdict(set)
        for old, new in session.execute(sa.select(RegionCodeChange.old_code, RegionCodeChange.new_code)):
            moves[old].add(new)
        self.moves = {old: next(iter(new)) for old, new in moves.items() if len(new) == 1}

    def _path(self, code: str, parents: dict[str, str | None]) -> list[str]:
        path: list[str] = []
        current: str | None = code
        while current is not None and current in self.names and len(path) < 4:
            if current == code or self.names[current] not in GROUPING_NAMES:
                path.insert(0, self.names[current])
            current = parents.get(current)
        return path

    def current(self, code: str) -> str:
        """Follow code changes from `code` to the code in force (itself when unchanged)."""
        seen = {code}
        while code in self.moves and self.moves[code] not in seen:
            code = self.moves[code]
            seen.add(code)
        return code

    def resolve(self, value: Any) -> str:
        """Return the region code a cell names. :raises CellError:"""
        written = "".join(text(value).split())
        if re.fullmatch(r"\d{6}", written):
            current = self.current(written)
            if current not in self.names:
                raise CellError(f"行政区划代码 {written} 不存在 / unknown region code")
            return current
        codes = self.by_name.get(written, set())
        if len(codes) == 1:
            return next(iter(codes))
        if not codes:
            raise CellError(f"无法识别的地区「{written}」（请填写6位行政区划代码或准确的地区名称）"
                            " / unknown region")
        listed = "、".join(f"{c} {self.full[c]}" for c in sorted(codes)[:12])
        more = f" 等{len(codes)}处" if len(codes) > 12 else ""
        raise CellError(f"地区名称「{written}」不唯一，对应多个行政区划：{listed}{more}；"
                        "请填写6位代码或带上级的名称（如「南京市鼓楼区」） / ambiguous region name, use the code")


def _fold(name: str) -> str:
    return _QUOTES.sub("", unicodedata.normalize("NFKC", name)).lower()


class Tiers:
    """Tier codes and names of the loaded policies, optionally limited to one programme."""

    def __init__(self, policies: PolicySet, programme: str | None = None) -> None:
        self.programme = programme
        self.by_key: dict[str, set[str]] = defaultdict(set)
        self.names: dict[str, str] = {}
        for policy in policies.policies:
            if programme is not None and policy.programme != programme:
                continue
            for tier in policy.tiers:
                self.by_key[_fold(tier.code)].add(tier.code)
                self.by_key[_fold(tier.name)].add(tier.code)
                self.names[tier.code] = tier.name

    def resolve(self, value: Any) -> str:
        """Return the tier code a cell names. :raises CellError:"""
        codes = self.by_key.get(_fold(text(value)), set())
        if len(codes) == 1:
            return next(iter(codes))
        if codes:
            raise CellError(f"称号「{value}」对应多个层级（{'、'.join(sorted(codes))}） / ambiguous tier")
        known = "、".join(self.names.values())
        scope = f"项目 {self.programme} 的" if self.programme else ""
        raise CellError(f"未知的称号「{value}」（{scope}可用：{known}） / unknown tier")
