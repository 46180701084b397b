"""Where a policy item comes from: the four facts every rule, list, channel and report carries.

Its own module so that `registry.domain.policy` (the loader) and `registry.domain.listings` (the
list rules it reads) share one class without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provenance:
    """Where a rule comes from: a document and article or quote; or `assumed` with a note why."""

    source: str = ""
    quote: str = ""
    assumed: bool = False
    note: str = ""
