"""Benchmarks for the quality budgets of SPEC §5 (``make bench``).

These are measurements, not tests: each module measures one figure, divides it by its
reference (``boto3`` import, one argon2id verify, or a fixed number of MB) and reports
the ratio against the SPEC's budget. ``python -m bench`` runs all of them and prints a
table; it exits 0 whatever the verdicts are (budgets are watched, not enforced).
"""
