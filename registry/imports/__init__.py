"""Roster import: .xlsx/.csv in, every row checked, a diff, then all or nothing (see `run_import`)."""

from registry.imports.run import run_import

__all__ = ["run_import"]
