"""Realm esep (eTwinning): its API endpoints, pages and request/response models."""
