"""Policies at work: the loaded policy set with the working-day calendar (Rules), the calendar's overrides, and docs/policies.md."""
