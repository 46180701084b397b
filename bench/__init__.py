"""Benchmarks at national scale, each figure measured against its physical floor (`python -m bench`)."""
