"""Mail templates (Jinja2, Greek and English, text and HTML) and their renderer."""
