"""File exports: the roster and the audit trail as .xlsx and CSV, safe to open in Excel."""
