"""Bounds on an uploaded roster file, checked before any parser sees it (registry/roster/imports/guard.py).

Each comes from a REGISTRY_IMPORT_MAX_* environment variable (sizes in MB). The defaults take a
200,000-row announcement table of 10 columns (or 80,000 rows of 25) and keep the memory that
reading any file within them costs under 300 MB (tests/roster/test_hostile_files.py measures
the worst cases); a larger file needs larger limits and the memory to go with them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

MB = 1024 * 1024


class ImportLimitError(ValueError):
    """A REGISTRY_IMPORT_MAX_* variable is not a positive whole number."""


@dataclass(frozen=True)
class ImportLimits:
    """How large an uploaded file, its archive and its sheet may be."""

    upload_bytes: int = 20 * MB  #: the file as uploaded
    entries: int = 200  #: files inside an .xlsx archive
    entry_bytes: int = 64 * MB  #: one file of the archive, uncompressed
    total_bytes: int = 100 * MB  #: all files of the archive together, uncompressed
    ratio: int = 100  #: uncompressed / compressed size of one archive file (files over 1 MB)
    rows: int = 200_000  #: data rows; a sheet may reach this row number plus a few header lines
    columns: int = 100  #: the last column of the sheet (100 = CV)
    cells: int = 2_000_000  #: cells of the sheet: its area from A1 to the last row and column, and cell tags
    shared_strings: int = 300_000  #: distinct texts of an .xlsx (its shared strings table)
    shared_strings_bytes: int = 16 * MB  #: the shared strings table, uncompressed
    line_bytes: int = 1 * MB  #: one line of a CSV file

    #: the environment variable of each limit, and whether it is given in MB
    ENV = {"upload_bytes": ("REGISTRY_IMPORT_MAX_UPLOAD_MB", True),
           "entries": ("REGISTRY_IMPORT_MAX_ENTRIES", False),
           "entry_bytes": ("REGISTRY_IMPORT_MAX_ENTRY_MB", True),
           "total_bytes": ("REGISTRY_IMPORT_MAX_UNZIPPED_MB", True),
           "ratio": ("REGISTRY_IMPORT_MAX_RATIO", False),
           "rows": ("REGISTRY_IMPORT_MAX_ROWS", False),
           "columns": ("REGISTRY_IMPORT_MAX_COLUMNS", False),
           "cells": ("REGISTRY_IMPORT_MAX_CELLS", False),
           "shared_strings": ("REGISTRY_IMPORT_MAX_SHARED_STRINGS", False),
           "shared_strings_bytes": ("REGISTRY_IMPORT_MAX_SHARED_STRINGS_MB", True),
           "line_bytes": ("REGISTRY_IMPORT_MAX_LINE_KB", None)}

    @classmethod
    def from_env(cls, env: dict[str, str]) -> ImportLimits:
        """Read the REGISTRY_IMPORT_MAX_* variables. :raises ImportLimitError: naming the variable."""
        values: dict[str, int] = {}
        for f in fields(cls):
            name, in_mb = cls.ENV[f.name]
            raw = env.get(name, "").strip()
            if not raw:
                continue
            try:
                number = int(raw)
            except ValueError:
                number = 0
            if number <= 0:
                raise ImportLimitError(f"{name} must be a positive whole number, not {raw!r}")
            values[f.name] = number * (MB if in_mb else 1024 if in_mb is None else 1)
        return cls(**values)
