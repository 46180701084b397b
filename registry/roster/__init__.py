"""The roster in and out: the roster page, file imports (checked, then all or nothing) and exports."""
