"""Benchmarks: ``python -m bench NAME`` (or ``make bench`` for all). Not tests: each prints a
table that measures newsbrief against the competing approach in the same run."""
