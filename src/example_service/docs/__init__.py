"""API docs (Swagger UI and ReDoc) served by the app itself, under a strict CSP."""
