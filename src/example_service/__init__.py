"""example-service: a production-grade FastAPI service template."""

__version__ = "0.1.0"
