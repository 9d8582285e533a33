"""The account centre's routes and pages (SPEC §2.10), one capability per module."""
