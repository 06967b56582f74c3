"""The docs pages and their content security policies."""

from __future__ import annotations

# Swagger UI: all code and styles come from our own origin; its CSS embeds SVG icons as data:.
SWAGGER_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
# ReDoc styles itself with styled-components, which injects <style> elements and cannot be given
# a nonce from outside its bundle: inline styles are allowed here, inline scripts never. Its
# search index runs in a worker created from a blob: URL.
REDOC_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"


def docs_policies() -> dict[str, str]:
    return {DOCS_PATH: SWAGGER_CSP, REDOC_PATH: REDOC_CSP}
