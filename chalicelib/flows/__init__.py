"""Application flows: the steps of each journey as plain Python over ports.

Nothing in this package imports chalice, boto3, pynamodb or authlib (a test checks).
"""
