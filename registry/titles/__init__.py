"""Titles (认定): granting them and applying lifecycle events; eligibility flags on live titles."""
