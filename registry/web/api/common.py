"""Helpers shared by the API views: today, dumping titles and enterprises."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from typing import Any

import sqlalchemy as sa
from flask import request
from marshmallow import Schema, fields
from sqlalchemy.orm import object_session

from registry.domain.personal import CONTACT_FIELDS
from registry.enterprises.models import Enterprise
from registry.enterprises.queries import RosterFilter
from registry.platform.extensions import policies
from registry.privacy import unmask
from registry.regions.models import Region
from registry.regions.reference import successor
from registry.titles.models import Certification
from registry.web.api.schemas import CertificationOut, EnterpriseOut, ListArgs, today_flag
from registry.web.clock import today


def list_args() -> tuple[RosterFilter, int, int]:
    """Parse the list query string. :raises ValidationError:"""
    return _list_args(tuple(request.args.to_dict().items()))


@lru_cache(maxsize=256)
def _list_args(items: tuple[tuple[str, str], ...]) -> tuple[RosterFilter, int, int]:
    """The parse of a query string's values, kept for its next request (a filter's pages, a client polling):
    the schema's load, ~230 Python calls, was a tenth of a roster page's (bench/RESULTS.md, pagefloor). It
    depends on the values only and its result is immutable; a refused query string is not kept (its error
    is raised anew, each time)."""
    args = schema(ListArgs).load(dict(items))
    page, per_page = args.pop("page"), args.pop("per_page")
    args.pop("unmask")  # read by registry.privacy.unmask where a view may unmask
    return RosterFilter(**args), page, per_page


@cache
def schema(cls: type[Schema], exclude: tuple[str, ...] = ()) -> Schema:
    """One shared instance per output schema and exclusion: building one deep-copies every field.

    Measured by bench/roster.py: a new EnterpriseOut per row cost ~0.5 ms, most of a roster page.
    """
    return cls(exclude=exclude)


@cache
def row_dumper(cls: type[Schema], exclude: tuple[str, ...] = ()) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A function dumping a mapping (a result row's `._mapping`) to what `schema(cls, exclude).dump` returns for it.

    Each value goes through its own field's serializer, or what that serializer amounts to for it (`_shortcut`),
    so the JSON is the schema's, field for field (tests hold the two equal); what is skipped is the dump's
    per-field machinery (attribute lookup, hooks, error collection), most of a roster page's Python time
    (bench/RESULTS.md, issue 19). For flat schemas only: the fields the rows carry, none nested and no `data_key`.
    """
    made = schema(cls, exclude)
    if any(field.data_key is not None for field in made.dump_fields.values()):
        raise ValueError(f"row_dumper: {cls.__name__} renames a field (data_key); dump it with the schema")
    plan = [(name, field._serialize, *_shortcut(field)) for name, field in made.dump_fields.items()]  # noqa: SLF001

    def dump(row: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for name, serialize, same, direct in plan:
            value = row[name]
            if value is None:
                out[name] = None if same or direct else serialize(value, name, row)
            elif value.__class__ is same:
                out[name] = value
            else:
                out[name] = direct(value) if direct else serialize(value, name, row)
        return out
    return dump


#: the marshmallow fields whose serializer returns None for None and a value of this very class as it is
_UNCHANGED: dict[type, type] = {fields.String: str, fields.Integer: int}


def _shortcut(field: fields.Field) -> tuple[type | None, Callable[[Any], Any] | None]:
    """What a field's serializer amounts to, so a listed row's value skips the call (most of the row's Python
    calls; bench/RESULTS.md, pagefast): (the class whose values it returns unchanged — a plain String or Integer —,
    or the formatting function of a date or time field whose serializer only applies it, e.g. datetime.isoformat);
    each returns None for None. (None, None): call the serializer."""
    if type(field) in _UNCHANGED and not getattr(field, "as_string", False):
        return _UNCHANGED[type(field)], None
    if type(field)._serialize is fields.DateTime._serialize:  # noqa: SLF001  dates, times and datetimes
        return None, field.SERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
    return None, None


#: the roster list's enterprise fields (EnterpriseOut less the detail, the warnings and the contacts)
LIST_EXCLUDE = ("annual_reports", "change_reports", "certifications", "warnings", *CONTACT_FIELDS)


def list_columns(unmasked: bool) -> tuple[sa.ColumnElement[Any], ...]:
    """The Enterprise columns a roster list row shows: the listed fields, and the contacts — the stored masked
    forms (nothing decrypted), or the decrypted values when `unmasked`, labelled with the contact fields' names."""
    listed = [_as_listed(getattr(Enterprise, name), name) for name in schema(EnterpriseOut, LIST_EXCLUDE).dump_fields]
    contacts = [getattr(Enterprise, f if unmasked else f"{f}_masked").label(f) for f in CONTACT_FIELDS]
    return (*listed, *contacts)


def _as_listed(column: Any, name: str) -> Any:  # noqa: ANN401  a mapped column
    """An enum column read as its stored text (the member's value), which is what its String field shows: the
    member is not made and turned back to text (two calls a value, bench/RESULTS.md, pagefast)."""
    if isinstance(column.type, sa.Enum):
        return sa.type_coerce(column, sa.String()).label(name)
    return column


def dump_listed(rows: list[sa.Row]) -> list[dict[str, Any]]:
    """The roster list's items from rows of `list_columns`: the same JSON as `dump_enterprise` of each
    enterprise (masked contacts as stored, or the full ones when the columns were the unmasked)."""
    dump = row_dumper(EnterpriseOut, LIST_EXCLUDE)
    out = []
    for row in rows:
        mapping = row._mapping
        data = dump(mapping)
        for f in CONTACT_FIELDS:
            data[f] = mapping[f]
        out.append(data)
    return out


def dump_certification(cert: Certification, *, detail: bool = False) -> dict[str, Any]:
    """Return a title as the API shows it."""
    try:
        name = policies().tier(cert.tier, policy_code=cert.policy_code).name
    except Exception:  # noqa: BLE001  a tier dropped from the policies keeps its code
        name = cert.tier
    # terms and events tested first: hasattr() on a relationship loads it (two statements a title in a list)
    data = {c: getattr(cert, c) for c in schema(CertificationOut).fields if c not in ("terms", "events") and hasattr(cert, c)}
    data.update(tier_name=name, review_window_open=today_flag(cert, today()))
    if detail:
        data.update(terms=cert.terms, events=cert.events)
        return schema(CertificationOut).dump(data)
    return schema(CertificationOut, ("terms", "events")).dump(data)


def dump_enterprise(ent: Enterprise, *, detail: bool = False, warnings: list[str] | None = None,
                    unmasked: bool = False) -> dict[str, Any]:
    """Return an enterprise as the API shows it: contacts masked (read from the stored masked forms, nothing
    decrypted) unless `unmasked` — which the view allows only to a role that may, and records (pi.unmask)."""
    exclude = () if detail else ("certifications", "annual_reports", "change_reports")
    data = schema(EnterpriseOut, (*exclude, "certifications", "warnings", *CONTACT_FIELDS)).dump(ent)
    data.update(unmask.contacts(ent, unmasked))
    if detail:
        data["certifications"] = [dump_certification(c) for c in ent.certifications]
        session = object_session(ent)
        moved = successor(session, ent.region_code) if session is not None else None
        if moved is not None:  # registered under a code since changed: show the division in force
            data["region_current"] = {"code": moved.code, "year": moved.steps[-1].effective_year,
                                      "name": session.get(Region, moved.code).name
                                      if session.get(Region, moved.code) else None}
    if warnings is not None:
        data["warnings"] = warnings
    return data
