"""The account centre's self-service steps (SPEC §2.10), one capability per module."""
