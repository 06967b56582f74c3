"""Code generation: new domains, routers, middleware and migrations in this project's own layout.

Templates are Jinja2 files under `templates/`; what is written is planned first (`plan.py`), so
that `--dry-run` can print it and nothing is written when any part would be refused.
"""
