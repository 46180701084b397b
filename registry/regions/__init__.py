"""Regions: the GB/T 2260 tree shipped as data, code changes, and region scoping of every read."""
