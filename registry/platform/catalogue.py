"""The vocabulary of the field catalogues (issue 15 §2: one statement per fact).

Each feature declares its fields once, in its own ``fields.py`` (registry/enterprises/fields.py,
registry/titles/fields.py): the Chinese label, the kind, the bounds, the choices with their Chinese
names, whether it is required, the unit, and the other headers an imported file may use. The page
forms (registry/web/pages/forms.py `form_field`), the API schemas (registry/web/api/schemas.py
`api_field`), the import columns (registry/roster/imports/columns.py), the export headers
(registry/roster/export.py) and the audit labels (registry/audit/queries.py `field_name`) are built
from these declarations, so they cannot disagree: changing a label or a maximum length is one edit.

Kinds (what each builder makes of them):

    text       one line of text (max_length)            long_text  several lines (max_length)
    uscc       统一社会信用代码 (checked by the services)  email      an e-mail address (max_length)
    date       a calendar day                            year       a calendar year (min_value … max_value)
    money      an amount in 元, not negative             count      a whole number (min_value … max_value)
    percent    a percentage (min_value … max_value)      choice     one of `choices` (value, Chinese name)
    region     a region code (the view lists the regions)
    tier       a tier code (the view lists the tiers in force)
    industry   a GB/T 4754 industry code (max_length)
    pick       a code picked from a list the view fills (revocation reasons)
    user       a user's id (the view lists the officers)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

KINDS = frozenset({"text", "long_text", "uscc", "email", "date", "year", "money", "count", "percent", "choice",
                   "region", "tier", "industry", "pick", "user"})
Number = int | Decimal


@dataclass(frozen=True)
class Field:
    """One field as every surface shows and bounds it."""

    name: str  #: the attribute, column and JSON key
    label: str  #: what a person reads: form label, API title, import/export header, audit label
    kind: str
    required: bool = False
    max_length: int | None = None
    min_value: Number | None = None
    max_value: Number | None = None
    choices: tuple[tuple[str, str], ...] = ()  #: (value, Chinese name)
    unit: str = ""  #: 元, 人, 件, %: shown after the label — 营业收入（元）
    hint: str = ""  #: a short help the form shows after its label and the API as the description
    aliases: tuple[str, ...] = field(default=())  #: further headers an imported file may use

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind!r} for {self.name}")

    @property
    def title(self) -> str:
        """The label with its unit: 营业收入（元）; the export header and the audit label."""
        return f"{self.label}（{self.unit}）" if self.unit else self.label

    @property
    def form_label(self) -> str:
        """The title with its hint: 行业代码（GB/T 4754）."""
        return f"{self.title}（{self.hint}）" if self.hint else self.title

    def choice_name(self, value: object, default: str | None = None) -> str | None:
        """Return the Chinese name of a choice (`default` when it is not one)."""
        return next((name for code, name in self.choices if code == value), default)


class Catalogue:
    """The fields of one kind of record (its audit entity type), in the order the forms show them.

    The fields live in a plain dict, so a test can swap one (monkeypatch.setitem) and rebuild.
    """

    def __init__(self, entity: str, *fields: Field) -> None:
        self.entity = entity
        self.fields: dict[str, Field] = {f.name: f for f in fields}

    def __getitem__(self, name: str) -> Field:
        return self.fields[name]

    def __contains__(self, name: object) -> bool:
        return name in self.fields

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields.values())

    def get(self, name: str) -> Field | None:
        """Return the field called `name`, if the catalogue has one."""
        return self.fields.get(name)
