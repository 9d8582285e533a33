"""HTTP adapter: the only package that imports chalice.

Blueprints are named after URL areas; ``app.py`` registers them.
"""
