"""Pure rules of the registry: policies, lifecycle, deadlines, working days, USCC, eligibility.

Imports only the standard library and pure helpers (stdnum, chinese_calendar); never flask,
sqlalchemy or marshmallow — tests/domain/test_purity.py enforces it.
"""
