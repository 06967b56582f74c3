"""Service metadata: the small public endpoint describing the running service."""
