"""Realm esep (eTwinning): members, organisations, NSO validation, projects, pupils."""
