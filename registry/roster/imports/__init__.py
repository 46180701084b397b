"""Roster import: .xlsx/.csv in, every row checked, a diff, then all or nothing (see `run_import`)."""

from registry.roster.imports.run import process_import, queue_import, run_import

__all__ = ["process_import", "queue_import", "run_import"]
