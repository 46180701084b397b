"""Output schemas stated in one line of field kinds: the output side of the field catalogues.

Input schemas are built from the field catalogues (registry/web/api/schemas.py `catalogue_schema`);
output schemas only say each key's JSON type, so they are built here from a compact statement:

    TermOut = out_schema("TermOut", "One validity term.",
                         "seq:int valid_from:date valid_until:date? policy_code decided_on:date document_no?")

Each word is ``name:kind``; a bare name is a string; a kind (or bare name) ending in ``?`` may be null. The fields
that need more (nested schemas, descriptions) are given by keyword and stand where the statement
names them (or after the others when it does not), so the schema keeps the order it documents.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from datetime import datetime

from marshmallow import Schema, fields
from sqlalchemy.orm import Mapped

DECIMAL_DOC = {"type": "string", "format": "decimal", "pattern": r"^\d{1,16}(\.\d{1,2})?$"}

KINDS: dict[str, Callable[..., fields.Field]] = {
    "str": fields.String,
    "int": fields.Integer,
    "bool": fields.Boolean,
    "date": fields.Date,
    "time": fields.AwareDateTime,  #: an instant, always with its offset
    "datetime": fields.DateTime,
    "dict": fields.Dict,
    "decimal": lambda **kw: fields.Decimal(as_string=True, **kw),
    "money": lambda **kw: fields.Decimal(places=2, as_string=True, metadata=DECIMAL_DOC, **kw),  #: 元, two places
    "int[]": lambda **kw: fields.List(fields.Integer(), **kw),
    "str[]": lambda **kw: fields.List(fields.String(), **kw),
}


def out_field(kind: str) -> fields.Field:
    """Return the output field of a kind of `KINDS` ("date", "str?": `?` allows null)."""
    if kind.endswith("?"):
        return KINDS[kind[:-1]](allow_none=True)
    return KINDS[kind]()


def out_schema(name: str, doc: str, statement: str, *, base: type[Schema] = Schema,
               **extra: fields.Field) -> type[Schema]:
    """Build the output schema `name` from `statement` (see the module doc) and the fields in `extra`."""
    made: dict[str, fields.Field] = {}
    for word in statement.split():
        key, _, kind = word.partition(":")
        if not kind and key.endswith("?"):
            key, kind = key[:-1], "str?"
        made[key] = extra.pop(key) if key in extra and not kind else out_field(kind or "str")
    schema = base.from_dict({**made, **extra}, name=name)
    schema.__doc__ = doc
    return schema


#: the kind of each Python type an output field may have (`out_schema_of`)
TYPE_KINDS: dict[type, str] = {int: "int", str: "str", bool: "bool", datetime: "time"}


def out_schema_of(name: str, doc: str, source: type, *names: str, **described: str) -> type[Schema]:
    """The output schema `name` of the fields `names` (default: all) of `source`, a dataclass or a model, each
    typed as `source` annotates it (Optional: may be null), so the schema never repeats its source's field list;
    `described` gives a field its OpenAPI description."""
    hints = inspect.get_annotations(source, eval_str=True)
    made: dict[str, fields.Field] = {}
    for key in names or [f.name for f in dataclasses.fields(source)]:
        hint = hints[key]
        hint = typing.get_args(hint)[0] if typing.get_origin(hint) is Mapped else hint
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        meta = {"description": described[key]} if key in described else {}
        made[key] = KINDS[TYPE_KINDS[args[0] if args else hint]](allow_none=bool(args), metadata=meta)
    schema = Schema.from_dict(made, name=name)
    schema.__doc__ = doc
    return schema
