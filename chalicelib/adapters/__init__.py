"""Adapters: the only code that talks to AWS (boto3, pynamodb), authlib and argon2."""
