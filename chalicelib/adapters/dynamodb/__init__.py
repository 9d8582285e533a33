"""DynamoDB persistence: one single-table design (``main``) plus the idempotency table."""
