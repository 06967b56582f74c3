"""How `example-service serve` runs uvicorn: deadlines for slow clients, parser, shutdown."""
